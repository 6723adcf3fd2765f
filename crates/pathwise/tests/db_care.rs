//! Size-based retention on a real SQLite file: the oldest hours go until the file holds less
//! than its limit, the newest data stays whole, and the file itself shrinks.

use std::time::Duration;

use pathwise::Config;
use pathwise_model::{AttrValue, Record, SpanKind, SpanRecord, TraceId};
use pathwise_store::Store;
use pathwise_store_sqlite::SqliteStore;

const HOURS: u64 = 10;
const TRACES_PER_HOUR: u64 = 1_500;
const HOUR_MS: u64 = 3_600_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Ten hours of traces, an hour apart, each trace a root and a child with some attributes.
fn write_history(db: &std::path::Path, start_ms: u64) {
    let mut store = SqliteStore::open(db).unwrap();
    for hour in 0..HOURS {
        let mut records = Vec::new();
        for i in 0..TRACES_PER_HOUR {
            let at_ms = start_ms + hour * HOUR_MS + i;
            let trace = TraceId::from_parts(at_ms, (hour * TRACES_PER_HOUR + i) as u128 + 1);
            let mut root = SpanRecord::new(trace, 1, 0, "request".into(), SpanKind::Span);
            root.start_ns = at_ms as i64 * 1_000_000;
            root.duration_ns = 2_000_000;
            let mut child = SpanRecord::new(trace, 2, 1, "load".into(), SpanKind::Span);
            child.start_ns = root.start_ns + 100_000;
            child.duration_ns = 1_000_000;
            let details = child.details_mut();
            details.attrs.push((
                "query".into(),
                AttrValue::Str(format!("item-{i:06}-{hour}").into()),
            ));
            details.input = Some(format!(r#"{{"page":{i},"filter":"hour {hour}"}}"#));
            records.push(Record::Span(child));
            records.push(Record::Span(root));
        }
        store.write_records(&records).unwrap();
    }
}

fn trace_hours(db: &std::path::Path, start_ms: u64) -> Vec<(u64, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut query = conn
        .prepare("SELECT (start_ns / 1000000 - ?1) / ?2 AS hour, count(*) FROM traces GROUP BY hour ORDER BY hour")
        .unwrap();
    query
        .query_map([start_ms as i64, HOUR_MS as i64], |row| {
            Ok((row.get::<_, i64>(0)? as u64, row.get(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn the_oldest_hours_go_until_the_store_fits_and_the_file_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pathwise.db");
    let start_ms = now_ms() - (HOURS + 1) * HOUR_MS;
    write_history(&db, start_ms);
    let before = SqliteStore::open(&db).unwrap().storage_use().unwrap();
    assert_eq!(
        before.reclaim, "incremental",
        "a new file vacuums incrementally"
    );
    let limit = before.used_bytes / 2;

    let recording = pathwise::init(Config {
        db_path: db.clone(),
        data_dir: Some(dir.path().join("spool")),
        resource_interval: None,
        retention: None,
        retention_bytes: Some(limit),
        ..Config::default()
    })
    .unwrap();
    // The writer's first round runs retention; a flush waits for that round.
    assert!(recording.flush(Duration::from_secs(30)));
    drop(recording);

    let after = SqliteStore::open(&db).unwrap().storage_use().unwrap();
    assert!(
        after.used_bytes <= limit,
        "{} bytes used, limit {limit}",
        after.used_bytes
    );
    assert!(
        after.file_bytes < before.file_bytes * 3 / 4,
        "the file shrank: {} → {} bytes",
        before.file_bytes,
        after.file_bytes
    );
    let kept = trace_hours(&db, start_ms);
    let hours: Vec<u64> = kept.iter().map(|(h, _)| *h).collect();
    // Whole hours go, oldest first, and no more than needed: about half of ten equal hours.
    assert!((4..=6).contains(&hours.len()), "hours kept: {hours:?}");
    assert_eq!(
        hours,
        ((HOURS - hours.len() as u64)..HOURS).collect::<Vec<_>>(),
        "the newest hours are the ones kept"
    );
    assert!(
        kept.iter().all(|(_, n)| *n == TRACES_PER_HOUR as i64),
        "a kept hour is whole: {kept:?}"
    );
}
