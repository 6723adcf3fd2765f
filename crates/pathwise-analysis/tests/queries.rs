//! The queries report and the slow-query log against figures known by construction, written
//! through the real SQLite store (so its real rollups and raw spans are what is read).
//!
//! 201 traces, one a second:
//! - 100 `api.orders` traces, each running statement A (`SELECT … user_id = ?`, sqlite) for
//!   1, 2, …, 100 ms with 2 rows; the first 50 also run statement B (`UPDATE stock …`,
//!   postgresql): 40 calls of 10 ms and 10 of 500 ms, calls 0–2 failing with
//!   `SerializationFailure`, 3–4 with `DeadlockDetected`, the others 1 row each; and a
//!   `cache.get` span (component `cache`: not a query).
//! - 100 `api.report` traces running statement A from another caller for 101, …, 200 ms with
//!   10 rows, except the first 20 (no rows reported) and the last 4 (failed, `DatabaseBusy`).
//! - 1 `api.admin` trace running statement C (mysql) for 5 ms, its `db.rows` not a number.

use std::time::Duration;

use pathwise_analysis::Window;
use pathwise_analysis::queries::{QueryOrder, query_report, slow_queries};
use pathwise_model::{AttrValue, ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{PathList, ReadStore, Store, TraceFilter, WriteBatch};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

const BASE_MS: u64 = 1_750_000_000_000;
const MS: i64 = 1_000_000;
const SELECT_A: &str = "SELECT * FROM orders WHERE user_id = ?";
const UPDATE_B: &str = "UPDATE stock SET n = n - ? WHERE sku = ?";
const DELETE_C: &str = "DELETE FROM audit WHERE at < ?";

fn paths() -> PathList {
    let mut paths = PathList::default();
    let orders = paths.push(0, "api.orders"); // 1
    paths.push(orders, SELECT_A); // 2
    paths.push(orders, UPDATE_B); // 3
    let report = paths.push(0, "api.report"); // 4
    paths.push(report, SELECT_A); // 5
    paths.push(orders, "cache.get"); // 6
    let admin = paths.push(0, "api.admin"); // 7
    paths.push(admin, DELETE_C); // 8
    paths
}

/// One span of trace `t`: `path`'s node, in `group`, `ms` long, starting with its trace.
fn span(t: u64, id: u64, parent: u64, path: u32, name: &str, group: &str, ms: i64) -> SpanRecord {
    let at_ms = BASE_MS + t * 1000;
    let mut s = SpanRecord::new(
        TraceId::from_parts(at_ms, u128::from(t) + 1),
        id,
        parent,
        name.to_string().into(),
        SpanKind::Span,
    );
    s.path = path;
    s.group = Some(group.to_string().into());
    s.start_ns = at_ms as i64 * MS;
    s.duration_ns = (ms * MS) as u64;
    s
}

fn query(mut s: SpanRecord, system: &str, rows: Option<AttrValue>) -> SpanRecord {
    let statement = AttrValue::Str(s.name.clone());
    let attrs = &mut s.details_mut().attrs;
    attrs.push((
        "db.system".into(),
        AttrValue::Str(system.to_string().into()),
    ));
    attrs.push(("db.statement".into(), statement));
    if let Some(rows) = rows {
        attrs.push(("db.rows".into(), rows));
    }
    s
}

fn fail(s: &mut SpanRecord, error_type: &str) {
    s.status = Status::Error;
    s.details_mut().error = Some(ErrorInfo {
        error_type: error_type.to_string().into(),
        message: format!("{error_type} happened"),
        chain: Vec::new(),
    });
}

fn write_fixture(store: &mut SqliteStore) {
    let mut records = Vec::new();
    for t in 0..100u64 {
        let a_ms = t as i64 + 1;
        let mut children = vec![query(
            span(t, 2, 1, 2, SELECT_A, "db.sqlite", a_ms),
            "sqlite",
            Some(AttrValue::I64(2)),
        )];
        if t < 50 {
            let b_ms = if t < 40 { 10 } else { 500 };
            let failed = t < 5;
            let mut b = query(
                span(t, 3, 1, 3, UPDATE_B, "db.postgresql", b_ms),
                "postgresql",
                (!failed).then_some(AttrValue::I64(1)),
            );
            if failed {
                fail(
                    &mut b,
                    if t < 3 {
                        "SerializationFailure"
                    } else {
                        "DeadlockDetected"
                    },
                );
            }
            children.push(b);
        }
        children.push(span(t, 4, 1, 6, "cache.get", "cache", 1));
        let total: i64 = children.iter().map(|c| c.duration_ns as i64).sum();
        let root = span(t, 1, 0, 1, "api.orders", "api", total / MS + 1);
        records.extend(children.into_iter().map(Record::Span));
        records.push(Record::Span(root));
    }
    for j in 0..100u64 {
        let t = 100 + j;
        let failed = j >= 96;
        let rows = (j >= 20 && !failed).then_some(AttrValue::I64(10));
        let mut a = query(
            span(t, 2, 1, 5, SELECT_A, "db.sqlite", 101 + j as i64),
            "sqlite",
            rows,
        );
        if failed {
            fail(&mut a, "DatabaseBusy");
        }
        let root = span(t, 1, 0, 4, "api.report", "api", 102 + j as i64);
        records.push(Record::Span(a));
        records.push(Record::Span(root));
    }
    let c = query(
        span(200, 2, 1, 8, DELETE_C, "db.mysql", 5),
        "mysql",
        Some(AttrValue::Str("abc".into())),
    );
    records.push(Record::Span(c));
    records.push(Record::Span(span(200, 1, 0, 7, "api.admin", "api", 6)));
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

fn fixture() -> (tempfile::TempDir, SqliteReader) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queries.db");
    write_fixture(&mut SqliteStore::open(&db).unwrap());
    let reader = SqliteReader::open(&db).unwrap();
    (dir, reader)
}

fn window() -> Window {
    Window {
        since_ns: BASE_MS as i64 * MS,
        until_ns: (BASE_MS as i64 + 3_600_000) * MS,
    }
}

/// `got` is `exact` within the sketch's 1 % relative error.
fn near(got: f64, exact: f64, what: &str) {
    let bound = exact * pathwise_analysis::SKETCH_RELATIVE_ERROR * 1.0001;
    assert!((got - exact).abs() <= bound, "{what}: {got} vs {exact}");
}

#[test]
fn each_statement_has_exact_counts_rows_and_percentiles_within_the_sketch_error() {
    let (_dir, reader) = fixture();
    let report = query_report(&reader, window(), QueryOrder::Frequent, 50).unwrap();
    assert_eq!(report.statements, 3);
    assert_eq!(report.calls, 200 + 50 + 1);
    assert_eq!(report.errors, 4 + 5);
    // 1 + … + 200 ms, 40 × 10 + 10 × 500 ms, 5 ms.
    assert!((report.total_ms - (20_100.0 + 5_400.0 + 5.0)).abs() < 1e-6);
    let names: Vec<&str> = report
        .queries
        .iter()
        .map(|q| q.statement.as_str())
        .collect();
    assert_eq!(names, [SELECT_A, UPDATE_B, DELETE_C], "by calls");

    // A: both callers merged, durations 1..=200 ms.
    let a = &report.queries[0];
    assert_eq!((a.system.as_str(), a.calls, a.errors), ("sqlite", 200, 4));
    assert!((a.error_rate - 0.02).abs() < 1e-12);
    assert_eq!(a.errors_by_type, [("DatabaseBusy".to_string(), 4)]);
    assert!((a.total_ms - 20_100.0).abs() < 1e-6);
    assert!((a.avg_ms - 100.5).abs() < 1e-9);
    near(a.p50_ms, 100.0, "A p50");
    near(a.p95_ms, 190.0, "A p95");
    near(a.p99_ms, 198.0, "A p99");
    assert!((a.max_ms - 200.0).abs() < 1e-9);
    // 100 × 2 rows from api.orders, 76 × 10 from api.report (20 reported none, 4 failed).
    assert_eq!(a.row_counts, 176);
    assert!((a.avg_rows.unwrap() - 960.0 / 176.0).abs() < 1e-12);

    // B: 40 × 10 ms then 10 × 500 ms; 5 of 50 failed.
    let b = &report.queries[1];
    assert_eq!(
        (b.system.as_str(), b.calls, b.errors),
        ("postgresql", 50, 5)
    );
    assert!((b.error_rate - 0.1).abs() < 1e-12);
    assert_eq!(
        b.errors_by_type,
        [
            ("SerializationFailure".to_string(), 3),
            ("DeadlockDetected".to_string(), 2)
        ]
    );
    near(b.p50_ms, 10.0, "B p50");
    near(b.p95_ms, 500.0, "B p95");
    near(b.p99_ms, 500.0, "B p99");
    assert_eq!((b.row_counts, b.avg_rows), (45, Some(1.0)));

    // C: rows that are not a number are not rows.
    let c = &report.queries[2];
    assert_eq!((c.system.as_str(), c.calls, c.errors), ("mysql", 1, 0));
    assert_eq!((c.row_counts, c.avg_rows), (0, None));
    near(c.p95_ms, 5.0, "C p95");

    // `cache.get` (component `cache`) and the roots are no queries.
    assert!(
        report
            .queries
            .iter()
            .all(|q| !q.statement.starts_with("api."))
    );
}

#[test]
fn statements_order_by_latency_calls_or_total_time_and_the_limit_cuts() {
    let (_dir, reader) = fixture();
    let order = |by: QueryOrder, limit: usize| -> Vec<String> {
        let report = query_report(&reader, window(), by, limit).unwrap();
        assert_eq!(report.statements, 3, "the count is before the limit");
        report.queries.into_iter().map(|q| q.statement).collect()
    };
    assert_eq!(
        order(QueryOrder::Slowest, 50),
        [UPDATE_B, SELECT_A, DELETE_C]
    );
    assert_eq!(order(QueryOrder::Frequent, 2), [SELECT_A, UPDATE_B]);
    assert_eq!(order(QueryOrder::Total, 1), [SELECT_A]);
    // A window without the fixture has no statements.
    let before = Window {
        since_ns: 0,
        until_ns: BASE_MS as i64 * MS,
    };
    let empty = query_report(&reader, before, QueryOrder::Slowest, 50).unwrap();
    assert_eq!(
        (empty.statements, empty.calls, empty.queries.len()),
        (0, 0, 0)
    );
}

#[test]
fn each_statement_links_to_exactly_the_traces_that_ran_it() {
    let (_dir, reader) = fixture();
    let report = query_report(&reader, window(), QueryOrder::Frequent, 50).unwrap();
    for (statement, traces) in [(SELECT_A, 200), (UPDATE_B, 50), (DELETE_C, 1)] {
        let q = report
            .queries
            .iter()
            .find(|q| q.statement == statement)
            .unwrap();
        let filter = TraceFilter {
            query: Some(pathwise_store::query::Query::parse(&q.trace_query, 0).unwrap()),
            limit: 1000,
            ..TraceFilter::default()
        };
        let page = reader.list_traces(&filter).unwrap();
        assert_eq!(page.traces.len(), traces, "{}", q.trace_query);
    }
}

#[test]
fn the_slow_log_lists_each_execution_over_the_threshold_newest_first() {
    let (_dir, reader) = fixture();
    let slow = slow_queries(&reader, window(), Duration::from_millis(150), 1000).unwrap();
    // A: 150..=200 ms (51 calls, traces 149..=199); B: the ten 500 ms calls (traces 40..=49).
    assert_eq!(slow.len(), 51 + 10);
    assert!(slow.windows(2).all(|w| w[0].start_ns >= w[1].start_ns));
    let newest = &slow[0];
    assert_eq!(newest.statement, SELECT_A);
    assert_eq!(newest.system, "sqlite");
    assert_eq!(newest.path, format!("api.report → {SELECT_A}"));
    assert_eq!(newest.caller.as_deref(), Some("api.report"));
    assert_eq!(newest.duration_ms, 200.0);
    assert!(newest.failed);
    assert_eq!(newest.error_type.as_deref(), Some("DatabaseBusy"));
    assert_eq!(newest.rows, None);
    assert_eq!(
        newest.trace_id,
        TraceId::from_parts(BASE_MS + 199 * 1000, 200).to_hex()
    );
    assert_eq!(newest.span_id, "2");
    let b: Vec<_> = slow.iter().filter(|q| q.statement == UPDATE_B).collect();
    assert_eq!(b.len(), 10);
    assert!(
        b.iter()
            .all(|q| q.duration_ms == 500.0 && q.rows == Some(1) && !q.failed)
    );
    assert!(slow.iter().all(|q| q.duration_ms >= 150.0));
    assert!(slow.iter().all(|q| q.full_statement.is_none()));

    // The limit keeps the newest; a threshold above everything lists nothing.
    let few = slow_queries(&reader, window(), Duration::from_millis(150), 5).unwrap();
    assert_eq!(few.len(), 5);
    assert_eq!(few[0], slow[0]);
    let none = slow_queries(&reader, window(), Duration::from_millis(501), 1000).unwrap();
    assert!(none.is_empty());
}
