//! Three `pathwise serve` processes with the same rules on one real ClickHouse cluster: one
//! evaluates and notifies; killing it hands the lead to the next without announcing the
//! alert again; an acknowledgement made on a server that does not evaluate reaches the one
//! that does; a clean shutdown hands over at the next heartbeat.

mod remote_support;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pathwise_store_clickhouse::testing::Cluster;
use remote_support::{free_port, http};
use serde_json::Value;

/// A webhook receiver on loopback that keeps every notification it is sent.
fn webhook_sink() -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok()
                && let Ok(json) = serde_json::from_slice(&body)
            {
                sink.lock().unwrap().push(json);
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, seen)
}

/// A `pathwise serve` with the rules and the webhook, on a port of its own.
struct Server {
    process: remote_support::Server,
    port: u16,
}

impl Server {
    fn start(store: &str, rules: &Path, hook: &str, spool: &Path) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let args: [&OsStr; 11] = [
            "serve".as_ref(),
            "--listen".as_ref(),
            listen.as_ref(),
            "--store".as_ref(),
            store.as_ref(),
            "--alerts".as_ref(),
            rules.as_os_str(),
            "--alert-webhook".as_ref(),
            hook.as_ref(),
            "--spool".as_ref(),
            spool.as_os_str(),
        ];
        Server {
            process: remote_support::spawn_serving(&args, None),
            port,
        }
    }

    fn alerts(&self) -> Value {
        let (code, _, body) = http(self.port, "GET", "/api/alerts", &[], b"");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    fn kill(self) {
        remote_support::kill(self.process);
    }

    /// SIGINT, as Ctrl-C: the server shuts down cleanly.
    fn interrupt(self) {
        remote_support::stop(self.process);
    }
}

/// Waits (up to `limit`) until `check` holds; returns how long that took.
fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

/// Firing announcements received so far (one per alert per notification).
fn firings(seen: &Mutex<Vec<Value>>) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .flat_map(|n| n["alerts"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["status"] == "firing")
        .count()
}

/// One OTLP/JSON span, sent to any of the servers (they share the store).
fn one_span() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},
        "scopeSpans":[{{"spans":[{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
        "name":"checkout","kind":2,"startTimeUnixNano":"{now}","endTimeUnixNano":"{}"}}]}}]}}]}}"#,
        now + 1_000_000
    )
}

fn evaluating(server: &Server) -> bool {
    server.alerts()["evaluated_here"] == true
}

fn firing_here(server: &Server) -> bool {
    server.alerts()["active"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["state"] == "firing"))
}

#[test]
fn one_of_three_servers_evaluates_and_a_takeover_does_not_announce_again() {
    let Some(cluster) = Cluster::start(18173) else {
        return;
    };
    let store = cluster.url("pw_lease");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("alerts.toml");
    std::fs::write(
        &rules,
        "check_interval = \"1s\"\n[[rule]]\nname = \"spans recorded\"\nkind = \"sql\"\nquery = \"SELECT count() FROM spans\"\nop = \">\"\nthreshold = 0\n",
    )
    .unwrap();
    let (hook, seen) = webhook_sink();
    let spool = |name: &str| dir.path().join(name);

    // All three run before the condition holds, so each would announce it if it evaluated.
    let first = Server::start(&store, &rules, &hook, &spool("a"));
    let second = Server::start(&store, &rules, &hook, &spool("b"));
    let third = Server::start(&store, &rules, &hook, &spool("c"));
    let holder = first.alerts()["evaluator"]["holder"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until("the oldest leads", Duration::from_secs(10), || {
        evaluating(&first)
            && [&second, &third]
                .iter()
                .all(|s| s.alerts()["evaluator"]["leader"] == holder.as_str())
    });
    let (code, _, body) = http(
        second.port,
        "POST",
        "/v1/traces",
        &[("content-type", "application/json")],
        one_span().as_bytes(),
    );
    assert_eq!(code, 200, "{body}");
    wait_until(
        "every server shows the alert",
        Duration::from_secs(20),
        || firing_here(&first) && firing_here(&second) && firing_here(&third),
    );
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(first.alerts()["evaluated_here"], true);
    for other in [&second, &third] {
        let view = other.alerts();
        assert_eq!(view["evaluated_here"], false, "{view}");
        assert_eq!(view["evaluator"]["leader"], holder.as_str(), "{view}");
    }
    assert_eq!(firings(&seen), 1, "{:?}", seen.lock().unwrap());

    // kill -9: its heartbeat ages for a lease (10 s), then the second-oldest takes over.
    first.kill();
    let took = wait_until(
        "the second server takes over",
        Duration::from_secs(30),
        || evaluating(&second),
    );
    assert!(
        took >= Duration::from_secs(4),
        "took over after {took:?}, before the killed leader's lease ran out"
    );
    assert!(!evaluating(&third));
    std::thread::sleep(Duration::from_secs(4));
    assert!(firing_here(&second));
    assert_eq!(
        firings(&seen),
        1,
        "the new leader resumed the stored alert instead of announcing it again"
    );

    // Acknowledged on the third (which does not evaluate): the leader takes it over.
    let fingerprint = third.alerts()["active"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _, body) = http(
        third.port,
        "POST",
        &format!("/api/alerts/{fingerprint}/ack?by=oncall"),
        &[("x-pathwise-request", "1")],
        b"",
    );
    assert_eq!(code, 200, "{body}");
    wait_until(
        "the leader has the acknowledgement",
        Duration::from_secs(10),
        || second.alerts()["active"][0]["acked_by"] == "oncall",
    );

    // A clean shutdown resigns: the third leads at its next heartbeat, not a lease later.
    second.interrupt();
    let took = wait_until(
        "the third server takes over",
        Duration::from_secs(8),
        || evaluating(&third),
    );
    assert!(took < Duration::from_secs(8));
    std::thread::sleep(Duration::from_secs(2));
    let view = third.alerts();
    assert_eq!(view["active"][0]["acked_by"], "oncall", "{view}");
    assert_eq!(firings(&seen), 1);
}
