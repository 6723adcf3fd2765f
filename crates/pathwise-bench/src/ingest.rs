//! `ingest`: OTLP/HTTP protobuf export into a server in another process, sustained and
//! persisted, with the server's peak RSS. The same payloads can be sent to any OTLP/HTTP
//! receiver that stores into SQLite (Pathwise, Arize Phoenix), so the two are compared in one
//! run by `scripts/bench-ingest`.
//!
//! Payloads are made before the clock starts (traces of `--spans-per-trace` spans with
//! `--attributes` attributes each, `--batch` spans per request, every id unique), then
//! `--clients` keep-alive connections post them as fast as the server answers. "Persisted" is
//! read from the server's own SQLite file (`--count-sql`) until every span is there.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use pathwise_ingest::testing::{kv, parent_bytes};
use prost::Message;

use crate::BoxError;
use crate::report::{Latencies, Report};

#[derive(clap::Args)]
pub struct Args {
    /// Base URL of the receiver; requests go to `<url>/v1/traces`.
    #[arg(long)]
    url: String,
    /// The server's command line, started (and stopped) by the bench; without it the bench
    /// posts to a server that is already running (`--pid` then names it for RSS).
    #[arg(long, num_args = 1.., allow_hyphen_values = true)]
    server: Vec<String>,
    /// Pid of an already running server, for its peak RSS.
    #[arg(long)]
    pid: Option<u32>,
    /// The receiver's SQLite file and the query that counts its stored spans.
    #[arg(long)]
    count_db: PathBuf,
    #[arg(long, default_value = "SELECT count(*) FROM spans")]
    count_sql: String,
    /// Spans sent in all.
    #[arg(long, default_value_t = 500_000)]
    spans: usize,
    #[arg(long, default_value_t = 500)]
    batch: usize,
    #[arg(long, default_value_t = 10)]
    spans_per_trace: usize,
    #[arg(long, default_value_t = 8)]
    attributes: usize,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// `Authorization: Bearer` for the receiver.
    #[arg(long)]
    token: Option<String>,
    /// Longest wait for every span to be stored after the last request.
    #[arg(long, default_value_t = 600.0)]
    drain_seconds: f64,
}

/// Request bodies for `spans` spans; trace and span ids unique across the run.
fn payloads(a: &Args) -> Vec<Vec<u8>> {
    let now_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let traces_per_batch = (a.batch / a.spans_per_trace).max(1);
    let batches = a.spans.div_ceil(traces_per_batch * a.spans_per_trace);
    let mut trace_no: u64 = 0;
    (0..batches)
        .map(|_| {
            let mut spans = Vec::with_capacity(traces_per_batch * a.spans_per_trace);
            for _ in 0..traces_per_batch {
                trace_no += 1;
                let mut trace_id = [0u8; 16];
                trace_id[..8].copy_from_slice(
                    &0x9e37_79b9_7f4a_7c15u64
                        .wrapping_mul(trace_no)
                        .to_be_bytes(),
                );
                trace_id[8..].copy_from_slice(&trace_no.to_be_bytes());
                let start = now_ns + trace_no * 1_000;
                for s in 0..a.spans_per_trace as u64 {
                    let attributes = (0..a.attributes)
                        .map(|i| match i % 4 {
                            0 => kv(
                                &format!("http.attr{i}"),
                                Value::StringValue(format!("value-{}", trace_no % 97)),
                            ),
                            1 => kv(
                                &format!("count{i}"),
                                Value::IntValue((trace_no % 1000) as i64),
                            ),
                            2 => kv(&format!("ratio{i}"), Value::DoubleValue((s as f64) / 10.0)),
                            _ => kv(&format!("flag{i}"), Value::BoolValue(s % 2 == 0)),
                        })
                        .collect();
                    spans.push(Span {
                        trace_id: trace_id.to_vec(),
                        span_id: (trace_no << 8 | (s + 1)).to_be_bytes().to_vec(),
                        parent_span_id: parent_bytes(if s == 0 { 0 } else { trace_no << 8 | 1 }),
                        name: if s == 0 {
                            "GET /search".into()
                        } else {
                            format!("backend.call{}", s % 4)
                        },
                        start_time_unix_nano: start + s * 100,
                        end_time_unix_nano: start + s * 100 + 50_000,
                        attributes,
                        kind: if s == 0 { 2 } else { 3 },
                        ..Span::default()
                    });
                }
            }
            pathwise_ingest::testing::request("bench-app", spans).encode_to_vec()
        })
        .collect()
}

fn stored(a: &Args) -> u64 {
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    rusqlite::Connection::open_with_flags(&a.count_db, flags)
        .and_then(|c| c.query_row(&a.count_sql, [], |r| r.get::<_, i64>(0)))
        .map_or(0, |n| n.max(0) as u64)
}

/// `VmHWM` (peak resident set) of a process, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// The largest peak RSS among `pid` and its descendants (Phoenix serves from a child).
fn tree_peak_rss(pid: u32) -> u64 {
    let mut best = peak_rss(pid).unwrap_or(0);
    if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
            best = best.max(tree_peak_rss(child));
        }
    }
    best
}

fn start(a: &Args) -> Result<Option<Child>, BoxError> {
    let Some((program, rest)) = a.server.split_first() else {
        return Ok(None);
    };
    let child = Command::new(program)
        .args(rest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    Ok(Some(child))
}

pub fn run(a: Args) -> Result<Report, BoxError> {
    let bodies = Arc::new(payloads(&a));
    let sent_spans = bodies.len() * (a.batch / a.spans_per_trace).max(1) * a.spans_per_trace;
    let before = stored(&a);
    let mut server = start(&a)?;
    let pid = server.as_ref().map(|c| c.id()).or(a.pid);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let url = format!("{}/v1/traces", a.url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.clients)
        .build()?;
    // Wait until the receiver answers at all.
    let ready = Instant::now();
    runtime.block_on(async {
        while ready.elapsed() < Duration::from_secs(120) {
            let probe = client
                .post(&url)
                .header("content-type", "application/x-protobuf");
            let probe = match &a.token {
                Some(t) => probe.bearer_auth(t),
                None => probe,
            };
            if probe
                .body(ExportTraceServiceRequest::default().encode_to_vec())
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let (latencies, failures) = runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..a.clients {
            let (client, url, bodies, next, token) = (
                client.clone(),
                url.clone(),
                bodies.clone(),
                next.clone(),
                a.token.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut latencies = Latencies::default();
                let mut failures = 0u64;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    // A refused request (503 while the writer catches up) is sent again.
                    for _attempt in 0..100 {
                        let t = Instant::now();
                        let request = client
                            .post(&url)
                            .header("content-type", "application/x-protobuf");
                        let request = match &token {
                            Some(t) => request.bearer_auth(t),
                            None => request,
                        };
                        match request.body(body.clone()).send().await {
                            Ok(r) if r.status().is_success() => {
                                latencies.push(t.elapsed());
                                break;
                            }
                            _ => {
                                failures += 1;
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                    }
                }
                (latencies, failures)
            }));
        }
        let mut all = Latencies::default();
        let mut failures = 0;
        for task in tasks {
            let (l, f) = task.await.unwrap_or_default();
            all.extend(l);
            failures += f;
        }
        (all, failures)
    });
    let send_s = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs_f64(a.drain_seconds);
    let target = before + sent_spans as u64;
    let mut count = stored(&a);
    while count < target && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        count = stored(&a);
    }
    let persisted_s = started.elapsed().as_secs_f64();
    let rss = pid.map(tree_peak_rss).unwrap_or(0);
    if let Some(child) = server.as_mut() {
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let _ = child.wait();
    }
    let persisted = count.saturating_sub(before);
    let mut report = Report::new("ingest");
    report.text(
        "receiver",
        a.server.first().cloned().unwrap_or_else(|| a.url.clone()),
    );
    report.int("spans_sent", sent_spans as u64);
    report.int("requests", bodies.len() as u64);
    report.int("refused_requests_retried", failures);
    report.float("sustained_spans_per_s", sent_spans as f64 / send_s, 0);
    report.int("spans_persisted", persisted);
    report.float("persisted_spans_per_s", persisted as f64 / persisted_s, 0);
    report.latency("request", &latencies);
    report.float("server_peak_rss_mb", rss as f64 / 1048576.0, 1);
    report.check("every_span_persisted", persisted == sent_spans as u64);
    Ok(report)
}
