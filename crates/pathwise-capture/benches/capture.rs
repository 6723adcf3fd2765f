//! Hot-path cost of capturing a typical monitored call: two small arguments
//! and a small struct result. The target is well under 1 µs for all three.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pathwise_capture::{CaptureOptions, capture};
use serde::Serialize;

#[derive(Serialize)]
struct Reply {
    id: u64,
    name: &'static str,
    ok: bool,
}

fn bench_capture(c: &mut Criterion) {
    let opts = CaptureOptions::default();
    let name: &str = "hello world";
    let count = 42u64;
    let reply = Reply {
        id: 7,
        name: "done",
        ok: true,
    };

    c.bench_function("capture/str_arg", |b| {
        b.iter(|| capture!(black_box(&name), &opts))
    });
    c.bench_function("capture/u64_arg", |b| {
        b.iter(|| capture!(&black_box(count), &opts))
    });
    c.bench_function("capture/struct_result", |b| {
        b.iter(|| capture!(black_box(&reply), &opts))
    });
    c.bench_function("capture/call_total", |b| {
        b.iter(|| {
            (
                capture!(black_box(&name), &opts),
                capture!(&black_box(count), &opts),
                capture!(black_box(&reply), &opts),
            )
        })
    });
}

criterion_group!(benches, bench_capture);
criterion_main!(benches);
