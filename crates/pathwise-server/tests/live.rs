//! The live tail (`GET /api/traces/live`) over real HTTP: traces that start after the stream
//! opens arrive as events, once each and oldest first, under the list's filters; traces that
//! were there before do not; a late trace (older start, recorded after newer ones) still
//! comes; a reconnect with `Last-Event-ID` resumes after the last event.

mod common;

use std::time::{Duration, Instant};

use common::{Root, write_roots};
use pathwise_server::ServerConfig;
use serde_json::Value;

/// Reads server-sent events from `response` until `count` `trace` events arrived (or `wait`
/// passes); their (id, data).
async fn events_within(
    response: &mut reqwest::Response,
    count: usize,
    wait: Duration,
) -> Vec<(String, Value)> {
    let deadline = Instant::now() + wait;
    let mut buffer = String::new();
    let mut found = Vec::new();
    while found.len() < count && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk()).await;
        let Ok(Ok(Some(bytes))) = chunk else { continue };
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut event, mut id, mut data) = (None, String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if event.as_deref() == Some("trace") {
                found.push((id, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    found
}

async fn events(response: &mut reqwest::Response, count: usize) -> Vec<(String, Value)> {
    events_within(response, count, Duration::from_secs(15)).await
}

fn names(events: &[(String, Value)]) -> Vec<String> {
    events
        .iter()
        .map(|(_, t)| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn root(name: &'static str, age_ms: u64, failed: bool) -> Root {
    Root {
        name,
        age_ms,
        duration_ms: 5,
        failed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_traces_stream_in_once_each_under_the_filters() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path().join("live.db"));
    write_roots(&backend, &[root("before", 5_000, false)], 1);
    let addr = common::start_server(ServerConfig::new(backend.clone()));
    let client = reqwest::Client::new();
    let mut all = client
        .get(format!("http://{addr}/api/traces/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(all.status(), 200);
    assert!(
        all.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut failed_only = client
        .get(format!("http://{addr}/api/traces/live?status=failed"))
        .send()
        .await
        .unwrap();
    // Let both streams take their first look (what is there is not new).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    write_roots(
        &backend,
        // Distinct starts: a resume point is a start, so traces of one instant go together.
        &[root("new-1", 2, false), root("new-2-failed", 0, true)],
        10,
    );
    let first = events(&mut all, 2).await;
    assert_eq!(names(&first), ["new-1", "new-2-failed"]);
    // A trace recorded late: it started 10 s ago, after the stream's newest.
    write_roots(&backend, &[root("late", 10_000, false)], 20);
    let late = events(&mut all, 1).await;
    assert_eq!(names(&late), ["late"]);
    // Nothing twice, nothing from before the stream.
    write_roots(&backend, &[root("new-3", 0, false)], 30);
    // Three ticks are plenty for a second event, were there one.
    let third = events_within(&mut all, 2, Duration::from_secs(4)).await;
    assert_eq!(names(&third), ["new-3"], "one event only");
    assert_eq!(names(&events(&mut failed_only, 1).await), ["new-2-failed"]);

    // Reconnecting after the first event: the rest of what followed it comes again.
    let (last_id, _) = &first[0];
    let mut resumed = client
        .get(format!("http://{addr}/api/traces/live"))
        .header("last-event-id", last_id)
        .send()
        .await
        .unwrap();
    let again = events(&mut resumed, 2).await;
    assert_eq!(names(&again), ["new-2-failed", "new-3"]);

    // Bad filters are refused before the stream opens.
    let bad = client
        .get(format!("http://{addr}/api/traces/live?min_ms=soon"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
