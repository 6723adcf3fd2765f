//! `GET /api/compare` against a real server over traces whose comparison is known by
//! construction (`tests/common/compare_traces.rs`): the rows and totals of two given traces,
//! `b=typical` choosing the median-duration successful trace of A's name, and the 400 and 404
//! answers.

mod common;

use common::compare_traces::server;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn compare(query: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{}/api/compare?{query}", server().1))
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn row<'a>(body: &'a Value, path: &str) -> &'a Value {
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == path)
        .unwrap_or_else(|| panic!("no row {path}: {body}"))
}

#[tokio::test]
async fn two_given_traces_row_by_row() {
    let ids = &server().2;
    let (status, body) = compare(&format!("a={}&b={}", ids.a, ids.b)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows: Vec<(&str, &str, &str)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap(),
                r["presence"].as_str().unwrap(),
                r["change"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("checkout", "both", "same"),
            ("checkout → validate", "both", "same"),
            ("checkout → legacy_check", "only_a", "only_a"),
            ("checkout → fetch", "both", "faster"),
            ("checkout → charge", "both", "status"),
            ("checkout → enrich", "both", "slower"),
            ("checkout → choose", "both", "changed"),
            ("checkout → cache_lookup", "only_b", "only_b"),
        ]
    );
    let fetch = row(&body, "checkout → fetch");
    assert_eq!(
        (&fetch["a"]["count"], &fetch["b"]["count"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(
        (&fetch["a"]["total_ms"], &fetch["b"]["total_ms"]),
        (&json!(30.0), &json!(20.0))
    );
    assert_eq!(fetch["count_changed"], true);
    assert_eq!(
        fetch["a"]["bars"],
        json!([[15.0, 10.0], [25.0, 10.0], [35.0, 10.0]])
    );

    let charge = row(&body, "checkout → charge");
    assert_eq!(
        (&charge["a"]["status"], &charge["b"]["status"]),
        (&json!("ok"), &json!("error"))
    );
    let enrich = row(&body, "checkout → enrich");
    assert_eq!(
        (&enrich["delta_ms"], &enrich["ratio"]),
        (&json!(20.0), &json!(2.0))
    );
    let choose = row(&body, "checkout → choose");
    assert_eq!(choose["kind"], "step");
    let decision = &choose["decision"];
    assert_eq!(
        (
            &decision["output_changed"],
            &decision["input_changed"],
            &decision["reasoning_changed"]
        ),
        (&json!(true), &json!(false), &json!(false))
    );
    assert_eq!(
        decision["occurrences"][0]["fields"],
        json!([{ "field": "output", "a": r#"{"pick":"B1"}"#, "b": r#"{"pick":"B7"}"#, "truncated": false }])
    );
    assert_eq!(row(&body, "checkout → enrich")["decision"], Value::Null);

    let totals = &body["totals"];
    for (key, expected) in [
        ("rows", 8),
        ("only_in_a", 1),
        ("only_in_b", 1),
        ("status_changed", 1),
        ("slower", 1),
        ("faster", 1),
        ("count_changed", 1),
        ("decision_changed", 1),
        ("unchanged", 2),
    ] {
        assert_eq!(totals[key], expected, "{key}: {totals}");
    }

    // The traces' own figures.
    assert_eq!(body["a"]["trace"]["trace_id"], ids.a.as_str());
    assert_eq!(
        (&body["a"]["duration_ms"], &body["b"]["duration_ms"]),
        (&json!(100.0), &json!(105.0))
    );
    assert_eq!(
        (&body["a"]["spans"], &body["b"]["spans"]),
        (&json!(9), &json!(8))
    );
    assert_eq!(
        (&body["a"]["errors"], &body["b"]["errors"]),
        (&json!(0), &json!(1))
    );
    assert_eq!(body["duration_delta_ms"], 5.0);
    assert_eq!(body["status_changed"], false);
    assert_eq!(body["typical"], Value::Null);
    assert_eq!(body["depth_limit"], Value::Null);
}

#[tokio::test]
async fn typical_is_the_completed_trace_of_the_name_at_the_median() {
    let ids = &server().2;
    let (status, body) = compare(&format!("a={}&b=typical", ids.a)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["b"]["trace"]["trace_id"], ids.typical.as_str());
    assert_eq!(body["b"]["duration_ms"], 90.0);
    assert_eq!(
        body["typical"],
        json!({ "candidates": 7, "median_duration_ms": 90.0, "window_days": 7 })
    );
    // The typical trace is a single span: everything under A's root is only in A.
    assert_eq!(body["totals"]["only_in_a"], 6);
    assert_eq!(body["totals"]["only_in_b"], 0);
}

#[tokio::test]
async fn unknown_traces_are_404_naming_the_side() {
    let ids = &server().2;
    let unknown = "0".repeat(32);
    for (query, expected) in [
        (
            format!("a={unknown}&b={}", ids.b),
            format!("a: no trace {unknown}"),
        ),
        (
            format!("a={}&b={unknown}", ids.a),
            format!("b: no trace {unknown}"),
        ),
        (
            format!("a={unknown}&b=typical"),
            format!("a: no trace {unknown}"),
        ),
    ] {
        let (status, body) = compare(&query).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}: {body}");
        assert_eq!(body["error"]["message"], expected.as_str(), "{query}");
    }
    let (status, body) = compare(&format!("a={}&b=typical", ids.lonely)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("no typical successful trace") && message.contains("\"lonely\""),
        "{message}"
    );
}

#[tokio::test]
async fn malformed_ids_are_400_naming_the_parameter() {
    let ids = &server().2;
    let upper = ids.a.to_uppercase();
    for (query, parameter) in [
        (format!("b={}", ids.b), "a"),
        (format!("a=xyz&b={}", ids.b), "a"),
        (format!("a={upper}&b={}", ids.b), "a"),
        (format!("a=&b={}", ids.b), "a"),
        (format!("a={}", ids.a), "b"),
        (format!("a={}&b=", ids.a), "b"),
        (format!("a={}&b=Typical", ids.a), "b"),
        (format!("a={}&b={}0", ids.a, ids.b), "b"),
        (format!("a={}&b={}&b=typical", ids.a, ids.b), "b"),
    ] {
        let (status, body) = compare(&query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
    }
}
