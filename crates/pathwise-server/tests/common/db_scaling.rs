//! A database for scaling analysis with growth known by construction, written through the real
//! SQLite store in the ten minutes before now: 120 `api.merge` traces, each with
//!
//! - [`QUADRATIC`] lasting 2 µs · n² for its attribute `dataset_count` = n,
//! - [`LINEAR`] lasting 40 µs · n for its captured argument `items` (n ids: ten shown, then
//!   `"+N more"`, as capture writes them),
//! - [`FIXED`] with `dataset_count` always 50: no basis for an exponent,
//!
//! n cycling through 10, 20, 40, 80, 160 and 320, each duration off its line by a wobble of
//! at most ±15 %.

use std::path::Path;

use pathwise_model::{AttrValue, Record, SpanKind, SpanRecord, TraceId};
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;

pub const QUADRATIC: &str = "Catalog.dedupe";
pub const LINEAR: &str = "Catalog.index";
pub const FIXED: &str = "Catalog.cached";
const SIZES: [u64; 6] = [10, 20, 40, 80, 160, 320];
const MS: i64 = 1_000_000;

/// Writes the traces described in the module docs into `db`, ending at `now_ms`.
pub fn record(db: &Path, now_ms: u64) {
    let mut store = SqliteStore::open(db).unwrap();
    let mut paths = PathList::default();
    let root = paths.push(0, "api.merge");
    let quadratic = paths.push(root, QUADRATIC);
    let linear = paths.push(root, LINEAR);
    let fixed = paths.push(root, FIXED);
    let start = now_ms - 600_000;
    let mut records = Vec::new();
    for t in 0..120u64 {
        let n = SIZES[(t % 6) as usize];
        let at_ms = start + t * 4_000;
        let trace = TraceId::from_parts(at_ms, 5000 + u128::from(t));
        // A deterministic wobble in [0.85, 1.15].
        let wobble = 0.85 + 0.3 * ((t * 37) % 17) as f64 / 16.0;
        let span = |id: u64, path: u32, name: &str, ms: f64| {
            let mut s = SpanRecord::new(
                trace,
                id,
                u64::from(id != 1),
                name.to_string().into(),
                SpanKind::Function,
            );
            s.path = path;
            s.group = Some("catalog".into());
            s.start_ns = at_ms as i64 * MS + id as i64 * 1000;
            s.duration_ns = (ms * 1e6) as u64;
            s
        };
        let mut dedupe = span(2, quadratic, QUADRATIC, 0.002 * (n * n) as f64 * wobble);
        dedupe
            .details_mut()
            .attrs
            .push(("dataset_count".into(), AttrValue::I64(n as i64)));
        let mut index = span(3, linear, LINEAR, 0.04 * n as f64 * wobble);
        let shown: Vec<String> = (0..10).map(|i| format!("\"ds{i}\"")).collect();
        index.details_mut().input = Some(format!(
            "{{\"items\":[{},\"+{} more\"],\"deep\":true}}",
            shown.join(","),
            n - 10
        ));
        let mut cached = span(4, fixed, FIXED, 0.5 * wobble);
        cached
            .details_mut()
            .attrs
            .push(("dataset_count".into(), AttrValue::I64(50)));
        let merge = span(1, root, "api.merge", 300.0);
        records.extend([merge, dedupe, index, cached].map(Record::Span));
    }
    store
        .write_batch(
            &WriteBatch {
                records: &records,
                ..WriteBatch::EMPTY
            },
            &paths,
        )
        .unwrap();
}

/// A server over this fixture (written once per test binary): its base URL.
pub fn server() -> String {
    static BASE: std::sync::OnceLock<(tempfile::TempDir, String)> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("scaling.db");
        record(&db, super::db_queries::now_ms());
        let addr = super::start_server(pathwise_server::ServerConfig::new(super::backend(&db)));
        (dir, format!("http://{addr}"))
    })
    .1
    .clone()
}
