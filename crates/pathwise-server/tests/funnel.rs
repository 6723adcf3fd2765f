//! `GET /api/funnel` against a real server over decision traces whose funnel is known by
//! construction (`tests/common/decision_funnel.rs`): traces through the steps, candidates
//! through the filters, the decoys left out, and bad parameters refused.

mod common;

use common::decision_funnel::server;
use reqwest::StatusCode;
use serde_json::Value;

async fn funnel(query: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{}/api/funnel?{query}", server().1))
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn numbers(value: &Value, keys: &[&str]) -> Vec<i64> {
    keys.iter()
        .map(|k| value[k].as_i64().unwrap_or(-1))
        .collect()
}

#[tokio::test]
async fn traces_through_the_steps() {
    let ids = &server().2;
    let (status, body) = funnel("name=pick").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        numbers(&body, &["traces", "completed", "failed", "running"]),
        [6, 4, 2, 0]
    );
    assert_eq!(body["truncated"], false);
    let steps = body["steps"].as_array().unwrap();
    let reach: Vec<(&str, Vec<i64>)> = steps
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                numbers(s, &["traces", "failed_traces", "dropped_before"]),
            )
        })
        .collect();
    assert_eq!(
        reach,
        [
            ("search", vec![6, 1, 0]),
            ("filter", vec![5, 1, 1]),
            ("rank", vec![4, 0, 1]),
        ]
    );
    assert_eq!(
        steps[0]["failed_examples"],
        serde_json::json!([ids.failed_in_search])
    );
    assert_eq!(
        steps[1]["failed_examples"],
        serde_json::json!([ids.failed_in_filter])
    );
    assert_eq!(steps[2]["examples"], serde_json::json!(ids.complete));
    assert_eq!(
        (steps[0]["p50_ms"].as_f64(), steps[2]["p95_ms"].as_f64()),
        (Some(10.0), Some(2.0))
    );
}

#[tokio::test]
async fn candidates_through_the_filters() {
    let (_, body) = funnel("name=pick&since=1h").await;
    let filter = &body["steps"][1];
    assert_eq!(
        numbers(
            filter,
            &["items_in", "items_out", "unqualified_after_filters"]
        ),
        [20, 8, 0]
    );
    let filters: Vec<(&str, Vec<i64>)> = filter["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                numbers(f, &["evaluated", "passed", "rejected", "first_rejections"]),
            )
        })
        .collect();
    assert_eq!(
        filters,
        [
            ("category", vec![20, 16, 4, 4]),
            ("price", vec![20, 16, 4, 4]),
            ("rating", vec![20, 12, 8, 4]),
        ]
    );
    assert_eq!(
        numbers(&body["steps"][2], &["items_in", "items_out"]),
        [8, 8]
    );
    assert_eq!(
        filter["filters"][2]["examples"].as_array().unwrap().len(),
        4
    );
}

#[tokio::test]
async fn a_wider_window_takes_the_old_trace_and_a_name_without_traces_is_empty() {
    let (_, body) = funnel("name=pick&since=7d").await;
    assert_eq!(numbers(&body, &["traces", "failed"]), [7, 3]);
    assert_eq!(body["steps"][0]["failed_traces"], 2);
    let (status, body) = funnel("name=nothing-here").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["traces"], 0);
    assert_eq!(body["steps"], serde_json::json!([]));
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    for (query, parameter) in [
        ("", "name"),
        ("name=", "name"),
        ("name=pick&since=yesterday", "since"),
        ("name=pick&since=1h&until=2h", "until"),
    ] {
        let (status, body) = funnel(query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
    }
}
