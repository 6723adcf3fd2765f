//! Scheduled reports through a real `pathwise serve --reports FILE`: yesterday's traffic gives a
//! daily report in every format asked for, posted to a webhook and mailed to a real SMTP sink;
//! a period with no traffic says so; a restart writes nothing twice; a bad file stops the
//! server before it serves. Also `pathwise report --period`.

mod remote_support;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pathwise_model::{AttrValue, ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;
use pathwise_test_support::smtp::SmtpSink;
use remote_support::{free_port, pathwise, spawn_serving, stop};

const DAY_MS: u64 = 86_400_000;
const REQUESTS: u64 = 40;
const FAILED: u64 = 4;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// 40 `checkout` requests yesterday at noon UTC, each with a `charge` child (4 of them failed)
/// and a model call.
fn record_yesterday(db: &std::path::Path) {
    let noon = (now_ms() / DAY_MS - 1) * DAY_MS + DAY_MS / 2;
    let mut paths = PathList::default();
    let root_path = paths.push(0, "checkout");
    let (charge_path, llm_path) = (
        paths.push(root_path, "charge"),
        paths.push(root_path, "rerank"),
    );
    let mut records = Vec::new();
    for i in 0..REQUESTS {
        let at = noon + i * 60_000;
        let trace = TraceId::from_parts(at, u128::from(i) + 1);
        let mut root = SpanRecord::new(trace, 1, 0, "checkout".into(), SpanKind::Span);
        root.start_ns = at as i64 * 1_000_000;
        root.duration_ns = 30_000_000;
        root.path = root_path;
        let mut charge = SpanRecord::new(trace, 2, 1, "charge".into(), SpanKind::Span);
        charge.start_ns = root.start_ns + 1_000_000;
        charge.duration_ns = 20_000_000;
        charge.path = charge_path;
        if i < FAILED {
            charge.status = Status::Error;
            charge.details_mut().error = Some(ErrorInfo {
                error_type: "Declined".into(),
                ..Default::default()
            });
        }
        let mut llm = SpanRecord::new(trace, 3, 1, "rerank".into(), SpanKind::Step);
        llm.start_ns = root.start_ns + 22_000_000;
        llm.duration_ns = 5_000_000;
        llm.path = llm_path;
        llm.details_mut().attrs = vec![
            (
                "gen_ai.request.model".into(),
                AttrValue::from("gpt-4o-mini"),
            ),
            ("gen_ai.usage.input_tokens".into(), AttrValue::I64(100)),
            ("gen_ai.usage.output_tokens".into(), AttrValue::I64(10)),
        ];
        records.extend([Record::Span(charge), Record::Span(llm), Record::Span(root)]);
    }
    let batch = WriteBatch {
        records: &records,
        ..WriteBatch::EMPTY
    };
    SqliteStore::open(db)
        .unwrap()
        .write_batch(&batch, &paths)
        .unwrap();
}

/// An HTTP server on loopback that answers 200 to everything and keeps each request's body.
fn webhook_sink() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into());
            }
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

fn serve(
    db: &std::path::Path,
    reports: &std::path::Path,
    spool: &std::path::Path,
) -> remote_support::Server {
    let listen = format!("127.0.0.1:{}", free_port());
    let args: [&OsStr; 9] = [
        "serve".as_ref(),
        "--listen".as_ref(),
        listen.as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
        "--reports".as_ref(),
        reports.as_os_str(),
        "--spool".as_ref(),
        spool.as_os_str(),
    ];
    spawn_serving(&args, None)
}

fn wait_for_file(path: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(Instant::now() < deadline, "{path:?} was not written");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn serve_writes_posts_and_mails_each_period_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    record_yesterday(&db);
    let sink = SmtpSink::start();
    let (hook, posted) = webhook_sink();
    let out = dir.path().join("reports");
    let file = dir.path().join("reports.toml");
    std::fs::write(
        &file,
        format!(
            "dir = {out:?}\nwebhook = \"{hook}\"\n\n[email]\nsmtp = \"{}\"\nfrom = \"pathwise@example.com\"\nto = [\"team@example.com\"]\n\n[[report]]\nperiod = \"day\"\nformats = [\"html\", \"json\", \"csv\"]\n",
            sink.url()
        ),
    )
    .unwrap();
    let server = serve(&db, &file, &dir.path().join("spool"));

    let yesterday = pathwise_analysis::report::minute_text(
        ((now_ms() / DAY_MS - 1) * DAY_MS) as i64 * 1_000_000,
    );
    let stem = format!("day-{}", &yesterday[..10]);
    let page = wait_for_file(&out.join(format!("{stem}.html")));
    let json: serde_json::Value =
        serde_json::from_str(&wait_for_file(&out.join(format!("{stem}.json")))).unwrap();
    let csv = wait_for_file(&out.join(format!("{stem}.csv")));
    assert_eq!(json["summary"]["requests"], REQUESTS);
    assert_eq!(json["summary"]["errors"], FAILED);
    assert_eq!(json["empty"], false);
    assert_eq!(
        json["llm"]["calls_by_model"][0],
        serde_json::json!(["gpt-4o-mini", REQUESTS])
    );
    assert_eq!(json["llm"]["input_tokens"], REQUESTS * 100);
    let requests: i64 = json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["requests"].as_i64().unwrap())
        .sum();
    assert_eq!(
        requests, REQUESTS as i64,
        "the timeline holds every request"
    );
    assert!(csv.contains("checkout → charge"), "{csv}");
    // A page to look at, whole on its own: charts drawn inline, nothing fetched, no script.
    assert!(page.contains(&format!("Daily report {}", &yesterday[..10])));
    assert!(
        page.matches("<svg class=\"chart\"").count() >= 4,
        "timeline, hot paths, consumers, latency"
    );
    assert!(
        page.contains("data:image/svg+xml;base64,"),
        "the flame graph"
    );
    assert!(!page.contains("<script") && !page.contains("://"));

    let mails = sink.wait_for(1, Duration::from_secs(30));
    assert_eq!(
        mails[0].subject,
        format!("[Pathwise] Daily report {}", &yesterday[..10])
    );
    assert!(mails[0].text.contains("HOT PATHS"), "{}", mails[0].text);
    assert!(
        mails[0].raw.contains("text/html"),
        "the page as the alternative"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while posted.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let bodies = posted.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let hooked: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(hooked["summary"]["requests"], REQUESTS);
    stop(server);

    // A restart finds yesterday's report made: nothing is written, posted or mailed again.
    let server = serve(&db, &file, &dir.path().join("spool"));
    std::thread::sleep(Duration::from_secs(2));
    stop(server);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(posted.lock().unwrap().len(), 1);

    // The same report from the command line.
    let text = pathwise(&[
        "report",
        "--period",
        "day",
        "--format",
        "json",
        "--db",
        db.to_str().unwrap(),
    ]);
    let cli: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(cli["summary"], json["summary"]);
}

#[test]
fn a_period_without_traffic_says_so_and_a_bad_file_stops_serve() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    drop(SqliteStore::open(&db).unwrap());
    let out = dir.path().join("reports");
    let file = dir.path().join("reports.toml");
    std::fs::write(
        &file,
        format!("dir = {out:?}\n\n[[report]]\nperiod = \"week\"\nformats = [\"text\", \"json\"]\n"),
    )
    .unwrap();
    let server = serve(&db, &file, &dir.path().join("spool"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        let files: Vec<_> = std::fs::read_dir(&out)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(text) = files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "txt"))
        {
            break text.clone();
        }
        assert!(Instant::now() < deadline, "no weekly report");
        std::thread::sleep(Duration::from_millis(100));
    };
    stop(server);
    let text = std::fs::read_to_string(&found).unwrap();
    assert!(text.contains("WEEKLY REPORT"), "{text}");
    assert!(
        text.contains("No spans were recorded in this period"),
        "{text}"
    );
    assert!(
        !text.contains("decrease"),
        "no made-up throughput change: {text}"
    );

    std::fs::write(&file, "[[report]]\nperiod = \"fortnight\"\n").unwrap();
    let refused = std::process::Command::new(remote_support::BIN)
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--reports",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("reports.toml") && said.contains("fortnight"),
        "{said}"
    );
}
