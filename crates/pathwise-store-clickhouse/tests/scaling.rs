//! Scaling analysis on SQLite and on a real two-shard ClickHouse cluster (started on loopback
//! by `scripts/clickhouse-cluster`): the same spans give the same rows (attributes and
//! captured input, newest first, limits and windows) and the same fits.

use pathwise_analysis::Window;
use pathwise_analysis::scaling::{SizeField, scaling, size_fields};
use pathwise_model::{AttrValue, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{Backend, PathList, PayloadColumn, WriteBatch};
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;
use pathwise_store_sqlite::SqliteBackend;

const MS: i64 = 1_000_000;
const BASE_MS: u64 = 1_780_000_000_000;
const SIZES: [u64; 5] = [8, 16, 32, 64, 128];

fn paths() -> PathList {
    let mut paths = PathList::default();
    let root = paths.push(0, "api.merge"); // 1
    paths.push(root, "Catalog.dedupe"); // 2
    paths.push(root, "Catalog.index"); // 3
    paths
}

/// 60 traces a second apart: `Catalog.dedupe` lasting 3 µs · n² with attribute
/// `dataset_count` (every 7th failed), and `Catalog.index` lasting 50 µs · n with the captured
/// argument `items` (ten ids, then `"+N more"`); a wobble of ±10 % by trace keeps the points
/// off the line.
fn workload() -> Vec<Vec<Record>> {
    let mut batches = Vec::new();
    for t in 0..60u64 {
        let n = SIZES[(t % 5) as usize];
        let at_ms = BASE_MS + t * 1_000;
        let trace = TraceId::from_parts(at_ms, u128::from(t) + 1);
        let wobble = 0.9 + 0.2 * ((t * 7) % 11) as f64 / 10.0;
        let span = |id: u64, path: u32, name: &str, ns: f64| {
            let mut s = SpanRecord::new(
                trace,
                id,
                u64::from(id != 1),
                name.to_string().into(),
                SpanKind::Function,
            );
            s.path = path;
            s.group = Some("catalog".into());
            s.start_ns = at_ms as i64 * MS + id as i64;
            s.duration_ns = ns as u64;
            s
        };
        let mut dedupe = span(2, 2, "Catalog.dedupe", 3_000.0 * (n * n) as f64 * wobble);
        dedupe
            .details_mut()
            .attrs
            .push(("dataset_count".into(), AttrValue::I64(n as i64)));
        if t % 7 == 0 {
            dedupe.status = Status::Error;
        }
        let mut index = span(3, 3, "Catalog.index", 50_000.0 * n as f64 * wobble);
        let shown: Vec<String> = (0..10).map(|i| format!("\"id{i}\"")).collect();
        index.details_mut().input = Some(format!(
            "{{\"items\":[{},\"+{} more\"]}}",
            shown.join(","),
            n - 10
        ));
        let root = span(1, 1, "api.merge", 1e9);
        batches.push([root, dedupe, index].map(Record::Span).to_vec());
    }
    batches
}

fn record_into(backend: &dyn Backend) {
    let mut store = backend.writer().unwrap();
    let paths = paths();
    for batch in workload() {
        store
            .write_batch(
                &WriteBatch {
                    records: &batch,
                    ..WriteBatch::EMPTY
                },
                &paths,
            )
            .unwrap();
    }
}

#[test]
fn sqlite_and_a_two_shard_cluster_scale_alike() {
    let Some(cluster) = Cluster::start(18263) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteBackend::create(dir.path().join("scaling.db")).unwrap();
    let clickhouse = ClickHouseBackend::connect(&cluster.url("pw_scaling")).unwrap();
    record_into(&sqlite);
    record_into(&clickhouse);
    let (s, c) = (sqlite.reader().unwrap(), clickhouse.reader().unwrap());

    let later = Window {
        since_ns: (BASE_MS as i64 + 30_000) * MS,
        until_ns: i64::MAX,
    };
    for (node, column) in [
        ("Catalog.dedupe", PayloadColumn::Attrs),
        ("Catalog.index", PayloadColumn::Input),
        ("Catalog.index", PayloadColumn::Attrs),
        ("nothing", PayloadColumn::Input),
    ] {
        for (window, limit) in [(Window::all(), 1000), (Window::all(), 7), (later, 1000)] {
            let rows = s.node_payloads(node, column, window, limit).unwrap();
            assert_eq!(
                rows,
                c.node_payloads(node, column, window, limit).unwrap(),
                "{node} {column:?} limit {limit}"
            );
            assert!(
                rows.windows(2).all(|w| w[0].start_ns >= w[1].start_ns),
                "newest first"
            );
        }
    }
    assert_eq!(
        s.node_payloads("Catalog.dedupe", PayloadColumn::Attrs, Window::all(), 1000)
            .unwrap()
            .len(),
        60
    );
    assert!(
        s.node_payloads("Catalog.index", PayloadColumn::Attrs, Window::all(), 1000)
            .unwrap()
            .is_empty(),
        "index spans carry no attributes"
    );

    for (node, size, exponent) in [
        ("Catalog.dedupe", "dataset_count", 2.0),
        ("Catalog.index", "input.items", 1.0),
    ] {
        let size = SizeField::parse(size).unwrap();
        let on_sqlite = scaling(s.as_ref(), node, &size, Window::all(), 5000).unwrap();
        let on_cluster = scaling(c.as_ref(), node, &size, Window::all(), 5000).unwrap();
        assert_eq!(on_sqlite, on_cluster, "{node}");
        let fit = on_sqlite.fit.expect("a fit");
        assert!((fit.exponent - exponent).abs() < 0.1, "{}", fit.summary);
        assert_eq!(
            size_fields(s.as_ref(), node, Window::all()).unwrap(),
            size_fields(c.as_ref(), node, Window::all()).unwrap()
        );
    }
}
