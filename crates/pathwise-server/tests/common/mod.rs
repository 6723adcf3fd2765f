//! Fixtures shared by the server's API and browser tests: a database recorded with the real
//! SDK, and a real server on an ephemeral loopback port.
#![allow(dead_code)]

pub mod browser;
pub mod compare_traces;
pub mod db_queries;
pub mod db_scaling;
pub mod decision_funnel;
pub mod latency_grid;
pub mod waterfall_trace;
pub mod window_shifts;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use pathwise::{Config, Filter, Llm, Ranked};
use pathwise_model::{Record, TraceEvent, TraceId};
use pathwise_server::{Server, ServerConfig};
use pathwise_store::{Backend, Store};
use pathwise_store_sqlite::{SqliteBackend, SqliteStore};
use serde_json::json;

/// Spans in the fixture's one large trace.
pub const LARGE_TRACE_SPANS: usize = 3_001;

/// The SQLite backend over `db`, creating the database if it does not exist yet.
pub fn backend(db: impl AsRef<Path>) -> Arc<dyn Backend> {
    Arc::new(SqliteBackend::create(db.as_ref()).unwrap())
}

/// One trace of a single root span, as [`write_roots`] writes it.
pub struct Root {
    pub name: &'static str,
    /// How long before now it started.
    pub age_ms: u64,
    pub duration_ms: u64,
    pub failed: bool,
}

/// Writes one single-span trace per root into `backend` (trace ids from `seed` up), so a
/// test knows every figure of its list by construction.
pub fn write_roots(backend: &Arc<dyn Backend>, roots: &[Root], seed: u128) {
    let now_ms = db_queries::now_ms();
    let records: Vec<Record> = roots
        .iter()
        .enumerate()
        .map(|(i, root)| {
            let start_ms = now_ms - root.age_ms;
            let mut span = pathwise_model::SpanRecord::new(
                TraceId::from_parts(start_ms, seed + i as u128),
                1,
                0,
                root.name.into(),
                pathwise_model::SpanKind::Span,
            );
            span.start_ns = start_ms as i64 * 1_000_000;
            span.duration_ns = root.duration_ms * 1_000_000;
            if root.failed {
                span.status = pathwise_model::Status::Error;
            }
            Record::Span(span)
        })
        .collect();
    backend.writer().unwrap().write_records(&records).unwrap();
}

/// Records the fixture workload into `db`.
pub fn record_fixture(db: &Path) {
    let pathwise = pathwise::init(Config {
        db_path: db.to_path_buf(),
        ..Config::default()
    })
    .unwrap();
    for i in 0..30 {
        let _root = pathwise::span("SearchService.search").attr("query", format!("q{i}"));
        let _geo = pathwise::span("GEOClient.search");
        if i % 10 == 0 {
            let mut failing = pathwise::span("PubMedClient.search");
            failing.fail("RateLimitError", "429 Too Many Requests");
        }
    }
    {
        let trace = pathwise::trace("competitor-selection").metadata("product", "B0123");
        {
            let mut step = trace.step("keyword_generation");
            step.input(&json!({"title": "wireless mouse"}));
            step.llm(
                Llm::new("gpt-4o")
                    .provider("openai")
                    .tokens(812, 64)
                    .temperature(0.7)
                    .prompt(&json!([
                        {"role": "system", "content": "Reply with search keywords."},
                        {"role": "user", "content": "wireless mouse"},
                    ]))
                    .completion("mouse, wireless"),
            );
            step.output(&json!(["mouse", "wireless"]));
            step.reasoning("Picked <script>alert(\"x\")</script> as a keyword on purpose");
        }
        {
            let mut step = trace.step("apply_filters");
            step.add_evaluation(
                "B1",
                &json!({"price": 25}),
                vec![
                    Filter::new("price", true, "under $30"),
                    Filter::new("rating", true, "4.5 ≥ 4"),
                ],
                true,
                Some("passed all"),
            );
            step.add_evaluation(
                "B2",
                &json!({"price": 45}),
                vec![
                    Filter::new("price", false, "over $30"),
                    Filter::new("rating", true, "4.1 ≥ 4"),
                ],
                false,
                None,
            );
            step.output(&json!({"kept": 1}));
        }
        {
            let mut step = trace.step("ranking");
            step.ranked_candidates(vec![
                Ranked::new(1, "B1", 0.93, "cheapest"),
                Ranked::new(2, "B7", 0.71, "best rated"),
            ]);
            step.metadata("notes", json!({"nested": {"deep": [1, 2, 3]}}));
        }
    }
    {
        let _big = pathwise::span("BatchImport.run");
        for _ in 0..100 {
            let _chunk = pathwise::span("BatchImport.chunk");
            for _ in 0..29 {
                let _row = pathwise::span("BatchImport.row");
            }
        }
    }
    pathwise.shutdown();
    // A trace still running (its process is alive elsewhere).
    let mut store = SqliteStore::open(db).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let running = Record::Trace(TraceEvent::Started {
        trace_id: TraceId::from_parts(now_ms, 77),
        name: "nightly-reindex".into(),
        start_ns: now_ms as i64 * 1_000_000,
        metadata: None,
    });
    store.write_records(&[running]).unwrap();
}

/// The fixture database, recorded once per test binary.
pub fn fixture_db() -> PathBuf {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fixture.db");
        record_fixture(&db);
        (dir, db)
    })
    .1
    .clone()
}

/// Starts a real server on an ephemeral loopback port; it lives until the test binary exits.
pub fn start_server(mut config: ServerConfig) -> SocketAddr {
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let server = Server::bind(config).await.unwrap();
            tx.send(server.local_addr()).unwrap();
            server.run().await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// A server over a fresh SQLite file `file` that `write` fills first: its directory, base URL
/// (`http://…`) and what `write` returned (the fixture's ids). The fixture modules keep one
/// per test binary.
pub fn server_over<T>(
    file: &str,
    write: impl FnOnce(&Arc<dyn Backend>) -> T,
) -> (tempfile::TempDir, String, T) {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend(dir.path().join(file));
    let written = write(&backend);
    let addr = start_server(ServerConfig::new(backend));
    (dir, format!("http://{addr}"), written)
}

/// A server over the fixture database, shared by the tests of one binary.
pub fn fixture_server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| start_server(ServerConfig::new(backend(fixture_db()))))
}

/// A configuration over a copy of the fixture database (the alert engine writes its history
/// there, as `alerts.db` in the returned directory) that evaluates `rules`.
pub fn alerting_config(rules: &str) -> (tempfile::TempDir, ServerConfig) {
    let dir = tempfile::tempdir().unwrap();
    let rules_path = dir.path().join("alerts.toml");
    std::fs::write(&rules_path, rules).unwrap();
    let db = dir.path().join("alerts.db");
    std::fs::copy(fixture_db(), &db).unwrap();
    let config = ServerConfig {
        alert_rules: Some(rules_path),
        ..ServerConfig::new(backend(&db))
    };
    (dir, config)
}

/// A server as [`alerting_config`] describes; the directory lives as long as the returned guard.
pub fn alerting_server(rules: &str) -> (tempfile::TempDir, SocketAddr) {
    let (dir, config) = alerting_config(rules);
    (dir, start_server(config))
}

/// The fingerprint of the first firing alert, once one fires (at most 10 s).
pub async fn firing_fingerprint(addr: SocketAddr) -> String {
    let body = wait_for_alerts(addr, "an alert fires", |body| {
        body["active"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["state"] == "firing"))
    })
    .await;
    body["active"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["state"] == "firing")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A client for state-changing API calls: it sends the header the server asks of them (as the
/// dashboard does).
pub fn action_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        pathwise_server::REQUEST_HEADER,
        reqwest::header::HeaderValue::from_static("1"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A rule that fires on the fixture's failed spans at the first evaluation.
pub const FAILED_SPANS_RULE: &str = r#"
[[rule]]
name = "failed spans"
kind = "sql"
query = "SELECT count(*) FROM spans_v WHERE status = 'error'"
op = ">="
threshold = 3
severity = "critical"
"#;

/// Polls `/api/alerts` until `ready` holds for its body (at most 10 s) and returns the body.
pub async fn wait_for_alerts(
    addr: SocketAddr,
    what: &str,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let body: serde_json::Value = reqwest::get(format!("http://{addr}/api/alerts"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready(&body) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} within 10 s: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
