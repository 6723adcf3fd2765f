//! The server under pressure: idle connections by the thousand, an alert rule that runs for
//! seconds, a store that stops answering. It keeps answering, or says 503 soon and plainly.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pathwise_server::{Limits, ServerConfig};
use reqwest::StatusCode;
use serde_json::Value;

/// How many idle connections this process can open: 2,000, or fewer under a low descriptor
/// limit (the server runs in this process too and needs some).
fn affordable_connections() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1024);
    2_000.min(soft.saturating_sub(400))
}

/// Reads until the server closes `stream`; returns what it sent and when it closed, or `None`
/// when it was still open after `wait`.
fn until_closed(stream: &mut TcpStream, wait: Duration) -> Option<(Vec<u8>, Duration)> {
    let started = Instant::now();
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some((got, started.elapsed())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some((got, started.elapsed()));
            }
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_neither_lock_others_out_nor_stay_open() {
    let timeout = Duration::from_secs(2);
    let addr = common::start_server(ServerConfig {
        limits: Limits {
            max_connections: 64,
            header_read_timeout: timeout,
            ..Limits::default()
        },
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let count = affordable_connections();
    assert!(count >= 500, "too few descriptors for the test: {count}");
    let idle: Vec<TcpStream> = (0..count)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();

    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(format!("http://{addr}/api/traces"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "/api/traces behind {count} idle connections took {:?}",
        started.elapsed()
    );
    drop(idle);

    // A connection that never sends a request is closed after the header-read timeout.
    let mut silent = TcpStream::connect(addr).unwrap();
    let (_, after) = until_closed(&mut silent, Duration::from_secs(8))
        .expect("an idle connection is closed by the server");
    assert!(
        after >= timeout - Duration::from_millis(300) && after < timeout * 3,
        "closed after {after:?}"
    );
    // And a keep-alive connection that goes quiet after its request, likewise.
    let mut kept = TcpStream::connect(addr).unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: pathwise\r\n\r\n")
        .unwrap();
    let (response, after) = until_closed(&mut kept, Duration::from_secs(8))
        .expect("a quiet keep-alive connection is closed by the server");
    assert!(response.starts_with(b"HTTP/1.1 200"), "answered first");
    assert!(after >= timeout - Duration::from_millis(300) && after < timeout * 3);
}

async fn timed_get(addr: SocketAddr, path: &str) -> (StatusCode, Duration) {
    let started = Instant::now();
    let status = reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap()
        .status();
    (status, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_alert_rule_does_not_stall_the_api_and_a_huge_one_fails_cleanly() {
    // Evaluations run back to back, each spending 3 s in the endless query.
    let rules = format!(
        r#"
check_interval = "1s"

[[rule]]
name = "endless"
kind = "sql"
query = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
op = ">"
threshold = 0
timeout = "3s"

[[rule]]
name = "huge"
kind = "sql"
query = "SELECT length(randomblob(900000000))"
op = ">"
threshold = 0
{}"#,
        common::FAILED_SPANS_RULE
    );
    let (_dir, addr) = common::alerting_server(&rules);
    let fingerprint = common::firing_fingerprint(addr).await;
    let client = common::action_client();

    let mut slowest = Duration::ZERO;
    for round in 0..8 {
        for path in [
            "/api/alerts",
            "/api/health",
            "/api/pipeline",
            "/api/snapshot",
        ] {
            let (status, took) = timed_get(addr, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            slowest = slowest.max(took);
        }
        let started = Instant::now();
        let ack = client
            .post(format!(
                "http://{addr}/api/alerts/{fingerprint}/ack?by=round{round}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(ack.status(), StatusCode::OK, "{:?}", ack.text().await);
        let silence = client
            .post(format!("http://{addr}/api/silences?rule=huge&for=1h"))
            .send()
            .await
            .unwrap();
        assert_eq!(silence.status(), StatusCode::OK);
        slowest = slowest.max(started.elapsed() / 2);
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(
        slowest < Duration::from_millis(1500),
        "an API call waited {slowest:?} for the evaluation"
    );

    // Evaluations published meanwhile kept the acknowledgement, and the rules' errors say why.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let body: Value = reqwest::get(format!("http://{addr}/api/alerts"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alert = body["active"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["fingerprint"] == fingerprint.as_str())
        .unwrap();
    assert_eq!(alert["acked_by"], "round7", "{alert}");
    assert_eq!(body["silences"].as_array().unwrap().len(), 8);
    let errors = &body["rule_errors"];
    assert!(
        errors["endless"]
            .as_str()
            .unwrap()
            .contains("longer than 3 s"),
        "{errors}"
    );
    assert!(
        errors["huge"].as_str().unwrap().contains("MiB"),
        "a huge value is refused, not built: {errors}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_does_not_answer_gets_a_503_with_retry_after() {
    let (dir, config) = common::alerting_config(common::FAILED_SPANS_RULE);
    let addr = common::start_server(ServerConfig {
        limits: Limits {
            handler_budget: Duration::from_secs(1),
            max_blocking: 1,
            ..Limits::default()
        },
        ..config
    });
    let fingerprint = common::firing_fingerprint(addr).await;

    // Another process holds the database's write lock (a long migration, say).
    let mut sqlite = Command::new("sqlite3")
        .arg(dir.path().join("alerts.db"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the sqlite3 command (scripts/test installs it)");
    let mut stdin = sqlite.stdin.take().unwrap();
    stdin
        .write_all(b"BEGIN IMMEDIATE;\nSELECT 'locked';\n")
        .unwrap();
    let mut line = [0u8; 7];
    sqlite
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut line)
        .unwrap();
    assert_eq!(&line, b"locked\n");

    let started = Instant::now();
    let ack = common::action_client()
        .post(format!("http://{addr}/api/alerts/{fingerprint}/ack"))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(ack.headers()["retry-after"], "1");
    let body: Value = ack.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("did not answer within 1s"), "{message}");

    // The stuck call still holds the one blocking slot: the next request is refused at once
    // instead of queueing behind it.
    let started = Instant::now();
    let busy = reqwest::get(format!("http://{addr}/api/traces"))
        .await
        .unwrap();
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(busy.headers().contains_key("retry-after"));
    let body: Value = busy.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("busy"));

    stdin.write_all(b"COMMIT;\n").unwrap();
    drop(stdin);
    sqlite.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while timed_get(addr, "/api/traces").await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "the server recovers");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
