//! `GET /api/heatmap` and `/api/heatmap/steps` against a real server over spans whose grid is
//! known by construction (`tests/common/latency_grid.rs`, `tests/common/decision_funnel.rs`):
//! a node's and a path's cells, and the slowest steps of a decision trace name.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get(base: &str, query: &str) -> (StatusCode, Value) {
    let response = reqwest::get(format!("{base}{query}")).await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The fixture's ten minutes in ten columns and three rows, of `of` (`node=…` or `path=…`).
async fn grid(of: &str) -> Value {
    let (_, base, grid) = common::latency_grid::server();
    let since = grid.first_minute_ms;
    let (status, body) = get(
        base,
        &format!(
            "/api/heatmap?{of}&since={since}&until={}&columns=10&rows=3",
            since + 600_000
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_nodes_calls_by_minute_and_duration() {
    let body = grid("node=fetch").await;
    let since_ns = common::latency_grid::server().2.first_minute_ms as i64 * 1_000_000;
    assert_eq!(body["since_ns"], since_ns);
    assert_eq!(body["column_ns"], 60_000_000_000i64);
    assert_eq!(
        body["edges_ns"],
        json!([1_000_000, 10_000_000, 100_000_000, 1_000_000_000])
    );
    let empty = json!([0, 0, 0]);
    let mut cells = vec![empty.clone(); 10];
    cells[2] = json!([3, 0, 1]);
    cells[5] = json!([0, 2, 1]);
    cells[7] = json!([0, 1, 0]);
    assert_eq!(body["cells"], json!(cells));
    assert_eq!(body["calls"], json!([0, 0, 4, 0, 0, 3, 0, 1, 0, 0]));
    assert_eq!(body["errors"], json!([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]));
    assert_eq!(body["max_cell"], 3);
    assert_eq!(body["kind"], "node");
}

#[tokio::test]
async fn a_path_leaves_out_the_nodes_other_paths() {
    let body = grid("path=job%20%E2%86%92%20fetch").await;
    assert_eq!(body["kind"], "path");
    assert_eq!(body["cells"][7], json!([0, 0, 0]));
    assert_eq!(body["cells"][5], json!([0, 2, 1]));
    assert_eq!(
        body["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum::<u64>(),
        7
    );
}

#[tokio::test]
async fn an_unknown_node_is_an_empty_grid() {
    let body = grid("node=nothing").await;
    assert_eq!(body["max_cell"], 0);
    assert_eq!(body["cells"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn bad_parameters_are_refused_by_name() {
    let base = &common::latency_grid::server().1;
    for (query, parameter) in [
        ("", "node"),
        ("node=", "node"),
        ("node=a&path=b", "path"),
        ("node=a&columns=0", "columns"),
        ("node=a&columns=241", "columns"),
        ("node=a&rows=61", "rows"),
        ("node=a&since=soon", "since"),
    ] {
        let (status, body) = get(base, &format!("/api/heatmap?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{query}: {body}");
    }
    let (status, body) = get(base, "/api/heatmap/steps?name=").await;
    assert_eq!(
        (status, &body["error"]["parameter"]),
        (StatusCode::BAD_REQUEST, &json!("name"))
    );
}

#[tokio::test]
async fn the_slowest_steps_of_a_decision_trace_name() {
    let base = &common::decision_funnel::server().1;
    let (status, body) = get(base, "/api/heatmap/steps?name=pick&since=1h&columns=120").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let steps = body["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["search", "filter", "rank"]);
    // Every search lasted 10 ms, filter 4, rank 2 (to the sketch's 1 %).
    for (step, ms) in steps.iter().zip([10.0, 4.0, 2.0]) {
        let p95 = step["overall_p95_ms"].as_f64().unwrap();
        assert!((p95 - ms).abs() <= 0.01 * ms, "{}: {p95}", step["name"]);
    }
    // Six searches of `pick` (and one of the `pick-v2` decoy, the same span name).
    let calls: u64 = steps[0]["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(calls, 7);
    let runs = steps[2]["p95_ms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v.is_null())
        .count();
    assert_eq!(runs, 4, "rank ran in four distinct minutes");
}
