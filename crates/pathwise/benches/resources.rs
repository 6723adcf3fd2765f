//! Cost of one resource sample (`pathwise::ResourceSampler`), process and host parts apart.
//!
//! Two measurements:
//! - criterion rows `resources/{process,host,sample}`: back-to-back samples. sysinfo re-reads
//!   `/proc/stat` (CPU times) at most every 200 ms, so in a tight loop most iterations skip
//!   that read: these rows are the floor.
//! - `spaced`: samples taken 250 ms apart (each one does every read, as the sampler thread's
//!   do at its ≥ 100 ms intervals), timed one by one; the median and p90 are printed.
//!
//! `cargo bench -p pathwise --bench resources`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use pathwise::ResourceSampler;

fn bench_resources(c: &mut Criterion) {
    let mut group = c.benchmark_group("resources");
    let mut sampler = ResourceSampler::new();
    group.bench_function("process", |b| {
        b.iter(|| black_box(sampler.sample_process()))
    });
    group.bench_function("host", |b| b.iter(|| black_box(sampler.sample_host())));
    group.bench_function("sample", |b| b.iter(|| black_box(sampler.sample())));
    group.finish();
}

criterion_group!(benches, bench_resources);

/// Median and 90th percentile of `f`, called `n` times `gap` apart.
fn spaced<T>(n: usize, gap: Duration, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            std::thread::sleep(gap);
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[n / 2], times[(n * 9 / 10).min(n - 1)])
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Under `cargo test --benches` only check that it runs.
    let n = if std::env::args().any(|a| a == "--bench") {
        40
    } else {
        3
    };
    let gap = Duration::from_millis(250);
    let mut sampler = ResourceSampler::new();
    let (process, process_p90) = spaced(n, gap, || sampler.sample_process());
    let (host, host_p90) = spaced(n, gap, || sampler.sample_host());
    let (whole, whole_p90) = spaced(n, gap, || sampler.sample());
    println!("spaced ({n} samples, {gap:?} apart), median / p90:");
    println!("  process {process:>10.1?} / {process_p90:.1?}");
    println!("  host    {host:>10.1?} / {host_p90:.1?}");
    println!("  sample  {whole:>10.1?} / {whole_p90:.1?}");
}
