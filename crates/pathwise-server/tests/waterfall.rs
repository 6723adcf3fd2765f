//! The waterfall's server side against a real server over a trace whose every answer is known
//! by construction (`tests/common/waterfall_trace.rs`): search inside a trace (with the
//! ancestors that place each match in the tree) and the trace's overview (the minimap).

mod common;

use common::waterfall_trace::{self, ROOT, SPANS};
use reqwest::StatusCode;
use serde_json::Value;

async fn get(query: &str) -> (StatusCode, Value) {
    let (_, base, _) = waterfall_trace::server();
    let response = reqwest::get(format!("{base}{query}")).await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn search(text: &str, limit: Option<usize>) -> Value {
    let fx = &waterfall_trace::server().2;
    let limit = limit.map(|l| format!("&limit={l}")).unwrap_or_default();
    let text = urlencoding(text);
    let (status, body) = get(&format!(
        "/api/traces/{}/search?text={text}{limit}",
        fx.trace
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ids(values: &Value) -> Vec<u64> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect()
}

fn span_ids(body: &Value) -> Vec<u64> {
    let spans = body["spans"].as_array().unwrap();
    let mut out: Vec<u64> = spans
        .iter()
        .map(|s| s["span_id"].as_str().unwrap().parse().unwrap())
        .collect();
    out.sort_unstable();
    out
}

fn span_of(body: &Value, id: u64) -> &Value {
    let id = id.to_string();
    body["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["span_id"].as_str() == Some(id.as_str()))
        .unwrap()
}

#[tokio::test]
async fn search_finds_spans_by_name_group_and_error_type_with_their_ancestors() {
    let fx = &waterfall_trace::server().2;
    // By name (two) and by group (`needles`), in start order: the first shard's needle, the
    // second shard's hay, the third shard's failed needle.
    let body = search("needle", None).await;
    assert_eq!(body["total"], 3);
    assert_eq!(body["truncated"], false);
    assert_eq!(
        ids(&body["matches"]),
        vec![fx.needle, fx.hay, fx.failed_needle]
    );
    let mut expected = vec![
        ROOT,
        fx.shards[0],
        fx.shards[1],
        fx.shards[2],
        waterfall_trace::doc_id(0, 3),
        waterfall_trace::doc_id(1, 0),
        fx.failed_needle_doc,
        fx.needle,
        fx.hay,
        fx.failed_needle,
    ];
    expected.sort_unstable();
    assert_eq!(
        span_ids(&body),
        expected,
        "each match and its ancestors, once"
    );
    // The spans come with their child counts, so the page can offer the rest of a subtree.
    let shard = span_of(&body, fx.shards[2]);
    assert_eq!(shard["child_count"], waterfall_trace::DOCS);

    // By error type, in any case: only the failed needle.
    let body = search("NEEDLEERROR", None).await;
    assert_eq!(ids(&body["matches"]), vec![fx.failed_needle]);
    let failed = span_of(&body, fx.failed_needle);
    assert_eq!(failed["error_type"], "NeedleError");

    // By id; and nothing.
    let body = search(&fx.hay.to_string(), None).await;
    assert_eq!(ids(&body["matches"]), vec![fx.hay]);
    let body = search("no such span", None).await;
    assert_eq!(
        (body["total"].clone(), span_ids(&body)),
        (Value::from(0), vec![])
    );
}

#[tokio::test]
async fn search_counts_every_match_and_sends_the_first_limit() {
    // Every document and both shards' names contain "reindex": 1 + 3 + 3,000.
    let body = search("reindex.", Some(5)).await;
    assert_eq!(body["total"], 3_004);
    assert_eq!(body["truncated"], true);
    let fx = &waterfall_trace::server().2;
    assert_eq!(
        ids(&body["matches"]),
        vec![
            ROOT,
            fx.shards[0],
            waterfall_trace::doc_id(0, 0),
            waterfall_trace::doc_id(0, 1),
            waterfall_trace::doc_id(0, 2)
        ]
    );
}

#[tokio::test]
async fn search_refuses_what_it_cannot_answer() {
    let fx = &waterfall_trace::server().2;
    for (query, status, field) in [
        (
            format!("/api/traces/{}/search", fx.trace),
            StatusCode::BAD_REQUEST,
            "text",
        ),
        (
            format!("/api/traces/{}/search?text=", fx.trace),
            StatusCode::BAD_REQUEST,
            "text",
        ),
        (
            format!("/api/traces/{}/search?text={}", fx.trace, "x".repeat(201)),
            StatusCode::BAD_REQUEST,
            "text",
        ),
        (
            format!("/api/traces/{}/search?text=a&limit=0", fx.trace),
            StatusCode::BAD_REQUEST,
            "limit",
        ),
        (
            format!("/api/traces/{}/search?text=a", "0".repeat(31) + "1"),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            "/api/traces/nope/search?text=a".to_string(),
            StatusCode::BAD_REQUEST,
            "id",
        ),
    ] {
        let (got, body) = get(&query).await;
        assert_eq!(got, status, "{query}: {body}");
        if !field.is_empty() {
            assert!(body.to_string().contains(field), "{query}: {body}");
        }
    }
    // Text that SQL or ClickHouse would read as syntax is only text.
    assert_eq!(search("%' OR 1=1 --", None).await["total"], 0);
    assert_eq!(search("_", None).await["total"], 0);
}

#[tokio::test]
async fn the_overview_covers_every_span_not_only_the_loaded_ones() {
    let fx = &waterfall_trace::server().2;
    let (status, body) = get(&format!("/api/traces/{}?columns=10", fx.trace)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total_spans"], SPANS);
    assert!(body["spans"].as_array().unwrap().len() <= 2_000);
    let overview = &body["overview"];
    assert_eq!(
        overview["end_ns"].as_i64().unwrap() - overview["start_ns"].as_i64().unwrap(),
        1_000_000_000
    );
    // Columns of 100 ms. 0–100: the root only. 100–200: the root, shard 1 and its documents
    // 0–399 (each starts every 0.25 ms) and the needle under document 3. 200–300: the root,
    // shard 1, documents 400–799. 300–400: the root, shard 1 (ends at 350), documents
    // 800–999. 400–500: the root, shard 2, its documents 0–399 and the hay under document 0.
    // 900–1000: the root, shard 3 (ends at 950) and its documents 800–999.
    let busy: Vec<u64> = overview["busy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(busy[0], 1);
    assert_eq!(busy[1], 2 + 400 + 1);
    assert_eq!(busy[2], 2 + 400);
    assert_eq!(busy[3], 2 + 200);
    assert_eq!(busy[4], 2 + 400 + 1);
    assert_eq!(busy[9], 2 + 200);
    // The failed needle ends 10 + 50 µs into the third shard's document 500, at 825.06 ms.
    let failed: Vec<u64> = overview["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(failed, vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    let (status, body) = get(&format!("/api/traces/{}?columns=0", fx.trace)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
