//! Time figures of parallel work against hand-computed truth, through the real SQLite store:
//! the planning documents' search fan-out (three sources in parallel), written in the orders
//! the pipeline can deliver (children first; a failed parent first, as the error lane does;
//! children split over batches).

use pathwise_analysis::{Analysis, Window, critical_path};
use pathwise_model::{ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

const MS: i64 = 1_000_000;
const BASE_MS: u64 = 1_760_000_000_000;

fn paths() -> PathList {
    PathList(vec![
        (0, "SearchService.search".into()),
        (1, "SearchService.validate".into()),
        (1, "GEOClient.search".into()),
        (1, "ArrayExpressClient.search".into()),
        (1, "OpenAlexClient.search".into()),
        (1, "SearchService.rank".into()),
    ])
}

/// One search trace `t`: search 0–716 ms; validate 0–1; GEO 1–300, ArrayExpress 1–715,
/// OpenAlex 1–420 in parallel; rank 715–716. The root fails when `failed`.
fn search_trace(t: u64, failed: bool) -> Vec<SpanRecord> {
    let trace = TraceId::from_parts(BASE_MS + t, t as u128 + 1);
    let start = (BASE_MS + t) as i64 * MS;
    let span = |id: u64, parent: u64, path: u32, name: &str, from: i64, to: i64| {
        let mut s = SpanRecord::new(
            trace,
            id,
            parent,
            name.to_string().into(),
            SpanKind::Function,
        );
        s.path = path;
        s.start_ns = start + from * MS;
        s.duration_ns = ((to - from) * MS) as u64;
        s
    };
    let mut root = span(1, 0, 1, "SearchService.search", 0, 716);
    if failed {
        root.status = Status::Error;
        root.details_mut().error = Some(ErrorInfo {
            error_type: "SearchError".into(),
            ..Default::default()
        });
    }
    vec![
        span(2, 1, 2, "SearchService.validate", 0, 1),
        span(3, 1, 3, "GEOClient.search", 1, 300),
        span(4, 1, 4, "ArrayExpressClient.search", 1, 715),
        span(5, 1, 5, "OpenAlexClient.search", 1, 420),
        span(6, 1, 6, "SearchService.rank", 715, 716),
        root,
    ]
}

fn write(store: &mut SqliteStore, spans: Vec<SpanRecord>) {
    let records: Vec<Record> = spans.into_iter().map(Record::Span).collect();
    store
        .write_batch(
            &WriteBatch {
                records: &records,
                ..WriteBatch::EMPTY
            },
            &paths(),
        )
        .unwrap();
}

#[test]
fn self_time_of_a_parallel_fan_out_is_exact_in_every_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("parallel.db");
    let mut store = SqliteStore::open(&db).unwrap();
    // Trace 0: children first, one batch (the normal order: children end first).
    write(&mut store, search_trace(0, false));
    // Trace 1: a failed root first (the error lane), its children in a later batch.
    let mut spans = search_trace(1, true);
    let root = spans.pop().unwrap();
    write(&mut store, vec![root]);
    write(&mut store, spans);
    // Trace 2: children split over two batches around the parent.
    let mut spans = search_trace(2, false);
    let root = spans.pop().unwrap();
    let late = spans.split_off(3);
    write(&mut store, spans);
    write(&mut store, vec![root]);
    write(&mut store, late);
    drop(store);

    let reader = SqliteReader::open(&db).unwrap();
    let analysis = Analysis::load(&reader, Window::all()).unwrap();
    let root = analysis.node("SearchService.search").unwrap();
    assert_eq!(root.calls, 3);
    assert_eq!(root.errors, 1);
    // The children cover 0–716 completely (validate 0–1, the sources 1–715, rank 715–716):
    // the root's own time is zero, not 716 − (1 + 299 + 714 + 419 + 1) clamped, nor 716.
    assert!(root.self_ms.abs() < 1e-9, "root self {} ms", root.self_ms);
    let array = analysis.node("ArrayExpressClient.search").unwrap();
    assert!(
        (array.self_ms - 3.0 * 714.0).abs() < 1e-6,
        "{}",
        array.self_ms
    );

    for t in 0..3 {
        let trace = TraceId::from_parts(BASE_MS + t, t as u128 + 1);
        let path = critical_path(&reader, trace).unwrap();
        let names: Vec<(&str, f64)> = path.iter().map(|c| (c.name.as_str(), c.self_ms)).collect();
        assert_eq!(
            names,
            [
                ("SearchService.search", 0.0),
                ("SearchService.validate", 1.0),
                ("ArrayExpressClient.search", 714.0),
                ("SearchService.rank", 1.0),
            ],
            "trace {t}"
        );
        let shares: f64 = path.iter().map(|c| c.share).sum();
        assert!(
            (shares - 1.0).abs() < 1e-9,
            "segments tile the trace: {shares}"
        );
    }
}
