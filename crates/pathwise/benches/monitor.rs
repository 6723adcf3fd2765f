//! Cost of a `#[pathwise::monitor]` call with recording ON: two small arguments (`&str`, `u64`)
//! and a small result captured, against the same function with capture off and unmonitored.
//!
//! The records go to the writer thread and a store that discards them (the hand-over is
//! amortised: a thread buffer holds 1024 records). Each call runs under an open root span, as
//! a monitored function called from instrumented code would; `call_as_root/*` rows call the
//! function outside any span, so every call is a new trace and hands its buffer over.
//!
//! Calls are timed in slices of 10,000; between slices (untimed) `Pathwise::flush` lets the
//! writer catch up, so the figures are those of the normal regime in which the pipeline keeps
//! up. Without the pause a tight loop of ~100 ns calls outruns the writer, the bounded queue
//! fills and producers switch to the (much slower) spill files; see `BENCHMARKS.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[derive(Debug, serde::Serialize)]
struct Hit {
    id: u64,
    score: u32,
}

fn lookup_plain(query: &str, limit: u64) -> Result<Hit, String> {
    if query.is_empty() {
        return Err("empty query".into());
    }
    Ok(Hit {
        id: query.len() as u64 + limit,
        score: 7,
    })
}

#[pathwise::monitor]
fn lookup_captured(query: &str, limit: u64) -> Result<Hit, String> {
    lookup_plain(query, limit)
}

#[pathwise::monitor(capture_args = false, capture_result = false)]
fn lookup_uncaptured(query: &str, limit: u64) -> Result<Hit, String> {
    lookup_plain(query, limit)
}

#[pathwise::monitor]
fn count_captured(query: &str, limit: u64) -> Result<u64, String> {
    lookup_plain(query, limit).map(|h| h.id)
}

/// Calls per timed slice.
const SLICE: u64 = 10_000;

/// Times `iters` calls of `f` in slices of [`SLICE`], running `settle` (untimed) between them.
fn paced<R>(iters: u64, settle: impl FnMut(), mut f: impl FnMut() -> R) -> Duration {
    pathwise::testing::paced(iters, SLICE, settle, |n| {
        for _ in 0..n {
            black_box(f());
        }
    })
}

fn bench_monitor(c: &mut Criterion) {
    let mut group = c.benchmark_group("monitor");
    // Recording off first: the call must then cost one atomic load.
    group.bench_function("recording_off/captured", |b| {
        b.iter(|| lookup_captured(black_box("brca1 variant"), black_box(10)))
    });

    let dir = tempfile::tempdir().expect("temp dir");
    let config = pathwise::Config {
        db_path: dir.path().join("unused.db"),
        data_dir: Some(dir.path().join("spool")),
        ..pathwise::Config::default()
    };
    let pathwise = pathwise::init_with_store(config, Box::new(pathwise_store::DiscardStore))
        .expect("pathwise init");

    let flush = || {
        pathwise.flush(Duration::from_secs(300));
    };
    group.bench_function("plain_call", |b| {
        b.iter(|| lookup_plain(black_box("brca1 variant"), black_box(10)))
    });
    {
        let _root = pathwise::span("root");
        group.bench_function("captured_struct_result", |b| {
            b.iter_custom(|iters| {
                paced(iters, flush, || {
                    lookup_captured(black_box("brca1 variant"), black_box(10))
                })
            })
        });
        group.bench_function("captured_u64_result", |b| {
            b.iter_custom(|iters| {
                paced(iters, flush, || {
                    count_captured(black_box("brca1 variant"), black_box(10))
                })
            })
        });
        group.bench_function("uncaptured", |b| {
            b.iter_custom(|iters| {
                paced(iters, flush, || {
                    lookup_uncaptured(black_box("brca1 variant"), black_box(10))
                })
            })
        });
    }
    group.bench_function("call_as_root/captured", |b| {
        b.iter_custom(|iters| {
            paced(iters, flush, || {
                lookup_captured(black_box("brca1 variant"), black_box(10))
            })
        })
    });
    group.bench_function("call_as_root/uncaptured", |b| {
        b.iter_custom(|iters| {
            paced(iters, flush, || {
                lookup_uncaptured(black_box("brca1 variant"), black_box(10))
            })
        })
    });
    group.finish();

    let stats = pathwise.shutdown();
    pathwise::testing::check_pipeline(&stats);
}

criterion_group!(benches, bench_monitor);
criterion_main!(benches);
