//! What a tracing span costs on the instrumented thread through the Pathwise layer, against the
//! same span through `tracing_subscriber::fmt` writing to `std::io::sink`, against no
//! subscriber at all; `pathwise_native` is the same span through the SDK directly.
//!
//! Pathwise really records: its records go through the pipeline to a store that discards them.
//! As in the SDK's `span` bench, rows run in timed slices of 10,000 spans and the pipeline is
//! allowed to catch up between slices (untimed), so the figure is the cost while the writer
//! keeps up, the normal regime. Spans are children in chunks of 100 under a fresh root; the
//! root's cost is included, divided over its children.
//!
//! Rows of group `layer`:
//! - `span/*`: `info_span!("child", n, ok)` entered and dropped.
//! - `span_with_event/*`: the same with an `info!` inside (the fmt layer writes a line, the
//!   Pathwise layer counts it).
//!
//! The subscriber of each row is set with `dispatcher::with_default`; because several
//! dispatchers exist in the process, tracing asks the current one whether each span is enabled
//! (its callsite cache says "sometimes"), `no_subscriber` included.

use pathwise::testing::paced;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// Children per root.
const CHUNK: u64 = 100;
/// Spans per timed slice.
const SLICE: u64 = 10_000;

/// Runs `n` children in chunks of [`CHUNK`], each chunk under a root made by `root`.
fn chunked<R>(n: u64, mut root: impl FnMut() -> R, mut child: impl FnMut(u64)) {
    let mut left = n;
    while left > 0 {
        let k = left.min(CHUNK);
        let guard = root();
        for i in 0..k {
            child(i);
        }
        drop(guard);
        left -= k;
    }
}

fn tracing_child(i: u64) {
    let _s = tracing::info_span!("child", n = i, ok = true).entered();
    black_box(&_s);
}

fn tracing_child_with_event(i: u64) {
    let _s = tracing::info_span!("child", n = i, ok = true).entered();
    tracing::info!("done");
}

fn bench_layer(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = pathwise::Config {
        db_path: dir.path().join("unused.db"),
        data_dir: Some(dir.path().join("spool")),
        resource_interval: None,
        ..pathwise::Config::default()
    };
    let pathwise = pathwise::init_with_store(config, Box::new(pathwise_store::DiscardStore))
        .expect("pathwise init");
    let flush = || {
        pathwise.flush(Duration::from_secs(300));
    };
    let nothing = || {};

    let contenders: [(&str, Dispatch); 3] = [
        (
            "pathwise_layer",
            Dispatch::new(tracing_subscriber::registry().with(pathwise_tracing::layer())),
        ),
        (
            "fmt_sink",
            Dispatch::new(
                tracing_subscriber::fmt()
                    .with_writer(std::io::sink)
                    .finish(),
            ),
        ),
        ("no_subscriber", Dispatch::none()),
    ];

    let mut group = c.benchmark_group("layer");
    for (row, child) in [
        ("span", tracing_child as fn(u64)),
        ("span_with_event", tracing_child_with_event),
    ] {
        for (name, dispatch) in &contenders {
            let settle: &dyn Fn() = if *name == "pathwise_layer" {
                &flush
            } else {
                &nothing
            };
            tracing::dispatcher::with_default(dispatch, || {
                group.bench_function(format!("{row}/{name}"), |b| {
                    b.iter_custom(|iters| {
                        paced(iters, SLICE, settle, |n| {
                            chunked(n, || tracing::info_span!("root").entered(), child)
                        })
                    });
                });
            });
        }
    }
    group.bench_function("span/pathwise_native", |b| {
        b.iter_custom(|iters| {
            paced(iters, SLICE, flush, |n| {
                chunked(
                    n,
                    || pathwise::span("root"),
                    |i| {
                        let _s = pathwise::span("child").attr("n", i).attr("ok", true);
                    },
                )
            })
        });
    });
    group.finish();

    let stats = pathwise.shutdown();
    pathwise::testing::check_pipeline(&stats);
}

criterion_group!(benches, bench_layer);
criterion_main!(benches);
