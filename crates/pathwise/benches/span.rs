//! Hot-path cost of a span start + end with recording ON, against fastrace, tracing and
//! tracing + OpenTelemetry.
//!
//! Every contender really records: pathwise hands its records to the writer thread (which
//! writes them to a store that discards them), fastrace reports to a no-op reporter through its
//! global collector thread, tracing runs a `Registry` with a layer that times every span, and
//! `tracing-otel` is what most Rust users pick to export traces: `tracing` spans through
//! `tracing-opentelemetry` into the OpenTelemetry SDK, with its default batch processor
//! (a background thread, a 2,048-span queue) and an exporter that counts and discards.
//!
//! Each contender runs in timed slices of 10,000 spans; between slices (untimed) its background
//! side is allowed to catch up: `Pathwise::flush` (the writer has stored everything) for
//! pathwise, `fastrace::flush` for fastrace, `force_flush` for the OpenTelemetry SDK, nothing
//! for tracing (it has no background side).
//! This measures the cost on the instrumented thread while the pipeline keeps up, which is the
//! normal regime. Everything inside a slice is timed, including pathwise handing its thread
//! buffer over every 1024 records and fastrace submitting a finished root.
//!
//! Rows of group `span`:
//! - `child_open_root/*`: a child span under one root that stays open (pathwise, tracing).
//!   fastrace is absent here: its local span queue holds 10,240 spans per root and silently
//!   stops recording after that.
//! - `child/*`: children in chunks of 100 under a fresh root each; the time includes the root
//!   and the hand-over of the chunk, divided over its 100 children. This is the
//!   apples-to-apples comparison of the three.
//! - `root/*`: a root span per iteration (a new trace each time; pathwise hands its thread
//!   buffer over at every root end, fastrace submits the root to its collector).
//! - `flat_out_child_open_root/pathwise`: the literal form, `b.iter` with no pause at
//!   all. One thread creating ~30 M spans/s outruns the writer thread (even with a store that
//!   discards), the bounded queue fills and the producer switches to writing spill files,
//!   which is about ten times slower per span. Kept as a diagnostic of that regime.

use pathwise::testing::paced;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// Children per root in the `child/*` rows.
const CHUNK: u64 = 100;
/// Spans per timed slice.
const SLICE: u64 = 10_000;

/// fastrace reporter that drops what it is given.
struct NoopReporter;

impl fastrace::collector::Reporter for NoopReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        black_box(spans.len());
    }
}

/// An honest recording tracing layer: stamps every new span with its start time and, on close,
/// adds its duration to a counter.
struct TimingLayer {
    closed: AtomicU64,
    total_ns: AtomicU64,
}

struct Started(Instant);

impl<S> tracing_subscriber::Layer<S> for TimingLayer
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Started(Instant::now()));
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(started) = span.extensions().get::<Started>()
        {
            let ns = started.0.elapsed().as_nanos() as u64;
            self.total_ns.fetch_add(ns, Ordering::Relaxed);
            self.closed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// After a pathwise row: waits until the writer has stored everything (so it does not steal
/// CPU from the next row) and reports how many records the row pushed into spill files.
fn settle(
    pathwise: &pathwise::Pathwise,
    row: &str,
    before: pathwise::PipelineStats,
) -> pathwise::PipelineStats {
    let flushed = pathwise.flush(Duration::from_secs(300));
    let after = pathwise.stats();
    eprintln!(
        "  [{row}] recorded {} spilled {} ({:.1}%) flushed={flushed}",
        after.recorded - before.recorded,
        after.spilled - before.spilled,
        100.0 * (after.spilled - before.spilled) as f64
            / (after.recorded - before.recorded).max(1) as f64,
    );
    after
}

/// Runs `n` children in chunks of [`CHUNK`], each chunk under a root made by `root`.
fn chunked<R>(n: u64, mut root: impl FnMut() -> R, mut child: impl FnMut()) {
    let mut left = n;
    while left > 0 {
        let k = left.min(CHUNK);
        let guard = root();
        for _ in 0..k {
            child();
        }
        drop(guard);
        left -= k;
    }
}

/// `n` iterations of `f`.
fn repeat(n: u64, mut f: impl FnMut()) {
    for _ in 0..n {
        f();
    }
}

/// The three row shapes of the module documentation.
#[derive(Clone, Copy)]
enum Shape {
    ChildOpenRoot,
    Child,
    Root,
}

/// One `tracing` row of `shape` under `dispatch`, with `catch_up` between slices; `made`, if
/// given, counts the spans it creates (roots included, roughly for `ChildOpenRoot`'s one root).
fn tracing_row(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    row: &str,
    shape: Shape,
    dispatch: &tracing::Dispatch,
    catch_up: impl Fn() + Copy,
    made: Option<&AtomicU64>,
) {
    let child = || {
        let _s = tracing::info_span!("child").entered();
    };
    group.bench_function(row, |b| {
        tracing::dispatcher::with_default(dispatch, || {
            let _root = matches!(shape, Shape::ChildOpenRoot)
                .then(|| tracing::info_span!("root").entered());
            b.iter_custom(|iters| {
                let roots = match shape {
                    Shape::ChildOpenRoot => 0,
                    Shape::Child => iters.div_ceil(CHUNK),
                    Shape::Root => iters,
                };
                let children = if matches!(shape, Shape::Root) {
                    0
                } else {
                    iters
                };
                if let Some(made) = made {
                    made.fetch_add(roots + children, Ordering::Relaxed);
                }
                paced(iters, SLICE, catch_up, |n| match shape {
                    Shape::ChildOpenRoot => repeat(n, child),
                    Shape::Child => chunked(n, || tracing::info_span!("root").entered(), child),
                    Shape::Root => repeat(n, || {
                        let _s = tracing::info_span!("root").entered();
                    }),
                })
            })
        })
    });
}

fn bench_spans(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = pathwise::Config {
        db_path: dir.path().join("unused.db"),
        data_dir: Some(dir.path().join("spool")),
        ..pathwise::Config::default()
    };
    let pathwise = pathwise::init_with_store(config, Box::new(pathwise_store::DiscardStore))
        .expect("pathwise init");

    fastrace::set_reporter(NoopReporter, fastrace::collector::Config::default());

    let layer = TimingLayer {
        closed: AtomicU64::new(0),
        total_ns: AtomicU64::new(0),
    };
    let timing = tracing::Dispatch::new(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        layer,
    ));

    let otel = pathwise_test_support::TracingOtel::new();
    let flush_otel = || otel.flush();
    let otel_created = AtomicU64::new(0);

    let mut group = c.benchmark_group("span");
    let mut stats = pathwise.stats();

    let flush_pathwise = || {
        pathwise.flush(Duration::from_secs(300));
    };
    let flush_fastrace = fastrace::flush;
    let nothing = || {};
    // Both `tracing` contenders run every shape the same way, after pathwise's row.
    let tracing_rows = |group: &mut criterion::BenchmarkGroup<'_, _>, shape, prefix: &str| {
        tracing_row(
            group,
            &format!("{prefix}/tracing"),
            shape,
            &timing,
            nothing,
            None,
        );
        tracing_row(
            group,
            &format!("{prefix}/tracing-otel"),
            shape,
            &otel.dispatch,
            flush_otel,
            Some(&otel_created),
        );
    };

    // --- child span under a root that stays open (the form) ---
    group.bench_function("child_open_root/pathwise", |b| {
        let _root = pathwise::span("root");
        b.iter_custom(|iters| {
            paced(iters, SLICE, flush_pathwise, |n| {
                repeat(n, || {
                    let _s = pathwise::span("child");
                })
            })
        });
    });
    stats = settle(&pathwise, "child_open_root/pathwise", stats);
    tracing_rows(&mut group, Shape::ChildOpenRoot, "child_open_root");
    // --- child spans, 100 per fresh root: same shape for all ---
    group.bench_function("child/pathwise", |b| {
        b.iter_custom(|iters| {
            paced(iters, SLICE, flush_pathwise, |n| {
                chunked(
                    n,
                    || pathwise::span("root"),
                    || {
                        let _s = pathwise::span("child");
                    },
                )
            })
        });
    });
    stats = settle(&pathwise, "child/pathwise", stats);
    group.bench_function("child/fastrace", |b| {
        b.iter_custom(|iters| {
            paced(iters, SLICE, flush_fastrace, |n| {
                chunked(
                    n,
                    || {
                        let root =
                            fastrace::Span::root("root", fastrace::prelude::SpanContext::random());
                        let guard = root.set_local_parent();
                        (guard, root) // the guard drops first, then the root
                    },
                    || {
                        let _s = fastrace::local::LocalSpan::enter_with_local_parent("child");
                    },
                )
            })
        });
    });
    tracing_rows(&mut group, Shape::Child, "child");

    // --- root spans: every iteration is a new trace ---
    group.bench_function("root/pathwise", |b| {
        b.iter_custom(|iters| {
            paced(iters, SLICE, flush_pathwise, |n| {
                repeat(n, || {
                    let _s = pathwise::span("root");
                })
            })
        });
    });
    stats = settle(&pathwise, "root/pathwise", stats);
    group.bench_function("root/fastrace", |b| {
        b.iter_custom(|iters| {
            paced(iters, SLICE, flush_fastrace, |n| {
                repeat(n, || {
                    let root =
                        fastrace::Span::root("root", fastrace::prelude::SpanContext::random());
                    let _g = root.set_local_parent();
                })
            })
        });
    });
    tracing_rows(&mut group, Shape::Root, "root");

    // --- the literal form, no pause: saturates the writer (see the module docs) ---
    group.bench_function("flat_out_child_open_root/pathwise", |b| {
        let _root = pathwise::span("root");
        b.iter(|| {
            let _s = pathwise::span("child");
        });
    });
    settle(&pathwise, "flat_out_child_open_root/pathwise", stats);
    group.finish();

    // The open roots of the child_open_root rows ended with their rows, so every span
    // created has ended; what the exporter did not get, the SDK's full queue dropped.
    otel.flush();
    let created = otel_created.load(Ordering::Relaxed);
    let exported = otel.exported();
    eprintln!(
        "  [tracing-otel] exported {exported} of about {created} spans created ({:.1}% dropped by its queue)",
        100.0 * created.saturating_sub(exported) as f64 / created.max(1) as f64
    );
    drop(otel);

    let stats = pathwise.shutdown();
    pathwise::testing::check_pipeline(&stats);
    fastrace::flush();
}

criterion_group!(benches, bench_spans);
criterion_main!(benches);
