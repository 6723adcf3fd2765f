//! Projects end to end: one server, two projects in SQLite files of their own, each recording
//! through a pipeline of its own. OTLP resources go to the project their `service.namespace`
//! names (else the request's); keys limited to a project neither read nor write another;
//! every answer comes from the project asked for. Counts are the fixture's, by construction.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use pathwise_ingest::{Ingest, IngestConfig};
use pathwise_pipeline::{BatchPipeline, PipelineConfig};
use pathwise_server::{ServedProject, ServerConfig};
use pathwise_store::keys::Scope;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKEN: &str = "projects-admin";

/// A project's recording side: its pipeline (into `backend`) and ingest.
fn recording(
    backend: &Arc<dyn pathwise_store::Backend>,
    spool: std::path::PathBuf,
) -> (Arc<BatchPipeline>, Arc<Ingest>) {
    let pipeline = Arc::new(
        BatchPipeline::start(
            PipelineConfig {
                retention: None,
                ..PipelineConfig::new(spool)
            },
            backend.writer().unwrap(),
        )
        .unwrap(),
    );
    let ingest = Arc::new(Ingest::with_sink(
        IngestConfig::default(),
        Box::new(pipeline.clone()),
    ));
    (pipeline, ingest)
}

/// An OTLP/JSON body: one resource per `(namespace, root names)`, each name a one-span trace.
fn body(resources: &[(Option<&str>, &[&str])]) -> String {
    // Ids unique across bodies: stores keep one copy of a (trace, span).
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let resources: Vec<Value> = resources
        .iter()
        .map(|(namespace, names)| {
            let mut attributes =
                vec![json!({"key": "service.name", "value": {"stringValue": "svc"}})];
            if let Some(ns) = namespace {
                attributes.push(json!({"key": "service.namespace", "value": {"stringValue": ns}}));
            }
            let spans: Vec<Value> = names
                .iter()
                .map(|name| {
                    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    // Recent: the analytics' default window is the last hour.
                    let start = common::db_queries::now_ms() * 1_000_000 - 60_000_000_000;
                    json!({
                        "traceId": format!("{:032x}", 0xabc000 + n),
                        "spanId": format!("{:016x}", n),
                        "name": name,
                        "startTimeUnixNano": start.to_string(),
                        "endTimeUnixNano": (start + 5_000_000).to_string(),
                    })
                })
                .collect();
            json!({"resource": {"attributes": attributes}, "scopeSpans": [{"spans": spans}]})
        })
        .collect();
    json!({ "resourceSpans": resources }).to_string()
}

async fn post(addr: SocketAddr, path: &str, body: String, credential: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .bearer_auth(credential)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(addr: SocketAddr, path: &str, credential: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The names of the traces `credential` sees in `project` (sorted).
async fn trace_names(addr: SocketAddr, project: &str, credential: &str) -> Vec<String> {
    let (status, list) = get(
        addr,
        &format!("/api/traces?project={project}&limit=100"),
        credential,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut names: Vec<String> = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_project_sees_only_its_own_traces_and_keys_reach_only_their_projects() {
    let dir = tempfile::tempdir().unwrap();
    let shop = common::backend(dir.path().join("shop.db"));
    let billing = common::backend(dir.path().join("billing.db"));
    let (shop_pipeline, shop_ingest) = recording(&shop, dir.path().join("spool-shop"));
    let (billing_pipeline, billing_ingest) = recording(&billing, dir.path().join("spool-billing"));
    // Keys live in the default project's store.
    let mut keys = shop.key_store().unwrap();
    let (row, shop_key) = pathwise_server::keys::generate(
        "shop-app",
        vec![Scope::Ingest, Scope::Read],
        vec!["shop".into()],
    );
    keys.create_key(&row).unwrap();
    let (row, billing_reader) =
        pathwise_server::keys::generate("billing-ro", vec![Scope::Read], vec!["billing".into()]);
    keys.create_key(&row).unwrap();
    let (row, billing_sender) =
        pathwise_server::keys::generate("billing-app", vec![Scope::Ingest], vec!["billing".into()]);
    keys.create_key(&row).unwrap();
    drop(keys);
    let addr = common::start_server(ServerConfig {
        token: Some(TOKEN.into()),
        project: "shop".into(),
        ingest: Some(shop_ingest),
        pipeline: Some(shop_pipeline.clone()),
        more_projects: vec![ServedProject {
            ingest: Some(billing_ingest),
            pipeline: Some(billing_pipeline.clone()),
            ..ServedProject::new("billing", billing.clone())
        }],
        ..ServerConfig::new(shop.clone())
    });

    // One request, three resources: the namespace routes two of them; the third (no
    // namespace, or one that names no project) goes to the request's project.
    let (status, reply) = post(
        addr,
        "/v1/traces",
        body(&[
            (Some("billing"), &["invoice", "refund", "charge"]),
            (None, &["checkout", "cart"]),
            (Some("unrelated-namespace"), &["search"]),
        ]),
        TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert!(reply["partialSuccess"].is_null(), "{reply}");
    // A key limited to billing sends there without naming it.
    let (status, _) = post(
        addr,
        "/v1/traces",
        body(&[(None, &["payout"])]),
        &billing_sender,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The shop key's spans for billing are rejected (counted), its own kept.
    let (status, reply) = post(
        addr,
        "/v1/traces",
        body(&[(Some("billing"), &["sneaky"]), (None, &["wishlist"])]),
        &shop_key,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        reply["partialSuccess"]["rejectedSpans"],
        json!(1),
        "{reply}"
    );
    assert!(
        reply["partialSuccess"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("may not send to project \"billing\""),
        "{reply}"
    );
    // Naming a project the key may not reach is refused whole.
    let (status, _) = post(
        addr,
        "/v1/traces?project=billing",
        body(&[(None, &["x"])]),
        &shop_key,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(
        addr,
        "/v1/traces?project=nope",
        body(&[(None, &["x"])]),
        TOKEN,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(shop_pipeline.flush_committed(Duration::from_secs(10)));
    assert!(billing_pipeline.flush_committed(Duration::from_secs(10)));

    assert_eq!(
        trace_names(addr, "billing", TOKEN).await,
        ["charge", "invoice", "payout", "refund"]
    );
    assert_eq!(
        trace_names(addr, "shop", TOKEN).await,
        ["cart", "checkout", "search", "wishlist"]
    );
    // Without `project`, the default project.
    let (_, default) = get(addr, "/api/traces?limit=100", TOKEN).await;
    assert_eq!(default["traces"].as_array().unwrap().len(), 4);
    // Rollups are per project too: billing's node list holds billing's names alone.
    let (status, nodes) = get(addr, "/api/nodes?project=billing", TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{nodes}");
    let mut node_names: Vec<&str> = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    node_names.sort();
    assert_eq!(node_names, ["charge", "invoice", "payout", "refund"]);

    // A reader limited to billing reads billing, and nothing of shop.
    assert_eq!(trace_names(addr, "billing", &billing_reader).await.len(), 4);
    for path in [
        "/api/traces",
        "/api/traces?project=shop",
        "/api/nodes?project=shop",
    ] {
        let (status, error) = get(addr, path, &billing_reader).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {error}");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("project"),
            "{error}"
        );
    }
    // It cannot read a trace of shop by id through its own project either: ids are per store.
    let (_, shop_list) = get(addr, "/api/traces?project=shop", TOKEN).await;
    let shop_trace = shop_list["traces"][0]["trace_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = get(
        addr,
        &format!("/api/traces/{shop_trace}?project=billing"),
        &billing_reader,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The project list says what each credential reaches.
    let (_, all) = get(addr, "/api/projects", TOKEN).await;
    assert_eq!(all["current"], "shop");
    let names: Vec<&str> = all["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shop", "billing"]);
    assert_eq!(all["projects"][0]["default"], true);
    let (status, mine) = get(addr, "/api/projects?project=billing", &billing_reader).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["projects"].as_array().unwrap().len(), 1);
    assert_eq!(mine["projects"][0]["name"], "billing");
    // Bad and unknown names: a clear 400 or 404, never a 500.
    let (status, error) = get(addr, "/api/traces?project=../shop", TOKEN).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["parameter"], "project");
    let (status, error) = get(addr, "/api/traces?project=", TOKEN).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["error"]["parameter"], "project");
    let (status, _) = post(addr, "/v1/traces?project=", body(&[(None, &["x"])]), TOKEN).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, error) = get(addr, "/api/traces?project=ghost", TOKEN).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("billing"),
        "{error}"
    );

    // Stored apart: each file holds its project's traces alone.
    let reader = billing.reader().unwrap();
    let page = reader
        .list_traces(&pathwise_store::TraceFilter::default())
        .unwrap();
    assert_eq!(page.traces.len(), 4);
}

/// Alerting is per project: billing's rule runs over billing's store alone (its one failed
/// span fires it), the default project has no rules and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_project_alerts_on_its_own_data() {
    let dir = tempfile::tempdir().unwrap();
    let shop = common::backend(dir.path().join("shop.db"));
    let billing = common::backend(dir.path().join("billing.db"));
    // Billing: 1 failed trace of 2; shop: 3 failed of 3 (rules over shop would fire too).
    let root = |name, failed| common::Root {
        name,
        age_ms: 1_000,
        duration_ms: 5,
        failed,
    };
    common::write_roots(&billing, &[root("charge", true), root("refund", false)], 1);
    common::write_roots(
        &shop,
        &[root("a", true), root("b", true), root("c", true)],
        10,
    );
    let rules = dir.path().join("billing-alerts.toml");
    std::fs::write(
        &rules,
        r#"check_interval = "1s"

[[rule]]
name = "billing errors"
kind = "sql"
query = "SELECT count(*) FROM spans_v WHERE status = 'error'"
op = ">="
threshold = 1
severity = "critical"
"#,
    )
    .unwrap();
    let addr = common::start_server(ServerConfig {
        project: "shop".into(),
        more_projects: vec![ServedProject {
            alert_rules: Some(rules),
            ..ServedProject::new("billing", billing)
        }],
        ..ServerConfig::new(shop)
    });
    let (_, projects) = get(addr, "/api/projects", TOKEN).await;
    let alerting: Vec<(String, bool)> = projects["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["alerting"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        alerting,
        [("shop".to_string(), false), ("billing".to_string(), true)]
    );
    // Billing holds one failed span: its rule fires, on billing's data.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, alerts) = get(addr, "/api/alerts?project=billing", TOKEN).await;
        assert_eq!(status, StatusCode::OK, "{alerts}");
        let firing = alerts["active"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["rule"] == "billing errors" && a["state"] == "firing");
        if firing {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{alerts}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, shop_alerts) = get(addr, "/api/alerts", TOKEN).await;
    assert_eq!(shop_alerts["enabled"], false, "{shop_alerts}");
    assert!(shop_alerts["active"].as_array().unwrap().is_empty());
}
