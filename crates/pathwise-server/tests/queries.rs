//! `GET /api/queries` and `/api/queries/slow` over the queries fixture
//! (`tests/common/db_queries.rs`): figures, orders, the slow-query log with its configured
//! threshold, links to traces, refused parameters, and the answers' documented shape.

mod common;

use common::db_queries::{SELECT_QUOTED, SELECT_USER, UPDATE_CART, UPDATE_CART_WRITTEN};
use reqwest::StatusCode;
use serde_json::Value;

async fn get(path_and_query: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{}{path_and_query}", common::db_queries::server()))
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn statements(body: &Value) -> Vec<&str> {
    body["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["statement"].as_str().unwrap())
        .collect()
}

fn near(got: &Value, exact: f64) -> bool {
    let got = got.as_f64().unwrap_or(f64::NAN);
    (got - exact).abs() <= exact * pathwise_analysis::SKETCH_RELATIVE_ERROR * 1.0001
}

#[tokio::test]
async fn statements_come_with_their_figures_in_the_order_asked_for() {
    let (status, body) = get("/api/queries").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["order"], "slowest");
    assert_eq!(body["slow_threshold_ms"], 250.0);
    assert_eq!(body["statements"], 3);
    assert_eq!(body["calls"], 10 + 4 + 3);
    assert_eq!(body["errors"], 1);
    assert_eq!(statements(&body), [UPDATE_CART, SELECT_USER, SELECT_QUOTED]);

    let select = &body["queries"][1];
    assert_eq!(select["system"], "sqlite");
    assert_eq!(
        (select["calls"].as_i64(), select["errors"].as_i64()),
        (Some(10), Some(1))
    );
    assert!((select["error_rate"].as_f64().unwrap() - 0.1).abs() < 1e-12);
    assert_eq!(
        select["errors_by_type"],
        serde_json::json!([["DatabaseBusy", 1]])
    );
    assert!((select["avg_ms"].as_f64().unwrap() - 55.0).abs() < 1e-9);
    // 10, 20, …, 100 ms: the sketch's ranks 4, 8, 8 of 10.
    assert!(near(&select["p50_ms"], 50.0), "{select}");
    assert!(near(&select["p95_ms"], 90.0), "{select}");
    assert!(near(&select["p99_ms"], 90.0), "{select}");
    assert_eq!(
        (select["avg_rows"].as_f64(), select["row_counts"].as_i64()),
        (Some(1.0), Some(9))
    );

    let update = &body["queries"][0];
    assert_eq!(update["system"], "postgresql");
    assert_eq!(
        (update["calls"].as_i64(), update["avg_rows"].as_f64()),
        (Some(4), Some(2.0))
    );
    let quoted = &body["queries"][2];
    assert_eq!(
        (quoted["avg_rows"].as_f64(), quoted["row_counts"].as_i64()),
        (Some(0.0), Some(3))
    );

    let (_, frequent) = get("/api/queries?sort=frequent&limit=2").await;
    assert_eq!(statements(&frequent), [SELECT_USER, UPDATE_CART]);
    assert_eq!(frequent["statements"], 3, "counted before the limit");
    let (_, total) = get("/api/queries?sort=total&limit=1").await;
    assert_eq!(statements(&total), [UPDATE_CART]);
    // A window before the fixture holds none.
    let (_, none) = get("/api/queries?since=1000000000000&until=1000000060000").await;
    assert_eq!(
        (none["statements"].as_i64(), statements(&none).len()),
        (Some(0), 0)
    );
}

#[tokio::test]
async fn the_slow_log_uses_the_configured_threshold_unless_asked_otherwise() {
    let (status, body) = get("/api/queries/slow").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["threshold_ms"], 250.0);
    let slow = body["queries"].as_array().unwrap();
    assert_eq!(slow.len(), 4);
    assert!(
        slow.iter()
            .all(|q| q["statement"] == UPDATE_CART && q["duration_ms"] == 300.0)
    );
    let newest = &slow[0];
    assert_eq!(newest["full_statement"], UPDATE_CART_WRITTEN);
    assert_eq!(
        (newest["rows"].as_i64(), newest["failed"].as_bool()),
        (Some(2), Some(false))
    );
    assert_eq!(newest["path"], format!("api.cart → {UPDATE_CART}"));
    assert_eq!(newest["caller"], "api.cart");
    assert!(slow[1]["full_statement"].is_null());
    let starts: Vec<i64> = slow
        .iter()
        .map(|q| q["start_ns"].as_i64().unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] > w[1]),
        "newest first: {starts:?}"
    );

    // Each entry leads to its trace, which holds that span.
    let trace_id = newest["trace_id"].as_str().unwrap();
    let (status, trace) = get(&format!("/api/traces/{trace_id}")).await;
    assert_eq!(status, StatusCode::OK);
    let spans = trace["spans"].as_array().unwrap();
    assert!(
        spans
            .iter()
            .any(|s| s["span_id"] == newest["span_id"] && s["name"] == UPDATE_CART)
    );

    let (_, lower) = get("/api/queries/slow?threshold_ms=95").await;
    assert_eq!(lower["threshold_ms"], 95.0);
    let lower = lower["queries"].as_array().unwrap();
    assert_eq!(lower.len(), 5, "the four updates and the 100 ms select");
    let select = lower
        .iter()
        .find(|q| q["statement"] == SELECT_USER)
        .unwrap();
    assert_eq!(
        (select["failed"].as_bool(), select["error_type"].as_str()),
        (Some(true), Some("DatabaseBusy"))
    );
    assert_eq!(select["error_message"], "database is locked");
    let (_, limited) = get("/api/queries/slow?threshold_ms=0&limit=3").await;
    assert_eq!(limited["queries"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn each_statement_links_to_the_traces_that_ran_it() {
    let (_, body) = get("/api/queries").await;
    for (statement, traces) in [(SELECT_USER, 10), (UPDATE_CART, 4), (SELECT_QUOTED, 3)] {
        let q = body["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["statement"] == statement)
            .unwrap();
        let url = reqwest::Url::parse_with_params(
            &format!("{}/api/traces", common::db_queries::server()),
            [("q", q["trace_query"].as_str().unwrap()), ("limit", "100")],
        )
        .unwrap();
        let page: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        let names: Vec<&str> = page["traces"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), traces, "{statement}: {page}");
    }
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    for (query, parameter) in [
        ("/api/queries?sort=fastest", "sort"),
        ("/api/queries?sort=", "sort"),
        ("/api/queries?limit=0", "limit"),
        ("/api/queries?since=yesterday", "since"),
        ("/api/queries/slow?threshold_ms=-1", "threshold_ms"),
        ("/api/queries/slow?threshold_ms=fast", "threshold_ms"),
        ("/api/queries/slow?limit=1001", "limit"),
    ] {
        let (status, body) = get(query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
    }
}

/// Every property the document requires of a statement and a slow execution is there.
#[tokio::test]
async fn answers_have_the_documented_shape() {
    let (_, doc) = get("/api/openapi.json").await;
    let required = |schema: &str| -> Vec<String> {
        serde_json::from_value(doc["components"]["schemas"][schema]["required"].clone()).unwrap()
    };
    let (_, report) = get("/api/queries").await;
    let (_, slow) = get("/api/queries/slow?threshold_ms=0").await;
    for (schema, rows) in [
        ("QueryStats", &report["queries"]),
        ("SlowQuery", &slow["queries"]),
    ] {
        let keys = required(schema);
        assert!(!keys.is_empty(), "{schema} is documented");
        for row in rows.as_array().unwrap() {
            for key in &keys {
                assert!(row.get(key).is_some(), "{schema}.{key} missing in {row}");
            }
            assert_eq!(
                row.as_object().unwrap().len(),
                keys.len(),
                "{schema}: {row}"
            );
        }
    }
    let sort = doc["paths"]["/api/queries"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sort")
        .unwrap();
    assert_eq!(
        sort["schema"]["enum"],
        serde_json::json!(["slowest", "frequent", "total"])
    );
}
