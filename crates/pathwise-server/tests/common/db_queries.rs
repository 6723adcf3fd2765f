//! A database of database queries with figures known by construction, for the Queries API and
//! page: spans in components `db.<system>` as `pathwise::db_query` records them, written
//! through the real SQLite store, the last ten minutes before now.
//!
//! - [`SELECT_USER`] (sqlite): 10 `api.users` traces, 10, 20, …, 100 ms, 1 row each, the
//!   100 ms one failed (`DatabaseBusy`, no rows).
//! - [`UPDATE_CART`] (postgresql): 4 `api.cart` traces, 300 ms, 2 rows each; the newest kept
//!   its statement as written ([`UPDATE_CART_WRITTEN`]).
//! - [`SELECT_QUOTED`] (sqlite): 3 `api.search` traces, 5 ms, 0 rows: quotes in the name.

use std::path::Path;

use pathwise_model::{AttrValue, ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;

pub const SELECT_USER: &str = "SELECT * FROM users WHERE id = ?";
pub const UPDATE_CART: &str = "UPDATE carts SET total = ? WHERE id = ?";
pub const UPDATE_CART_WRITTEN: &str = "UPDATE carts SET total = 12.5 WHERE id = 7";
pub const SELECT_QUOTED: &str = "SELECT \"name\" FROM \"users\" WHERE email = ?";
const MS: i64 = 1_000_000;

fn paths() -> PathList {
    let mut paths = PathList::default();
    let users = paths.push(0, "api.users"); // 1
    paths.push(users, SELECT_USER); // 2
    let cart = paths.push(0, "api.cart"); // 3
    paths.push(cart, UPDATE_CART); // 4
    let search = paths.push(0, "api.search"); // 5
    paths.push(search, SELECT_QUOTED); // 6
    paths
}

/// A trace started at `at_ms`: root `root` (path `root_path`) around one query.
fn trace(
    at_ms: u64,
    id: u128,
    (root_path, root): (u32, &str),
    (statement, system): (&str, &str),
    ms: i64,
    rows: Option<i64>,
) -> [SpanRecord; 2] {
    let trace_id = TraceId::from_parts(at_ms, id);
    let start_ns = at_ms as i64 * MS;
    let mut query = SpanRecord::new(trace_id, 2, 1, statement.to_string().into(), SpanKind::Span);
    query.path = root_path + 1;
    query.group = Some(format!("db.{system}").into());
    query.start_ns = start_ns + MS;
    query.duration_ns = (ms * MS) as u64;
    let attrs = &mut query.details_mut().attrs;
    attrs.push((
        "db.system".into(),
        AttrValue::Str(system.to_string().into()),
    ));
    attrs.push((
        "db.statement".into(),
        AttrValue::Str(statement.to_string().into()),
    ));
    if let Some(rows) = rows {
        attrs.push(("db.rows".into(), AttrValue::I64(rows)));
    }
    let mut request = SpanRecord::new(trace_id, 1, 0, root.to_string().into(), SpanKind::Function);
    request.path = root_path;
    request.group = Some("api".into());
    request.start_ns = start_ns;
    request.duration_ns = ((ms + 2) * MS) as u64;
    [query, request]
}

/// Writes the queries described in the module docs into `db`, ending at `now_ms`.
pub fn record(db: &Path, now_ms: u64) {
    let mut store = SqliteStore::open(db).unwrap();
    let start = now_ms - 600_000;
    let mut records = Vec::new();
    let mut id = 1000u128;
    for i in 0..10u64 {
        id += 1;
        let failed = i == 9;
        let mut spans = trace(
            start + i * 10_000,
            id,
            (1, "api.users"),
            (SELECT_USER, "sqlite"),
            (i as i64 + 1) * 10,
            (!failed).then_some(1),
        );
        if failed {
            spans[0].status = Status::Error;
            spans[0].details_mut().error = Some(ErrorInfo {
                error_type: "DatabaseBusy".into(),
                message: "database is locked".into(),
                chain: Vec::new(),
            });
        }
        records.extend(spans.map(Record::Span));
    }
    for i in 0..4u64 {
        id += 1;
        let mut spans = trace(
            start + 200_000 + i * 10_000,
            id,
            (3, "api.cart"),
            (UPDATE_CART, "postgresql"),
            300,
            Some(2),
        );
        if i == 3 {
            spans[0].details_mut().attrs.push((
                "db.statement.full".into(),
                AttrValue::Str(UPDATE_CART_WRITTEN.into()),
            ));
        }
        records.extend(spans.map(Record::Span));
    }
    for i in 0..3u64 {
        id += 1;
        let spans = trace(
            start + 300_000 + i * 10_000,
            id,
            (5, "api.search"),
            (SELECT_QUOTED, "sqlite"),
            5,
            Some(0),
        );
        records.extend(spans.map(Record::Span));
    }
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

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A server over this fixture (written once per test binary) whose slow-query threshold is
/// 250 ms: its base URL.
pub fn server() -> String {
    static BASE: std::sync::OnceLock<(tempfile::TempDir, String)> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("queries.db");
        record(&db, now_ms());
        let addr = super::start_server(pathwise_server::ServerConfig {
            slow_query_threshold: std::time::Duration::from_millis(250),
            ..pathwise_server::ServerConfig::new(super::backend(&db))
        });
        (dir, format!("http://{addr}"))
    })
    .1
    .clone()
}
