//! Database queries (spans of components `db.<system>`) written to SQLite and to a real
//! two-shard ClickHouse cluster (started on loopback by `scripts/clickhouse-cluster`): the
//! rows per statement, the slow executions and the reports built on them must agree.

use std::time::Duration;

use pathwise_analysis::Window;
use pathwise_analysis::queries::{QueryOrder, query_report, slow_queries};
use pathwise_model::{AttrValue, ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{Backend, GroupAttributeSum, PathList, WriteBatch};
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;
use pathwise_store_sqlite::SqliteBackend;

const MS: i64 = 1_000_000;
const BASE_MS: u64 = 1_780_000_000_000;
const SELECT: &str = "SELECT * FROM users WHERE id = ?";
const UPDATE: &str = "UPDATE carts SET total = ? WHERE id = ?";

fn paths() -> PathList {
    let mut paths = PathList::default();
    let root = paths.push(0, "api.handle"); // 1
    paths.push(root, SELECT); // 2
    paths.push(root, UPDATE); // 3
    paths.push(root, "dbx.vacuum"); // 4: group `dbx`, not a query
    paths
}

/// 60 traces, two to a batch: a select of 1..=60 ms (rows 3, none every 4th, a text every
/// 10th) and, in every third trace, an update of 200 ms (2 rows; every sixth fails).
fn workload() -> Vec<Vec<Record>> {
    let mut batches = Vec::new();
    for t in 0..60u64 {
        let at_ms = BASE_MS + t * 1_000;
        let trace = TraceId::from_parts(at_ms, u128::from(t) + 1);
        let span = |id: u64, path: u32, name: &str, group: &str, ms: i64| {
            let mut s = SpanRecord::new(
                trace,
                id,
                u64::from(id != 1),
                name.to_string().into(),
                SpanKind::Span,
            );
            s.path = path;
            s.group = Some(group.to_string().into());
            s.start_ns = at_ms as i64 * MS + i64::from(id != 1) * MS;
            s.duration_ns = (ms * MS) as u64;
            s
        };
        let mut records = Vec::new();
        let mut select = span(2, 2, SELECT, "db.sqlite", t as i64 + 1);
        let rows = match t {
            _ if t % 10 == 0 => Some(AttrValue::Str("many".into())),
            _ if t % 4 == 0 => None,
            _ => Some(AttrValue::I64(3)),
        };
        let attrs = &mut select.details_mut().attrs;
        attrs.push(("db.system".into(), AttrValue::Str("sqlite".into())));
        attrs.push(("db.statement".into(), AttrValue::Str(SELECT.into())));
        if let Some(rows) = rows {
            attrs.push(("db.rows".into(), rows));
        }
        records.push(Record::Span(select));
        if t % 3 == 0 {
            let mut update = span(3, 3, UPDATE, "db.postgresql", 200);
            if t % 6 == 0 {
                update.status = Status::Error;
                update.details_mut().error = Some(ErrorInfo {
                    error_type: "DeadlockDetected".into(),
                    message: "deadlock detected".into(),
                    chain: Vec::new(),
                });
            } else {
                update
                    .details_mut()
                    .attrs
                    .push(("db.rows".into(), AttrValue::F64(2.0)));
            }
            records.push(Record::Span(update));
        }
        records.push(Record::Span(span(4, 4, "dbx.vacuum", "dbx", 300)));
        records.push(Record::Span(span(1, 1, "api.handle", "api", 400)));
        if t % 2 == 0 {
            batches.push(Vec::new());
        }
        batches.last_mut().unwrap().extend(records);
    }
    batches
}

fn record_into(backend: &dyn Backend) {
    let mut store = backend.writer().unwrap();
    for batch in workload() {
        store
            .write_batch(
                &WriteBatch {
                    records: &batch,
                    ..WriteBatch::EMPTY
                },
                &paths(),
            )
            .unwrap();
    }
}

fn sorted(mut sums: Vec<GroupAttributeSum>) -> Vec<GroupAttributeSum> {
    sums.sort_by(|a, b| (&a.node, &a.group).cmp(&(&b.node, &b.group)));
    sums
}

#[test]
fn sqlite_and_a_cluster_agree_on_queries() {
    let Some(cluster) = Cluster::start(18253) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteBackend::create(dir.path().join("queries.db")).unwrap();
    let clickhouse = ClickHouseBackend::connect(&cluster.url("pw_queries")).unwrap();
    record_into(&sqlite);
    record_into(&clickhouse);
    let (s, c) = (sqlite.reader().unwrap(), clickhouse.reader().unwrap());
    let all = Window::all();

    let sums = sorted(s.group_attribute_sums(all, "db.", "db.rows", 1000).unwrap());
    assert_eq!(
        sums,
        sorted(c.group_attribute_sums(all, "db.", "db.rows", 1000).unwrap())
    );
    // Selects: 60, of which 6 carry text and 12 (every 4th, not every 10th) carry nothing.
    let select = sums.iter().find(|x| x.node == SELECT).unwrap();
    assert_eq!(
        (select.group.as_str(), select.spans, select.with_value),
        ("db.sqlite", 60, 42)
    );
    assert_eq!(select.sum, 126.0);
    let update = sums.iter().find(|x| x.node == UPDATE).unwrap();
    assert_eq!(
        (update.spans, update.with_value, update.sum),
        (20, 10, 20.0)
    );
    assert_eq!(sums.len(), 2, "dbx and api are no queries: {sums:?}");
    // A sample: the newest spans only (traces 57..=59: three selects and the update of 57).
    let newest = sorted(s.group_attribute_sums(all, "db.", "db.rows", 4).unwrap());
    assert_eq!(
        newest,
        sorted(c.group_attribute_sums(all, "db.", "db.rows", 4).unwrap())
    );
    let counted: Vec<(i64, i64)> = newest.iter().map(|x| (x.spans, x.with_value)).collect();
    assert_eq!(counted, [(3, 3), (1, 1)], "{newest:?}");

    let slow = |reader: &dyn pathwise_store::Reader| {
        let mut spans = reader.slow_spans(all, "db.", 50 * MS, 1000).unwrap();
        spans.sort_by_key(|t| (t.trace_id, t.span.span_id));
        spans
    };
    let (slow_s, slow_c) = (slow(s.as_ref()), slow(c.as_ref()));
    assert_eq!(
        slow_s.len(),
        11 + 20,
        "selects of 50..=60 ms and every update"
    );
    assert_eq!(slow_s, slow_c);
    assert_eq!(
        s.slow_spans(all, "db.", 0, 7).unwrap().len(),
        c.slow_spans(all, "db.", 0, 7).unwrap().len()
    );

    for order in [QueryOrder::Slowest, QueryOrder::Frequent, QueryOrder::Total] {
        let (report_s, report_c) = (
            query_report(s.as_ref(), all, order, 50).unwrap(),
            query_report(c.as_ref(), all, order, 50).unwrap(),
        );
        assert_eq!(report_s.statements, 2);
        for (x, y) in report_s.queries.iter().zip(&report_c.queries) {
            assert_eq!(
                (&x.statement, x.calls, x.errors, x.row_counts, x.avg_rows),
                (&y.statement, y.calls, y.errors, y.row_counts, y.avg_rows)
            );
            assert_eq!(x.errors_by_type, y.errors_by_type);
            assert!(
                (x.p95_ms - y.p95_ms).abs() <= 0.01 * x.p95_ms,
                "{}",
                x.statement
            );
        }
    }
    assert_eq!(
        slow_queries(s.as_ref(), all, Duration::from_millis(100), 100).unwrap(),
        slow_queries(c.as_ref(), all, Duration::from_millis(100), 100).unwrap()
    );
}
