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

/// Three search traces into a new database at `db`, each in an order the pipeline can deliver.
fn write_three_orders(db: &std::path::Path) {
    let mut store = SqliteStore::open(db).unwrap();
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
}

#[test]
fn self_time_of_a_parallel_fan_out_is_exact_in_every_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("parallel.db");
    write_three_orders(&db);

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

/// Latency attribution (time on critical paths, summed by the rollups) per node over the three
/// search traces, in the same three arrival orders: validate 1 ms, ArrayExpress 714 ms and
/// rank 1 ms per trace; the root, GEO and OpenAlex nothing (the root's children cover it; the
/// other two sources finished before ArrayExpress, so shortening them changes no request).
#[test]
fn latency_attribution_sums_critical_paths_in_every_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("attribution.db");
    write_three_orders(&db);

    let reader = SqliteReader::open(&db).unwrap();
    let analysis = Analysis::load(&reader, Window::all()).unwrap();
    let critical = |name: &str| analysis.node(name).unwrap().critical_ms;
    let expected = [
        ("SearchService.search", 0.0),
        ("SearchService.validate", 3.0),
        ("GEOClient.search", 0.0),
        ("ArrayExpressClient.search", 3.0 * 714.0),
        ("OpenAlexClient.search", 0.0),
        ("SearchService.rank", 3.0),
    ];
    for (name, ms) in expected {
        assert!(
            (critical(name) - ms).abs() < 1e-9,
            "{name}: {} ms on critical paths, expected {ms}",
            critical(name)
        );
    }
    let array = analysis.node("ArrayExpressClient.search").unwrap();
    assert!((array.share_of_latency - 714.0 / 716.0).abs() < 1e-12);
    // Ranked by latency responsibility, the slowest parallel branch that others waited on is
    // first; GEO and OpenAlex (more self time than validate or rank) rank below them.
    let ranked: Vec<&str> = analysis
        .time_consumers(6)
        .iter()
        .map(|m| m.key.as_str())
        .collect();
    assert_eq!(ranked[0], "ArrayExpressClient.search");
    let position = |name: &str| ranked.iter().position(|n| *n == name).unwrap();
    assert!(position("SearchService.rank") < position("OpenAlexClient.search"));
    assert!(
        analysis
            .opportunities()
            .iter()
            .any(|o| o.starts_with("OpenAlexClient.search") && o.contains("in parallel")),
        "{:?}",
        analysis.opportunities()
    );
}

/// Nested parallel work: root 0–100 with A 0–60 and B 0–40 in parallel, then C 60–100; inside
/// A, A1 10–30 and A2 20–55 in parallel. Walking back from 100: C 40 ms; then A, whose own
/// segments are 55–60 and 0–10 (15 ms) around A2 20–55 (35 ms) and A1 10–20 (10 ms); B and
/// the root nothing. Delivered root first, children a batch later.
#[test]
fn latency_attribution_of_nested_parallel_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let trace = TraceId::from_parts(BASE_MS, 77);
    let start = BASE_MS as i64 * MS;
    let span = |id: u64, parent: u64, path: u32, name: &str, from: i64, to: i64| {
        let mut s = SpanRecord::new(trace, id, parent, name.to_string().into(), SpanKind::Span);
        s.path = path;
        s.start_ns = start + from * MS;
        s.duration_ns = ((to - from) * MS) as u64;
        Record::Span(s)
    };
    let paths = PathList(vec![
        (0, "R".into()),
        (1, "A".into()),
        (1, "B".into()),
        (1, "C".into()),
        (2, "A1".into()),
        (2, "A2".into()),
    ]);
    let batch = |store: &mut SqliteStore, records: Vec<Record>| {
        store
            .write_batch(
                &WriteBatch {
                    records: &records,
                    ..WriteBatch::EMPTY
                },
                &paths,
            )
            .unwrap();
    };
    batch(&mut store, vec![span(1, 0, 1, "R", 0, 100)]);
    batch(
        &mut store,
        vec![
            span(5, 2, 5, "A1", 10, 30),
            span(6, 2, 6, "A2", 20, 55),
            span(2, 1, 2, "A", 0, 60),
            span(3, 1, 3, "B", 0, 40),
            span(4, 1, 4, "C", 60, 100),
        ],
    );
    drop(store);
    let reader = SqliteReader::open(&db).unwrap();
    let analysis = Analysis::load(&reader, Window::all()).unwrap();
    for (name, ms) in [
        ("R", 0.0),
        ("A", 15.0),
        ("B", 0.0),
        ("C", 40.0),
        ("A1", 10.0),
        ("A2", 35.0),
    ] {
        let got = analysis.node(name).unwrap().critical_ms;
        assert!((got - ms).abs() < 1e-9, "{name}: {got} ms, expected {ms}");
    }
}
