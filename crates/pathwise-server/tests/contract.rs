//! The server keeps the contract its OpenAPI document states: each status it gives is
//! documented, every error has the documented JSON shape, and the parameter grammars the
//! document publishes are the ones the server accepts. (The schemathesis run in
//! python/tests/test_api_contract.py checks the same against generated requests.)

mod common;

use std::collections::BTreeSet;

use pathwise_server::ServerConfig;
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn base() -> String {
    format!("http://{}", common::fixture_server())
}

async fn send(method: Method, url: &str) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    // The dashboard's header: state-changing calls without it are refused as cross-site.
    let response = reqwest::Client::new()
        .request(method, url)
        .header("x-pathwise-request", "1")
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn get(path: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(Method::GET, &format!("{}{path}", base())).await;
    (status, body)
}

async fn document() -> Value {
    get("/api/openapi.json").await.1
}

/// The statuses the document lists for an operation.
fn documented(doc: &Value, path: &str, method: &str) -> BTreeSet<String> {
    doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .cloned()
        .collect()
}

fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

/// `body` is the documented error shape for `status`.
fn assert_error_shape(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(body["error"]["status"], status.as_u16(), "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers[name].to_str().unwrap()
}

const TRACE: &str = "00000000000000000000000000000001";

#[tokio::test]
async fn error_patterns_answer_for_any_attribute_name() {
    // One recording pipeline per process: the shared fixture is recorded first.
    common::fixture_db();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("attrs.db");
    let pathwise = pathwise::init(pathwise::Config {
        db_path: db.clone(),
        ..pathwise::Config::default()
    })
    .unwrap();
    for i in 0..6 {
        let mut span = pathwise::span("odd.attrs").attr("we\"ird\\key", (i % 2) as i64);
        if i % 2 == 1 {
            span.fail("Odd", "odd value");
        }
    }
    pathwise.shutdown();
    let addr = common::start_server(ServerConfig::new(common::backend(&db)));
    for attr in ["%5C", "a%00b", "%22", "%22%5D"] {
        let (status, _, body) = send(
            Method::GET,
            &format!("http://{addr}/api/error-patterns?attr={attr}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{attr}: {body}");
        assert_eq!(body["spans"], 0, "{attr}: {body}");
    }
    let (status, _, body) = send(
        Method::GET,
        &format!("http://{addr}/api/error-patterns?attr=we%22ird%5Ckey"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["spans"].as_i64(), body["errors"].as_i64()),
        (Some(6), Some(3)),
        "{body}"
    );
}

#[tokio::test]
async fn not_found_and_bad_kind_are_documented_and_given() {
    let doc = document().await;
    for (path, url) in [
        ("/api/traces/{id}", format!("/api/traces/{TRACE}")),
        (
            "/api/traces/{id}/spans",
            format!("/api/traces/{TRACE}/spans"),
        ),
        (
            "/api/traces/{id}/critical-path",
            format!("/api/traces/{TRACE}/critical-path"),
        ),
        (
            "/api/flamegraph.svg",
            "/api/flamegraph.svg?since=1&until=2".into(),
        ),
    ] {
        let (status, body) = get(&url).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}: {body}");
        assert_error_shape(status, &body, &url);
        assert!(documented(&doc, path, "get").contains("404"), "{path}");
    }
    let (status, _, body) = send(Method::POST, &format!("{}/api/alerts/abc123/ack", base())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "alerting is off: {body}");
    assert!(documented(&doc, "/api/alerts/{fingerprint}/ack", "post").contains("404"));
    let (status, _, body) = send(Method::POST, &format!("{}/api/silences/7/end", base())).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "alerting is off: {body}");
    assert_error_shape(status, &body, "end a silence");
    let (status, _, body) = send(Method::POST, &format!("{}/api/silences/x/end", base())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let statuses = documented(&doc, "/api/silences/{id}/end", "post");
    assert!(
        statuses.contains("404") && statuses.contains("400"),
        "{statuses:?}"
    );

    let (status, body) = get("/api/paths/coldest").await;
    assert_eq!(
        (status, &body["error"]["parameter"]),
        (StatusCode::BAD_REQUEST, &Value::from("kind"))
    );
    assert_eq!(
        parameter(&doc, "/api/paths/{kind}", "get", "kind")["schema"]["enum"],
        serde_json::json!(["hot", "slow", "errors"])
    );
}

#[tokio::test]
async fn the_document_states_what_each_parameter_must_be() {
    let doc = document().await;
    assert_eq!(
        doc["paths"]["/health"]["get"]["security"],
        serde_json::json!([])
    );
    assert_eq!(
        parameter(&doc, "/api/error-patterns", "get", "attr")["required"],
        true
    );
    let since = &parameter(&doc, "/api/traces", "get", "since")["schema"];
    assert!(
        since["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("[smhdw]")),
        "{since}"
    );
    let id = &parameter(&doc, "/api/traces/{id}", "get", "id")["schema"]["pattern"];
    assert_eq!(id, "^[0-9a-f]{32}$");

    let refused = [
        // The pattern is lowercase hex; the server agrees.
        (
            format!("/api/traces/{}", "0123456789ABCDEF0123456789ABCDEF"),
            "id",
        ),
        (
            "/api/flamegraph.svg?trace=0123456789ABCDEF0123456789ABCDEF".into(),
            "trace",
        ),
        ("/api/traces?status=".into(), "status"),
        ("/api/traces?limit=".into(), "limit"),
        ("/api/traces?limit=5&limit=6".into(), "limit"),
        ("/api/traces?q=a&since=1h&q=b".into(), "q"),
        ("/api/stats?since=1hour".into(), "since"),
        ("/api/stats?since=2026-11-23%2005:00:00".into(), "since"),
        ("/api/traces?since=%C2%80".into(), "since"),
        ("/api/traces?q=%FF".into(), "q"),
        ("/api/error-patterns?attr=".into(), "attr"),
    ];
    for (url, name) in refused {
        let (status, body) = get(&url).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {body}");
        assert_eq!(body["error"]["parameter"], name, "{url}: {body}");
    }
    for url in [
        "/api/stats?since=2026-11-23T05:00:00Z",
        "/api/stats?since=2026-11-23T05:00:00.123Z&until=9999999999999",
        "/api/stats?since=15m",
        "/api/traces?q=",
    ] {
        let (status, body) = get(url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
    }
}

#[tokio::test]
async fn every_error_has_the_json_shape() {
    let oversized = reqwest::Client::new()
        .post(format!("{}/api/silences?rule=x&for=1h", base()))
        .header("x-pathwise-request", "1")
        .body(vec![b'x'; 100_000])
        .send()
        .await
        .unwrap();
    let status = oversized.status();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error_shape(
        status,
        &oversized.json().await.unwrap_or(Value::Null),
        "413",
    );

    let (status, headers, body) = send(Method::DELETE, &format!("{}/api/traces", base())).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error_shape(status, &body, "405");
    assert!(headers.contains_key("allow"));

    for url in ["/api/traces/%FF", "/assets/nope.js", "/api/nope"] {
        let (status, body) = get(url).await;
        assert!(status.is_client_error(), "{url}");
        assert_error_shape(status, &body, url);
    }
}

#[tokio::test]
async fn challenges_and_retry_hints_are_sent_and_documented() {
    let doc = document().await;
    let components = &doc["components"]["responses"];
    assert_eq!(
        components["Unauthorized"]["headers"]["WWW-Authenticate"]["required"],
        true
    );
    assert_eq!(
        components["ServiceUnavailable"]["headers"]["Retry-After"]["required"],
        true
    );
    assert!(
        documented(&doc, "/api/traces", "get")
            .is_superset(&["400", "401", "503"].map(String::from).into())
    );
    assert!(documented(&doc, "/api/silences", "post").contains("413"));
    assert!(documented(&doc, "/login", "post").contains("429"));

    let guarded = common::start_server(ServerConfig {
        token: Some("contract-token".into()),
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let (status, headers, body) = send(Method::GET, &format!("http://{guarded}/api/traces")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error_shape(status, &body, "401");
    assert!(header(&headers, "www-authenticate").starts_with("Bearer "));
    // This server records nothing: ingest answers 503 with a retry hint.
    let (status, headers, body) = send(Method::POST, &format!("{}/v1/traces", base())).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error_shape(status, &body, "503");
    assert!(header(&headers, "retry-after").parse::<u32>().is_ok());
}
