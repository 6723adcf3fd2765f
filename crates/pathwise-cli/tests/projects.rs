//! `pathwise serve --projects FILE` as a user runs it: a default project (`--db`) and a
//! `billing` project in a file of its own with a one-day retention. Retention is the
//! project's own (billing's two-day-old trace goes, the default project's stays); a key made
//! with `pathwise keys create --project billing` reads and sends there and nowhere else; an
//! OTLP resource naming `service.namespace = billing` lands in billing's file.

mod remote_support;

use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
use pathwise_store::{Backend, Store, TraceFilter};
use pathwise_store_sqlite::{SqliteBackend, SqliteStore};
use remote_support::{TOKEN, free_port, http, pathwise, spawn_serving, stop};

const HOUR_MS: u64 = 3_600_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// One root span named `name`, `age_ms` ago.
fn write_trace(db: &Path, name: &'static str, age_ms: u64, unique: u128) {
    let at = now_ms() - age_ms;
    let mut span = SpanRecord::new(
        TraceId::from_parts(at, unique),
        1,
        0,
        name.into(),
        SpanKind::Span,
    );
    span.start_ns = at as i64 * 1_000_000;
    span.duration_ns = 2_000_000;
    SqliteStore::open(db)
        .unwrap()
        .write_records(&[Record::Span(span)])
        .unwrap();
}

fn trace_names(db: &Path) -> Vec<String> {
    let backend = SqliteBackend::open(db).unwrap();
    let mut names: Vec<String> = backend
        .reader()
        .unwrap()
        .list_traces(&TraceFilter::default())
        .unwrap()
        .traces
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    names
}

fn get(port: u16, path: &str, credential: &str) -> (u16, serde_json::Value) {
    let auth = format!("Bearer {credential}");
    let (code, _, body) = http(port, "GET", path, &[("authorization", &auth)], b"");
    (
        code,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn each_project_keeps_its_own_data_retention_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web.db");
    let billing = dir.path().join("billing.db");
    for (db, seed) in [(&web, 10), (&billing, 20)] {
        write_trace(db, "old", 48 * HOUR_MS, seed);
        write_trace(db, "recent", HOUR_MS, seed + 1);
    }
    let file = dir.path().join("projects.toml");
    std::fs::write(
        &file,
        "default = \"web\"\n\n[[project]]\nname = \"billing\"\nstore = \"billing.db\"\nretention = \"1d\"\n",
    )
    .unwrap();
    let key_text = pathwise(&[
        "keys",
        "create",
        "--db",
        web.to_str().unwrap(),
        "--name",
        "billing-app",
        "--scope",
        "ingest",
        "--scope",
        "read",
        "--project",
        "billing",
    ]);
    let key = key_text.lines().next().unwrap().trim().to_string();
    assert!(key.starts_with("pwk_"), "{key_text}");
    assert!(key_text.contains("project:billing"), "{key_text}");

    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let spool = dir.path().join("spool");
    let args: [&OsStr; 9] = [
        "serve".as_ref(),
        "--listen".as_ref(),
        listen.as_ref(),
        "--db".as_ref(),
        web.as_os_str(),
        "--projects".as_ref(),
        file.as_os_str(),
        "--spool".as_ref(),
        spool.as_os_str(),
    ];
    let server = spawn_serving(&args, Some(TOKEN));

    // Billing's retention takes its old trace at start; the default project keeps its own.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (code, list) = get(port, "/api/traces?project=billing", &key);
        assert_eq!(code, 200, "{list}");
        let names: Vec<&str> = list["traces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        if names == ["recent"] {
            break;
        }
        assert!(Instant::now() < deadline, "billing still lists {names:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, list) = get(port, "/api/traces", TOKEN);
    assert_eq!(code, 200);
    assert_eq!(list["traces"].as_array().unwrap().len(), 2, "{list}");
    // The billing key reads nothing of the default project.
    let (code, _) = get(port, "/api/traces", &key);
    assert_eq!(code, 403);
    let (code, projects) = get(port, "/api/projects", TOKEN);
    assert_eq!(code, 200);
    assert_eq!(projects["current"], "web");

    // OTLP: the key sends to billing; a resource naming billing goes there with the token.
    let now_ns = now_ms() * 1_000_000;
    let body = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.namespace","value":{{"stringValue":"billing"}}}}]}},
        "scopeSpans":[{{"spans":[{{"traceId":"0000000000000000000000000000b111","spanId":"00000000000000b1","name":"invoice",
        "startTimeUnixNano":"{now_ns}","endTimeUnixNano":"{}"}}]}}]}}]}}"#,
        now_ns + 1_000_000
    );
    let auth = format!("Bearer {TOKEN}");
    let (code, _, reply) = http(
        port,
        "POST",
        "/v1/traces",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert_eq!(code, 200, "{reply}");
    stop(server);

    assert_eq!(trace_names(&billing), ["invoice", "recent"]);
    assert_eq!(trace_names(&web), ["old", "recent"]);
    assert!(spool.join("projects").join("billing").is_dir());
}

#[test]
fn a_bad_projects_file_stops_the_server_before_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let file = dir.path().join("projects.toml");
    for (text, expected) in [
        ("[[project]]\nname = \"Billing!\"\n", "not a project name"),
        ("[[project]]\nname = \"default\"\n", "named twice"),
        (
            "[[project]]\nname = \"b\"\nretention = \"soon\"\n",
            "retention",
        ),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = std::process::Command::new(remote_support::BIN)
            .args([
                "serve",
                "--db",
                db.to_str().unwrap(),
                "--projects",
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.contains("projects.toml") && said.contains(expected),
            "{said}"
        );
    }
}
