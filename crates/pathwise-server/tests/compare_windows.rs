//! `GET /api/compare/windows` against a real server over single-span traces whose move from
//! the previous hour to the last one is known by construction.

mod common;

use reqwest::StatusCode;
use serde_json::Value;

const MIN: u64 = 60_000;

use common::window_shifts::server;

async fn get(query: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{}/api/compare/windows?{query}", server().1))
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_last_hour_against_the_one_before() {
    let (status, body) = get("since=1h").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let words: Vec<(&str, &str)> = body["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["path"].as_str().unwrap(), p["change"].as_str().unwrap()))
        .collect();
    assert_eq!(
        words,
        [
            ("launched", "new"),
            ("retired", "gone"),
            ("failing", "errors_up"),
            ("slowing", "slower"),
            ("steady", "same"),
        ]
    );
    let failing = &body["paths"][2];
    assert_eq!(failing["current"]["errors"], 4);
    assert_eq!(failing["base"]["errors"], 0);
    let slowing = &body["paths"][3];
    let ratio = slowing["p95_ratio"].as_f64().unwrap();
    assert!((ratio - 4.0).abs() < 0.1, "{ratio}");
    // Six calls an hour in both windows: 0.1 per minute.
    let per_minute = body["paths"][4]["current"]["per_minute"].as_f64().unwrap();
    assert!((per_minute - 0.1).abs() < 0.001, "{per_minute}");
    assert_eq!(body["counts"]["same"], 1);
}

#[tokio::test]
async fn windows_given_in_full_and_bad_ones_refused() {
    // Base: the hour before last, given explicitly; current: the last hour.
    let now = common::db_queries::now_ms();
    let (status, body) = get(&format!(
        "since={}&until={}&base_since={}&base_until={}",
        now - 60 * MIN,
        now,
        now - 120 * MIN,
        now - 60 * MIN
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["paths"].as_array().unwrap().len(), 5);
    for (query, parameter) in [
        ("base_since=2h&base_until=3h", "base_until"),
        ("since=1h&until=2h", "until"),
        ("base_since=", "base_since"),
    ] {
        let (status, body) = get(query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
    }
}
