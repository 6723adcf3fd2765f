//! The API against a real server on an ephemeral port, over a database recorded by the SDK.

mod common;

use std::collections::HashSet;

use pathwise_server::ServerConfig;
use reqwest::StatusCode;
use serde_json::Value;

async fn get(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn base() -> String {
    format!("http://{}", common::fixture_server())
}

async fn traces(query: &str) -> Vec<Value> {
    let (status, body) = get(&format!("{}/api/traces?{query}", base())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["traces"].as_array().unwrap().clone()
}

async fn trace_id_named(name: &str) -> String {
    let found = traces(&format!("q={name}")).await;
    found[0]["trace_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn health_and_openapi_describe_every_route() {
    let (status, body) = get(&format!("{}/health", base())).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, doc) = get(&format!("{}/api/openapi.json", base())).await;
    assert_eq!(status, StatusCode::OK);
    let documented: HashSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let served: HashSet<&str> = pathwise_server::API_PATHS.iter().copied().collect();
    assert_eq!(documented, served);
}

#[tokio::test]
async fn lists_filter_and_paginate_without_gaps() {
    let all = traces("limit=1000").await;
    assert_eq!(
        all.len(),
        33,
        "30 searches, a decision, a batch and a running trace"
    );
    let starts: Vec<i64> = all
        .iter()
        .map(|t| t["start_ns"].as_i64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]), "newest first");

    assert_eq!(traces("status=running").await.len(), 1);
    assert_eq!(traces("q=competitor").await.len(), 1);
    assert_eq!(traces("name=competitor").await.len(), 1);
    assert_eq!(
        traces("q=kind%20%3D%3D%20step%20AND%20trace.name%20contains%20competitor")
            .await
            .len(),
        1
    );
    assert_eq!(
        traces("q=SEARCHSERVICE").await.len(),
        30,
        "name search ignores case"
    );
    let failed = traces("status=failed").await;
    assert!(failed.iter().all(|t| t["status"] == "failed"));

    let mut seen = HashSet::new();
    let mut url = format!("{}/api/traces?limit=7", base());
    loop {
        let (_, page) = get(&url).await;
        for t in page["traces"].as_array().unwrap() {
            assert!(
                seen.insert(t["trace_id"].as_str().unwrap().to_string()),
                "no duplicates"
            );
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{}/api/traces?limit=7&cursor={cursor}", base()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 33);
    assert!(traces("since=1h").await.len() >= 32);
    assert!(traces("until=0").await.is_empty());
    assert!(traces("min_ms=100000").await.is_empty());
}

#[tokio::test]
async fn trace_detail_has_steps_with_their_payloads() {
    let id = trace_id_named("competitor-selection").await;
    let (status, body) = get(&format!("{}/api/traces/{id}", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["trace"]["metadata"]["product"], "B0123");
    let spans = body["spans"].as_array().unwrap();
    let names: Vec<&str> = spans.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        vec![
            "competitor-selection",
            "keyword_generation",
            "apply_filters",
            "ranking"
        ]
    );
    let filters = &spans[2];
    assert_eq!(filters["kind"], "step");
    assert_eq!(
        filters["metadata"]["evaluations"].as_array().unwrap().len(),
        2
    );
    assert_eq!(spans[1]["metadata"]["llm"]["model"], "gpt-4o");
    // Its cost at gpt-4o's list price: 812 × $2.50/M + 64 × $10/M; no cost where no model.
    let cost = spans[1]["llm_cost_usd"].as_f64().unwrap();
    assert!((cost - 0.00267).abs() < 1e-12, "{cost}");
    assert!(spans[2].get("llm_cost_usd").is_none());
    assert!(
        spans[1]["reasoning"].as_str().unwrap().contains("<script>"),
        "stored as text, escaped by the page"
    );
    assert!(
        spans[0]["span_id"].is_string(),
        "64-bit ids travel as strings"
    );
}

#[tokio::test]
async fn large_traces_come_bounded_and_load_subtrees_on_demand() {
    let id = trace_id_named("BatchImport.run").await;
    let (_, body) = get(&format!("{}/api/traces/{id}?max_spans=500", base())).await;
    assert_eq!(body["total_spans"], common::LARGE_TRACE_SPANS);
    assert_eq!(body["truncated"], true);
    let spans = body["spans"].as_array().unwrap();
    assert!(spans.len() <= 500);
    let chunks: Vec<&Value> = spans
        .iter()
        .filter(|s| s["name"] == "BatchImport.chunk")
        .collect();
    assert_eq!(chunks.len(), 100, "the top levels come first");
    // A loaded span shows all of its children or none of them.
    let loaded_children = |parent: &Value| {
        spans
            .iter()
            .filter(|s| s["parent_id"] == parent["span_id"])
            .count()
    };
    assert!(
        chunks
            .iter()
            .all(|c| c["child_count"] == 29 && [0, 29].contains(&loaded_children(c)))
    );
    let chunk = *chunks
        .iter()
        .find(|c| loaded_children(c) == 0)
        .expect("some chunks wait");
    let parent = chunk["span_id"].as_str().unwrap();
    let (status, children) =
        get(&format!("{}/api/traces/{id}/spans?parent={parent}", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(children["total"], 29);
    assert_eq!(children["spans"].as_array().unwrap().len(), 29);
    assert!(
        children["spans"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["parent_id"] == parent)
    );
}

#[tokio::test]
async fn stats_and_pipeline() {
    let (status, stats) = get(&format!("{}/api/stats?since=1h", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["total"], 33);
    assert_eq!(stats["running"], 1);
    assert_eq!(
        stats["failed"].as_u64().unwrap() + stats["completed"].as_u64().unwrap(),
        32
    );
    assert!(
        stats["p95_duration_ms"].as_f64().unwrap()
            >= stats["avg_duration_ms"].as_f64().unwrap() * 0.0
    );
    let (status, pipeline) = get(&format!("{}/api/pipeline", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pipeline["dropped"], 0);
    assert!(pipeline["last_5m"]["spans"].as_u64().unwrap() > 3000);
    assert!(pipeline["last_5m"]["errors"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn bad_requests_are_400s_that_name_the_parameter() {
    let cases = [
        ("/api/traces?status=exploded", "status"),
        ("/api/traces?limit=0", "limit"),
        ("/api/traces?limit=1001", "limit"),
        ("/api/traces?limit=ten", "limit"),
        ("/api/traces?cursor=garbage", "cursor"),
        ("/api/traces?q=duration_ms%20%3E", "q"),
        ("/api/traces?q=nme%20%3D%3D%201", "q"),
        ("/api/traces?since=yesterday-ish", "since"),
        ("/api/traces?min_ms=-5", "min_ms"),
        ("/api/traces?min_ms=10&max_ms=5", "max_ms"),
        ("/api/traces?since=1000&until=10", "until"),
        ("/api/traces/not-a-trace-id", "id"),
        (
            "/api/traces/00000000000000000000000000000001?max_spans=0",
            "max_spans",
        ),
        (
            "/api/traces/00000000000000000000000000000001/spans?parent=x",
            "parent",
        ),
        ("/api/stats?since=%F0%9F%92%A5", "since"),
    ];
    for (path, parameter) in cases {
        let (status, body) = get(&format!("{}{path}", base())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{path}: {body}");
    }
    let (_, body) = get(&format!("{}/api/traces?q=status%20%3D%3D%20meh", base())).await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("q: column 11: "), "{body}");
    let long = "a".repeat(5000);
    let (status, _) = get(&format!("{}/api/traces?q={long}", base())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = get(&format!(
        "{}/api/traces/00000000000000000000000000000001",
        base()
    ))
    .await;
    assert_eq!(
        (status, body["error"]["status"].as_u64()),
        (StatusCode::NOT_FOUND, Some(404))
    );
    let (status, _) = get(&format!("{}/api/nope", base())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_token_guards_api_and_dashboard() {
    let addr = common::start_server(ServerConfig {
        token: Some("s3cret-token".into()),
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let api = format!("http://{addr}/api/traces");
    assert_eq!(
        client.get(&api).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = client
        .get(&api)
        .bearer_auth("s3cret-tokex")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = client
        .get(&api)
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    let page = client.get(format!("http://{addr}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    assert!(page.text().await.unwrap().contains("requires a token"));
    let login = client
        .post(format!("http://{addr}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=s3cret-token")
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"));
    let with_cookie = client
        .get(&api)
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::OK);
    // The health check stays open for probes.
    assert_eq!(
        client
            .get(format!("http://{addr}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn cors_is_off_unless_configured_and_bodies_are_limited() {
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/api/traces", base()))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let allowed = common::start_server(ServerConfig {
        cors_origins: vec!["https://ops.example".into()],
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let response = client
        .get(format!("http://{allowed}/api/traces"))
        .header("origin", "https://ops.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://ops.example"
    );
    let huge = client
        .post(format!("{}/login", base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={}", "x".repeat(100_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn analytics_answer_from_rollups() {
    let (status, nodes) = get(&format!("{}/api/nodes", base())).await;
    assert_eq!(status, StatusCode::OK, "{nodes}");
    let geo = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == "GEOClient.search")
        .unwrap();
    assert_eq!(geo["calls"], 30);
    let (_, hot) = get(&format!("{}/api/paths/hot?limit=3", base())).await;
    assert_eq!(
        hot["paths"][0]["key"],
        "BatchImport.run → BatchImport.chunk → BatchImport.row"
    );
    let (_, errors) = get(&format!("{}/api/paths/errors", base())).await;
    assert_eq!(
        errors["paths"][0]["key"],
        "SearchService.search → GEOClient.search → PubMedClient.search"
    );
    assert_eq!(errors["paths"][0]["error_rate"], 1.0);
    let (_, slow) = get(&format!("{}/api/paths/slow?min_calls=1", base())).await;
    assert!(!slow["paths"].as_array().unwrap().is_empty());
    let (_, consumers) = get(&format!("{}/api/consumers", base())).await;
    assert!(consumers["opportunities"].is_array());
    let (_, unused) = get(&format!("{}/api/unused", base())).await;
    assert!(unused["never_executed"].is_array());
    let (_, graph) = get(&format!("{}/api/graph", base())).await;
    assert!(
        graph["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["caller"] == "BatchImport.chunk"
                && e["callee"] == "BatchImport.row"
                && e["calls"] == 2900)
    );
    let (status, patterns) = get(&format!("{}/api/error-patterns?attr=query", base())).await;
    assert_eq!(status, StatusCode::OK, "{patterns}");
    assert_eq!(patterns["spans"], 30);
    // The attributes the picker offers: `query` on the 30 search roots (none failed); nothing
    // Pathwise writes for itself.
    let (status, keys) = get(&format!("{}/api/attributes", base())).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    let keys = keys["attributes"].as_array().unwrap();
    let query = keys.iter().find(|k| k["key"] == "query").unwrap();
    assert_eq!(
        (query["spans"].as_i64(), query["errors"].as_i64()),
        (Some(30), Some(0))
    );
    assert!(
        keys.iter()
            .all(|k| !k["key"].as_str().unwrap().starts_with("pathwise.")),
        "{keys:?}"
    );

    let svg = reqwest::get(format!("{}/api/flamegraph.svg?since=1h", base()))
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("BatchImport.row"));
    let id = trace_id_named("BatchImport.run").await;
    let svg = reqwest::get(format!("{}/api/flamegraph.svg?trace={id}", base()))
        .await
        .unwrap();
    assert_eq!(svg.status(), StatusCode::OK);
    let diff = reqwest::get(format!(
        "{}/api/flamegraph.svg?since=1h&base_since=2h&base_until=1h",
        base()
    ))
    .await
    .unwrap();
    assert_eq!(diff.status(), StatusCode::OK);
    let (status, critical) = get(&format!("{}/api/traces/{id}/critical-path", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(critical["critical_path"][0]["name"], "BatchImport.run");

    for (path, parameter) in [
        ("/api/error-patterns", "attr"),
        ("/api/nodes?since=soon", "since"),
        ("/api/paths/hot?limit=0", "limit"),
        ("/api/flamegraph.svg?trace=xyz", "trace"),
        ("/api/graph?since=2000&until=1000", "until"),
    ] {
        let (status, body) = get(&format!("{}{path}", base())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{path}");
    }
    let (status, _) = get(&format!("{}/api/paths/coldest", base())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn monitoring_routes_answer() {
    // Two minutes from now, everything recorded lies in the baseline window.
    let later_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 120_000;
    let (status, snap) = get(&format!("{}/api/snapshot?at={later_ms}", base())).await;
    assert_eq!(status, StatusCode::OK, "{snap}");
    assert!(snap["overall"]["score"].as_u64().unwrap() <= 100);
    let ops = snap["operations"].as_array().unwrap();
    let rows = ops.iter().find(|o| o["name"] == "BatchImport.row").unwrap();
    assert!(
        rows["baseline"]["p95"].as_f64().is_some(),
        "2,900 samples are enough to learn: {rows}"
    );
    let search = ops
        .iter()
        .find(|o| o["name"] == "SearchService.search")
        .unwrap();
    assert_eq!(
        search["learning"]["NotEnoughSamples"]["need"], 100,
        "30 samples: still learning"
    );
    let (status, health) = get(&format!("{}/api/health", base())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(health["components"].is_array());
    for route in ["regressions", "baselines", "trends"] {
        let (status, body) =
            get(&format!("{}/api/{route}?recent_s=300&baseline_h=2", base())).await;
        assert_eq!(status, StatusCode::OK, "{route}: {body}");
    }
    let (status, body) = get(&format!("{}/api/snapshot?recent_s=1", base())).await;
    assert_eq!(
        (status, body["error"]["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("recent_s"))
    );
}

#[tokio::test]
async fn resources_come_with_an_rss_forecast() {
    use pathwise_model::{HostResources, ProcessResources, Record, ResourceSample};
    use pathwise_store::Store;
    use pathwise_store_sqlite::SqliteStore;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("resources.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    // RSS grows exactly 36 MiB per hour: one sample a minute for the last 30 minutes.
    let records: Vec<Record> = (0..30)
        .map(|i| {
            let minutes_ago = 30 - i;
            Record::Resource(ResourceSample {
                ts_ns: now_ns - minutes_ago * 60_000_000_000,
                process: ProcessResources {
                    rss_bytes: (1024 + i as u64 * 6 / 10) << 20,
                    threads: 4,
                    open_fds: 9,
                    ..Default::default()
                },
                host: HostResources {
                    mem_used_bytes: 1 << 30,
                    mem_available_bytes: 1 << 30,
                    ..Default::default()
                },
            })
        })
        .collect();
    store.write_records(&records).unwrap();
    let addr = common::start_server(ServerConfig::new(common::backend(&db)));
    let (status, body) = get(&format!("http://{addr}/api/resources?since=1h")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 30);
    let trend = &body["rss_trend"];
    let slope_mib = trend["slope_bytes_per_hour"].as_f64().unwrap() / (1u64 << 20) as f64;
    assert!((slope_mib - 36.0).abs() < 1.5, "slope {slope_mib} MiB/h");
    assert!(
        trend["description"]
            .as_str()
            .unwrap()
            .starts_with("RSS grows")
    );
    assert!(
        trend["time_to_limit_s"].as_f64().unwrap() > 0.0,
        "heading for the 2 GiB host limit"
    );
    let (status, body) = get(&format!("http://{addr}/api/resources?limit=0")).await;
    assert_eq!(
        (status, body["error"]["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limit"))
    );
}

#[tokio::test]
async fn alerts_fire_can_be_acknowledged_and_silenced_and_cost_health_points() {
    let (_dir, addr) = common::alerting_server(&format!(
        "check_interval = \"1s\"\n{}annotations = {{ summary = \"{{{{ value }}}} failed spans\" }}\n",
        common::FAILED_SPANS_RULE
    ));
    let active = common::wait_for_alerts(addr, "the alert never fired", |body| {
        body["active"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["state"] == "firing"))
    })
    .await;
    assert_eq!(active["enabled"], true);
    let alert = &active["active"][0];
    assert_eq!(alert["rule"], "failed spans");
    let fingerprint = alert["fingerprint"].as_str().unwrap().to_string();

    let (_, health) = get(&format!("http://{addr}/api/health")).await;
    let component_reasons = health["components"][0]["health"]["reasons"].to_string();
    assert!(
        component_reasons.contains("failed spans"),
        "a firing critical alert costs points: {component_reasons}"
    );
    assert!(health["overall"]["score"].as_u64().unwrap() <= 80);

    let client = common::action_client();
    let ack = client
        .post(format!(
            "http://{addr}/api/alerts/{fingerprint}/ack?by=oncall"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), StatusCode::OK);
    let unknown = client
        .post(format!("http://{addr}/api/alerts/ffffffff/ack"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let silence = client
        .post(format!(
            "http://{addr}/api/silences?rule=failed%20spans&for=2h&comment=deploy"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(silence.status(), StatusCode::OK);
    let bad = client
        .post(format!("http://{addr}/api/silences?rule=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let (_, after) = get(&format!("http://{addr}/api/alerts")).await;
    assert!(
        after["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["state"] == "acknowledged" && h["actor"] == "oncall"),
        "{after}"
    );
    assert_eq!(after["silences"].as_array().unwrap().len(), 1);

    // Without a rules file alerting is simply off.
    let (_, off) = get(&format!("{}/api/alerts", base())).await;
    assert_eq!(off["enabled"], false);
}

/// The rule of `body["rules"]` named `name`.
fn rule_named<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no rule {name}: {body}"))
}

/// `(rule, silenced)` of each active alert, by rule name.
fn silenced_flags(body: &Value) -> Vec<(String, bool)> {
    let mut flags: Vec<(String, bool)> = body["active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["rule"].as_str().unwrap().to_string(),
                a["silenced"].as_bool().unwrap(),
            )
        })
        .collect();
    flags.sort();
    flags
}

#[tokio::test]
async fn alerts_list_every_rule_with_its_state_and_a_silence_can_be_ended() {
    // By construction: the fixture has 3 failed spans, so "failed spans" fires at once and
    // "failed spans, held" (the same condition, `for = 1h`) stays pending; no p95 reaches
    // 10^12 ms, so "slow roots" is ok.
    let rules = format!(
        r#"check_interval = "1s"
{}
[[rule]]
name = "failed spans, held"
kind = "sql"
query = "SELECT count(*) FROM spans_v WHERE status = 'error'"
op = ">="
threshold = 3
for = "1h"
severity = "warning"

[[rule]]
name = "slow roots"
kind = "threshold"
signal = "p95_ms"
op = ">"
threshold = 1e12
severity = "error"
"#,
        common::FAILED_SPANS_RULE
    );
    let (_dir, addr) = common::alerting_server(&rules);
    let alerts = format!("http://{addr}/api/alerts");
    let body = common::wait_for_alerts(addr, "the rules never reached their states", |b| {
        let state = |name: &str| {
            b["rules"]
                .as_array()
                .and_then(|r| r.iter().find(|r| r["name"] == name))
                .map(|r| r["state"].clone())
        };
        state("failed spans") == Some("firing".into())
            && state("failed spans, held") == Some("pending".into())
    })
    .await;
    let names: Vec<&str> = body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["failed spans", "failed spans, held", "slow roots"]);
    let firing = rule_named(&body, "failed spans");
    assert_eq!(
        (
            &firing["kind"],
            &firing["severity"],
            &firing["op"],
            &firing["threshold"],
            &firing["unit"],
            &firing["value"]
        ),
        (
            &Value::from("sql"),
            &Value::from("critical"),
            &Value::from(">="),
            &Value::from(3.0),
            &Value::from("number"),
            &Value::from(3.0)
        ),
        "{firing}"
    );
    let held = rule_named(&body, "failed spans, held");
    assert_eq!(
        (&held["for_s"], &held["value"]),
        (&Value::from(3600.0), &Value::from(3.0))
    );
    let slow = rule_named(&body, "slow roots");
    assert_eq!(
        (
            &slow["state"],
            &slow["signal"],
            &slow["unit"],
            &slow["value"]
        ),
        (
            &Value::from("ok"),
            &Value::from("p95_ms"),
            &Value::from("ms"),
            &Value::Null
        ),
        "{slow}"
    );
    assert_eq!(
        silenced_flags(&body),
        [
            ("failed spans".into(), false),
            ("failed spans, held".into(), false)
        ]
    );

    // Silencing the firing rule: it and its alert read silenced; the pending one is untouched.
    let client = common::action_client();
    let made: Value = client
        .post(format!(
            "http://{addr}/api/silences?rule=failed%20spans&for=2h"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = made["silence"].as_i64().unwrap();
    let (_, silenced) = get(&alerts).await;
    let rule = rule_named(&silenced, "failed spans");
    assert_eq!(
        (&rule["state"], &rule["alert_state"], &rule["silenced_by"]),
        (
            &Value::from("silenced"),
            &Value::from("firing"),
            &serde_json::json!([id])
        ),
        "{rule}"
    );
    assert_eq!(
        rule_named(&silenced, "failed spans, held")["state"],
        "pending"
    );
    assert_eq!(rule_named(&silenced, "slow roots")["state"], "ok");
    assert_eq!(
        silenced_flags(&silenced),
        [
            ("failed spans".into(), true),
            ("failed spans, held".into(), false)
        ]
    );

    // Ending it: the rule fires again, the silence is gone; ending it again finds nothing.
    let end = format!("http://{addr}/api/silences/{id}/end");
    let ended = client.post(&end).send().await.unwrap();
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(ended.json::<Value>().await.unwrap()["ended"], id);
    let (_, after) = get(&alerts).await;
    assert_eq!(rule_named(&after, "failed spans")["state"], "firing");
    assert_eq!(after["silences"], serde_json::json!([]));
    assert_eq!(
        silenced_flags(&after),
        [
            ("failed spans".into(), false),
            ("failed spans, held".into(), false)
        ]
    );
    let again = client.post(&end).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["error"]["status"], 404, "{again}");
    let unknown = client
        .post(format!("http://{addr}/api/silences/{}/end", id + 1000))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let word = client
        .post(format!("http://{addr}/api/silences/abc/end"))
        .send()
        .await
        .unwrap();
    assert_eq!(word.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        word.json::<Value>().await.unwrap()["error"]["parameter"],
        "id"
    );
    // Like every POST, it is refused without the header a cross-site form cannot send.
    let forged = reqwest::Client::new()
        .post(format!("http://{addr}/api/silences/{id}/end"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // A fingerprint silence mutes only the rule of that alert.
    let held_fp = after["active"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule"] == "failed spans, held")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let by_fp = client
        .post(format!(
            "http://{addr}/api/silences?fingerprint={held_fp}&for=1h"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(by_fp.status(), StatusCode::OK);
    let (_, muted) = get(&alerts).await;
    assert_eq!(
        rule_named(&muted, "failed spans, held")["state"],
        "silenced"
    );
    assert_eq!(rule_named(&muted, "failed spans")["state"], "firing");

    // Without a rules file there are no rules, and no silence to end.
    let (_, off) = get(&format!("{}/api/alerts", base())).await;
    assert_eq!(off["rules"], serde_json::json!([]));
    let off_end = client
        .post(format!("{}/api/silences/1/end", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(off_end.status(), StatusCode::NOT_FOUND);
}
