//! Resource samples: written with spans, read back by time window, removed by retention.

use pathwise_model::{
    HostResources, ProcessResources, Record, ResourceSample, SpanKind, SpanRecord, TraceId,
};
use pathwise_store::{MemoryStore, NoPaths, ReadStore, Store, WriteBatch};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

const MS: i64 = 1_000_000;
const BASE_MS: u64 = 1_800_000_000_000;

fn sample(ts_ns: i64, n: u64) -> ResourceSample {
    ResourceSample {
        ts_ns,
        process: ProcessResources {
            cpu_pct: 12.5 + n as f32,
            rss_bytes: (100 + n) << 20,
            virtual_bytes: 4 << 30,
            disk_read_bytes: 1000 * n,
            disk_write_bytes: 2000 * n,
            threads: 3 + n as u32,
            open_fds: 10 + n as u32,
        },
        host: HostResources {
            cpu_pct: 40.25,
            mem_used_bytes: 8 << 30,
            mem_available_bytes: 16 << 30,
            net_rx_bytes: u64::MAX, // clamped to SQLite's i64 range
            net_tx_bytes: 5555 * n,
        },
    }
}

fn write(store: &mut dyn Store, records: &[Record]) {
    store
        .write_batch(
            &WriteBatch {
                records,
                ..WriteBatch::EMPTY
            },
            &NoPaths,
        )
        .unwrap();
}

#[test]
fn samples_round_trip_in_time_order_and_replays_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("res.db");
    let mut store = SqliteStore::open(&db).unwrap();
    // resource_samples arrived with v4.
    assert!(store.schema_version().unwrap() >= 4);
    let base = BASE_MS as i64 * MS;
    // Written out of order and mixed with a span: the reader returns time order.
    let samples: Vec<ResourceSample> = (0..5)
        .map(|i| sample(base + i * 1000 * MS, i as u64))
        .collect();
    let span = SpanRecord::new(
        TraceId::from_parts(BASE_MS, 1),
        1,
        0,
        "op".into(),
        SpanKind::Span,
    );
    let mut records: Vec<Record> = samples.iter().rev().map(|s| Record::Resource(*s)).collect();
    records.insert(2, Record::Span(span));
    write(&mut store, &records);
    // A replay (spill or error lane after a crash) must not duplicate rows.
    write(&mut store, &records[..3]);

    let reader = SqliteReader::open(&db).unwrap();
    let all = reader.resource_samples(i64::MIN, None, 100).unwrap();
    let mut expected = samples.clone();
    for s in &mut expected {
        s.host.net_rx_bytes = i64::MAX as u64;
    }
    assert_eq!(all, expected);
    // Window [since, until) and limit, oldest first.
    let window = reader
        .resource_samples(base + 1000 * MS, Some(base + 4000 * MS), 100)
        .unwrap();
    assert_eq!(
        window.iter().map(|s| s.ts_ns).collect::<Vec<_>>(),
        vec![base + 1000 * MS, base + 2000 * MS, base + 3000 * MS]
    );
    let limited = reader.resource_samples(base, None, 2).unwrap();
    assert_eq!(limited, expected[..2]);
    assert!(reader.resource_samples(base, None, 0).unwrap().is_empty());
    assert_eq!(
        reader
            .list_traces(&Default::default())
            .unwrap()
            .traces
            .len(),
        1
    );
}

#[test]
fn retention_removes_old_samples_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("res.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let day_ms = 86_400_000u64;
    let stamps_ms = [
        BASE_MS - 10 * day_ms,
        BASE_MS - 8 * day_ms,
        BASE_MS - day_ms,
        BASE_MS,
    ];
    let records: Vec<Record> = stamps_ms
        .iter()
        .enumerate()
        .map(|(i, ms)| Record::Resource(sample(*ms as i64 * MS, i as u64)))
        .collect();
    write(&mut store, &records);
    store.delete_before(BASE_MS - 7 * day_ms).unwrap();
    let reader = SqliteReader::open(&db).unwrap();
    let left: Vec<i64> = reader
        .resource_samples(i64::MIN, None, 100)
        .unwrap()
        .iter()
        .map(|s| s.ts_ns)
        .collect();
    assert_eq!(
        left,
        vec![(BASE_MS - day_ms) as i64 * MS, BASE_MS as i64 * MS]
    );

    // The in-memory store keeps and expires them the same way.
    let memory = MemoryStore::default();
    write(&mut memory.clone(), &records);
    assert_eq!(memory.resource_samples().len(), 4);
    assert_eq!(memory.paths(), vec![String::new(); 4]);
    memory.clone().delete_before(BASE_MS - 7 * day_ms).unwrap();
    assert_eq!(
        memory
            .resource_samples()
            .iter()
            .map(|s| s.ts_ns)
            .collect::<Vec<_>>(),
        left
    );
}
