//! Hot-path cost of capturing a monitored call, as `#[monitor]` does it (`capture_into!`
//! into a reused buffer): two small arguments and a small struct result (target: well under
//! 1 µs for all three), and the payload-heavy call of `pathwise-bench payload` (a 10-field
//! request, a 100-character query, a struct result of several datasets).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pathwise_capture::{CaptureOptions, capture_into};
use pathwise_test_support::payload::{request, source_results};
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
    let mut out = Vec::with_capacity(4096);
    let mut row = |id: &str, capture: &mut dyn FnMut(&mut Vec<u8>)| {
        c.bench_function(id, |b| {
            b.iter(|| {
                out.clear();
                capture(&mut out);
                black_box(out.len())
            })
        });
    };
    row("capture/str_arg", &mut |out| {
        capture_into!(black_box(&name), &opts, out)
    });
    row("capture/u64_arg", &mut |out| {
        capture_into!(&black_box(count), &opts, out)
    });
    row("capture/struct_result", &mut |out| {
        capture_into!(black_box(&reply), &opts, out)
    });
    row("capture/call_total", &mut |out| {
        capture_into!(black_box(&name), &opts, out);
        capture_into!(&black_box(count), &opts, out);
        capture_into!(black_box(&reply), &opts, out);
    });
    let (search, query) = request(5);
    let found = source_results("GEO", &search, &query);
    row("capture/payload_call_total", &mut |out| {
        capture_into!(black_box(&search), &opts, out);
        capture_into!(black_box(&query), &opts, out);
        capture_into!(black_box(&found), &opts, out);
    });
}

criterion_group!(benches, bench_capture);
criterion_main!(benches);
