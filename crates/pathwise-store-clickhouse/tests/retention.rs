//! Retention on a real two-shard cluster drops whole day partitions: spans, traces and
//! rollups of the days before the cutoff's day are gone from every shard, the cutoff's own day
//! is kept whole, and resource samples are trimmed to the cutoff exactly.

use pathwise_model::{Record, ResourceSample, SpanKind, SpanRecord, TraceId};
use pathwise_store::{Backend, Window};
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;
/// Midnight UTC that starts "today" in this test (2026-12-01).
const TODAY_MS: u64 = 1_796_083_200_000;

/// `count` one-span traces at `at_ms`, ids numbered from `first`.
fn traces(at_ms: u64, count: u64, first: u64) -> Vec<Record> {
    (0..count)
        .map(|i| {
            let mut span = SpanRecord::new(
                TraceId::from_parts(at_ms, u128::from(first + i)),
                1,
                0,
                "nightly.job".into(),
                SpanKind::Function,
            );
            span.start_ns = at_ms as i64 * 1_000_000;
            span.duration_ns = 1_000_000;
            Record::Span(span)
        })
        .collect()
}

fn sample(at_ms: u64) -> Record {
    Record::Resource(ResourceSample {
        ts_ns: at_ms as i64 * 1_000_000,
        process: Default::default(),
        host: Default::default(),
    })
}

#[test]
fn whole_days_before_the_cutoff_day_are_dropped_on_every_shard() {
    let Some(cluster) = Cluster::start(18203) else {
        return;
    };
    let backend = ClickHouseBackend::connect(&cluster.url("pw_retention")).unwrap();
    let mut records = Vec::new();
    // Noon of three days ago and two days ago: 10 traces each (on both shards).
    records.extend(traces(TODAY_MS - 3 * DAY_MS + 12 * HOUR_MS, 10, 1));
    records.extend(traces(TODAY_MS - 2 * DAY_MS + 12 * HOUR_MS, 10, 100));
    // Yesterday at 04:00, before the cutoff but on the cutoff's day, and at 20:00.
    records.extend(traces(TODAY_MS - DAY_MS + 4 * HOUR_MS, 7, 200));
    records.extend(traces(TODAY_MS - DAY_MS + 20 * HOUR_MS, 5, 300));
    records.extend(traces(TODAY_MS + HOUR_MS, 3, 400));
    for hours_before in [60, 40, 16, 12, 1] {
        records.push(sample(TODAY_MS - hours_before * HOUR_MS));
    }
    let mut writer = backend.writer().unwrap();
    writer.write_records(&records).unwrap();

    // What `pathwise db stats` and the size signal read: every shard's parts.
    let reader = backend.reader().unwrap();
    let before = reader.storage_use(true).unwrap();
    let rows = |usage: &pathwise_store::StorageUse, table: &str| {
        usage
            .tables
            .iter()
            .find(|(t, _)| t == table)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(rows(&before, "spans"), 35, "{before:?}");
    assert_eq!(
        (before.oldest_trace_ms, before.newest_trace_ms),
        (
            Some(TODAY_MS - 3 * DAY_MS + 12 * HOUR_MS),
            Some(TODAY_MS + HOUR_MS)
        )
    );
    assert!(before.file_bytes > 0 && before.used_bytes == before.file_bytes);

    // Keep what started after yesterday 10:00.
    let cutoff_ms = TODAY_MS - DAY_MS + 10 * HOUR_MS;
    assert_eq!(writer.delete_before(cutoff_ms).unwrap(), 20);
    let after = writer.storage_use().unwrap();
    assert!(
        after.file_bytes < before.file_bytes,
        "{before:?} → {after:?}"
    );
    assert_eq!(after.oldest_trace_ms, Some(TODAY_MS - DAY_MS + 4 * HOUR_MS));
    assert_eq!(
        reader
            .trace_stats(&pathwise_store::TraceFilter::default())
            .unwrap()
            .total,
        15
    );
    assert_eq!(reader.error_rate_since(0).unwrap().spans, 15);
    let calls: i64 = reader
        .path_rollups(Window::all())
        .unwrap()
        .iter()
        .map(|r| r.bucket.calls)
        .sum();
    assert_eq!(calls, 15, "the rollups of dropped days go with them");
    let expected: Vec<i64> = [12, 1]
        .iter()
        .map(|h| (TODAY_MS - h * HOUR_MS) as i64)
        .collect();
    // Trimming a table row by row is a mutation, which ClickHouse applies in the background.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let samples = reader.resource_samples(0, None, 100).unwrap();
        let kept: Vec<i64> = samples.iter().map(|s| s.ts_ns / 1_000_000).collect();
        if kept == expected || std::time::Instant::now() > deadline {
            assert_eq!(kept, expected, "resource samples are trimmed to the cutoff");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // A second run finds nothing more to drop.
    assert_eq!(writer.delete_before(cutoff_ms).unwrap(), 0);
    assert_eq!(
        reader
            .trace_stats(&pathwise_store::TraceFilter::default())
            .unwrap()
            .total,
        15
    );
}
