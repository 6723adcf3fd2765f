//! End-to-end tests of the `pathwise` binary: a small seeded demo run, then the database it
//! wrote and the `traces` / `show` commands on it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{BIN, db_arg, pathwise, stderr, stdout};
use rusqlite::{Connection, OpenFlags};

/// Runs the demo into a fresh database and checks what it says to do next.
fn demo(dir: &Path, seed: u64) -> PathBuf {
    let (db, out) = common::demo(dir, seed);
    assert!(out.contains("pathwise traces"), "{out}");
    assert!(out.contains("pathwise show "), "{out}");
    assert!(
        !out.contains("dashboard"),
        "--no-serve must not mention the dashboard: {out}"
    );
    db
}

/// One demo run shared by the tests that only read its database.
fn shared_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, db) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = demo(dir.path(), 7);
        (dir, db)
    });
    db
}

fn open(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open the demo db")
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn demo_records_the_workload() {
    let conn = open(shared_db());
    let status = |s: &str| {
        count(
            &conn,
            &format!("SELECT count(*) FROM traces_v WHERE status = '{s}'"),
        )
    };
    assert_eq!(count(&conn, "SELECT count(*) FROM traces"), 200);
    assert!(status("completed") > 0);
    assert!(status("failed") > 0);
    assert_eq!(status("running"), 0);

    for source in [
        "GEOClient.search",
        "PubMedClient.search",
        "ArrayExpressClient.search",
    ] {
        let n = count(
            &conn,
            &format!("SELECT count(*) FROM spans_v WHERE name = '{source}'"),
        );
        assert!(n > 0, "no {source} spans");
    }
    for error in ["RateLimitError", "TimeoutError"] {
        let n = count(
            &conn,
            &format!("SELECT count(*) FROM spans_v WHERE error_type LIKE '%{error}'"),
        );
        assert!(n > 0, "no {error}");
    }
    assert_eq!(
        count(
            &conn,
            // The cache's own path (its database lookup, a child, ends with more).
            "SELECT count(*) FROM paths WHERE path LIKE '%SearchService.search → GEOClient.search → GEOCache.get'"
        ),
        1
    );
    // The manual span carries its attribute; operations are recorded under the crawl.
    let ranked = count(
        &conn,
        "SELECT count(*) FROM spans s JOIN names n ON n.id = s.name_id
         JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id
         WHERE n.name = 'SearchService._rank_datasets' AND d.attrs LIKE '%\"count\":%'",
    );
    assert!(ranked > 0);
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM spans_v WHERE kind = 'operation' AND name = 'http_get'"
        ) > 0
    );
}

/// The demo's cache and dataset lookups are database queries: four normalised statements
/// (no value of a request left in a name), with rows, in the two databases' components.
#[test]
fn demo_records_database_queries_as_normalised_statements() {
    let conn = open(shared_db());
    let statements = |group: &str| -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT DISTINCT name FROM spans_v WHERE group_name = ?1 ORDER BY name")
            .unwrap();
        stmt.query_map([group], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        statements("db.sqlite"),
        [
            "INSERT INTO search_cache (source, cache_key, payload, expires_at) VALUES (?, ?, ?, ?)",
            "SELECT payload, expires_at FROM search_cache WHERE source = ? AND cache_key = ? AND expires_at > ?",
        ]
    );
    assert_eq!(
        statements("db.postgresql"),
        [
            "SELECT accession, title, score FROM datasets WHERE source = ? AND search_text @@ plainto_tsquery(?, ?) ORDER BY score DESC LIMIT ?",
            "UPDATE datasets SET hits = hits + ?, last_hit = ? WHERE accession IN (?)",
        ]
    );
    // Every query carries its rows, except the failed ones.
    let without_rows = count(
        &conn,
        "SELECT count(*) FROM spans s JOIN names g ON g.id = s.group_id
         LEFT JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id
         WHERE g.name LIKE 'db.%' AND s.status = 0 AND (d.attrs IS NULL OR d.attrs NOT LIKE '%\"db.rows\":%')",
    );
    assert_eq!(without_rows, 0);
    // Cache lookups run under the caches' monitored calls.
    assert!(
        count(
            &conn,
            "SELECT count(*) FROM spans_v WHERE path LIKE '%GEOCache.get → SELECT payload%'"
        ) > 0
    );
}

#[test]
fn pipeline_lost_nothing() {
    let conn = open(shared_db());
    let (recorded, written, dropped, sampled_out): (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT recorded, written, dropped, sampled_out FROM pipeline_stats ORDER BY ts_ns DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("a pipeline_stats row");
    assert_eq!(dropped, 0);
    assert_eq!(written, recorded - sampled_out);
}

#[test]
fn never_called_functions_are_registered() {
    let conn = open(shared_db());
    for name in ["LegacyExporter.export_csv", "SearchService.reindex_all"] {
        assert_eq!(
            count(
                &conn,
                &format!("SELECT count(*) FROM functions WHERE name = '{name}'")
            ),
            1
        );
        assert_eq!(
            count(
                &conn,
                &format!("SELECT count(*) FROM spans_v WHERE name = '{name}'")
            ),
            0
        );
    }
}

#[test]
fn traces_lists_a_table() {
    let db = shared_db();
    let output = pathwise(&["traces", "--limit", "5", "--db", db_arg(db)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATUS"),
        "{out}"
    );

    let output = pathwise(&[
        "traces",
        "--status",
        "failed",
        "--q",
        "competitor",
        "--json",
        "--db",
        db_arg(db),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let page: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let traces = page["traces"].as_array().expect("a traces array");
    assert!(!traces.is_empty());
    assert!(
        traces
            .iter()
            .all(|t| t["status"] == "failed" && t["name"] == "competitor-selection")
    );
}

#[test]
fn traces_sort_by_duration() {
    let db = shared_db();
    let slowest: i64 = open(db)
        .query_row("SELECT max(duration_ns) FROM traces", [], |row| row.get(0))
        .expect("a slowest trace");
    for (sort, first) in [("slowest", Some(slowest)), ("fastest", None)] {
        let output = pathwise(&[
            "traces",
            "--sort",
            sort,
            "--limit",
            "5",
            "--json",
            "--db",
            db_arg(db),
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        let page: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
        let durations: Vec<i64> = page["traces"]
            .as_array()
            .expect("a traces array")
            .iter()
            .map(|t| t["duration_ns"].as_i64().expect("finished traces only"))
            .collect();
        assert_eq!(durations.len(), 5);
        let ordered = if sort == "slowest" {
            durations.windows(2).all(|w| w[0] >= w[1])
        } else {
            durations.windows(2).all(|w| w[0] <= w[1])
        };
        assert!(ordered, "{sort}: {durations:?}");
        if let Some(first) = first {
            assert_eq!(durations[0], first);
        }
    }
    let output = pathwise(&["traces", "--sort", "biggest", "--db", db_arg(db)]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn traces_rejects_a_bad_status() {
    let output = pathwise(&[
        "traces",
        "--status",
        "exploded",
        "--db",
        db_arg(shared_db()),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("exploded"));
}

#[test]
fn show_prints_a_failed_decision_trace() {
    let db = shared_db();
    let id: String = open(db)
        .query_row(
            "SELECT trace_id FROM traces_v WHERE name = 'competitor-selection' AND status = 'failed' LIMIT 1",
            [],
            |row| row.get(0),
        )
        .expect("a failed decision trace");
    let output = pathwise(&["show", &id, "--db", db_arg(db)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("competitor-selection"), "{out}");
    assert!(out.contains("keyword_generation"), "{out}");
    assert!(out.contains('✗'), "{out}");
    assert!(out.contains("status failed"), "{out}");

    let output = pathwise(&["show", &id, "--json", "--db", db_arg(db)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(value["trace"]["trace_id"], id.as_str());
    assert!(value["spans"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn show_reports_bad_and_unknown_ids() {
    let db = shared_db();
    let output = pathwise(&["show", "notanid", "--db", db_arg(db)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not a trace id"),
        "{}",
        stderr(&output)
    );

    let unknown = "0".repeat(32);
    let output = pathwise(&["show", &unknown, "--db", db_arg(db)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&format!("no trace {unknown}")),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_database_is_a_clean_error() {
    for args in [
        &["traces", "--db", "/nonexistent/x.db"][..],
        &["show", &"a".repeat(32), "--db", "/nonexistent/x.db"][..],
    ] {
        let output = pathwise(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let err = stderr(&output);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("/nonexistent/x.db"), "{err}");
    }
    // A file that is not a database.
    let dir = tempfile::tempdir().expect("temp dir");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"definitely not sqlite").expect("write junk");
    let output = pathwise(&["traces", "--db", db_arg(&junk)]);
    assert_eq!(output.status.code(), Some(2));
    assert!(!stderr(&output).contains("panicked"));
}

#[test]
fn same_seed_same_traces() {
    // (name, status or error type, count) rows: traces by status, spans by error type.
    let by_status = |db: &Path| -> Vec<(String, String, i64)> {
        let conn = open(db);
        let mut stmt = conn
            .prepare(
                "SELECT name, status, count(*) FROM traces_v GROUP BY name, status
                 UNION ALL
                 SELECT name, coalesce(error_type, 'ok'), count(*) FROM spans_v GROUP BY 1, 2
                 ORDER BY 1, 2",
            )
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let a = tempfile::tempdir().expect("temp dir");
    let b = tempfile::tempdir().expect("temp dir");
    let first = by_status(&demo(a.path(), 11));
    let second = by_status(&demo(b.path(), 11));
    assert_eq!(first, second);
    assert!(first.iter().any(|(_, status, _)| status == "failed"));
}

/// One HTTP/1.1 GET over a plain socket: status line and body.
fn http_get(addr: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the server");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

#[test]
fn serve_answers_the_api_and_the_dashboard() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_pathwise"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db_arg(shared_db()),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let (status, body) = http_get(&addr, "/api/traces?limit=3");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"traces\""), "{body}");
    let (status, page) = http_get(&addr, "/");
    assert!(status.contains("200") && page.contains("<html"), "{status}");
    let (status, _) = http_get(&addr, "/api/traces?status=bogus");
    assert!(status.contains("400"), "{status}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Runs `serve` with `args` and `env`; kills it when it is still running after 10 s (a server
/// that started when it should have refused).
fn serve_briefly(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

#[test]
fn serve_refuses_an_empty_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let db = db.to_str().unwrap();
    let listen = ["--listen", "127.0.0.1:0", "--db", db];
    let flag = serve_briefly(&[&listen[..], &["--token", ""]].concat(), &[]);
    let from_env = serve_briefly(&listen, &[("PATHWISE_TOKEN", "")]);
    for refused in [flag, from_env] {
        assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains("the token is empty"),
            "{}",
            stderr(&refused)
        );
    }
    assert!(
        !dir.path().join("p.db").exists(),
        "refused before anything starts"
    );
}

#[test]
fn report_prints_every_section_in_every_format() {
    let db = db_arg(shared_db());
    let text = stdout(&pathwise(&["report", "--db", db]));
    for section in [
        "EXECUTION PATH ANALYSIS REPORT",
        "HOT PATHS",
        "SLOW PATHS",
        "ERROR-PRONE PATHS",
        "TIME CONSUMERS",
        "NEVER EXECUTED",
        "OPTIMISATION OPPORTUNITIES",
        "HEALTH",
        "REGRESSIONS AND SHIFTS",
        "BASELINES",
    ] {
        assert!(text.contains(section), "missing {section}:\n{text}");
    }
    assert!(
        text.contains("LegacyExporter.export_csv"),
        "never-called functions are listed"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&pathwise(&[
        "report", "--db", db, "--format", "json",
    ])))
    .unwrap();
    assert!(json["hot_paths"].as_array().unwrap().len() >= 5);
    let csv = stdout(&pathwise(&[
        "report", "--db", db, "--format", "csv", "--since", "7d",
    ]));
    assert!(csv.starts_with("path,node,depth,calls"));
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let out = pathwise(&[
        "report",
        "--db",
        db,
        "--format",
        "html",
        "--out",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<table>") && !page.contains("<script") && !page.contains("://"));
    // Error patterns by a named attribute: the demo's ranking step records `count`.
    let patterns = stdout(&pathwise(&["report", "--db", db, "--attr", "count"]));
    assert!(
        patterns.contains("ERROR PATTERNS BY ATTRIBUTE COUNT ("),
        "{patterns}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&pathwise(&[
        "report", "--db", db, "--format", "json", "--attr", "count",
    ])))
    .unwrap();
    assert_eq!(json["error_patterns"][0]["attribute"], "count");
    assert!(json["error_patterns"][0]["spans"].as_i64().unwrap() > 0);
    let bad = pathwise(&["report", "--db", db, "--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(!stderr(&bad).contains("panicked"));
}

#[test]
fn baselines_are_learned_pinned_and_listed_and_the_snapshot_is_json() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("baselines.db");
    std::fs::copy(shared_db(), &db_path).unwrap();
    let db = db_arg(&db_path);
    let learned = pathwise(&["baseline", "learn", "--db", db]);
    assert!(learned.status.success(), "{}", stderr(&learned));
    assert!(
        stdout(&learned).contains("GEOCache.get v1"),
        "{}",
        stdout(&learned)
    );
    let pinned = pathwise(&["baseline", "pin", "GEOCache.get", "--db", db]);
    assert_eq!(stdout(&pinned).trim(), "GEOCache.get: v1 pinned");
    let again = stdout(&pathwise(&["baseline", "learn", "--db", db]));
    assert!(
        !again.contains("GEOCache.get"),
        "pinned baselines are not re-learned:\n{again}"
    );
    assert!(again.contains(" v2:"), "{again}");
    let list = stdout(&pathwise(&["baseline", "list", "--db", db]));
    let geo = list
        .lines()
        .find(|l| l.starts_with("GEOCache.get "))
        .unwrap();
    assert!(geo.contains(" 1 ") && geo.contains("yes"), "{geo}");
    let missing = pathwise(&["baseline", "pin", "NoSuch.op", "--db", db]);
    assert_eq!(missing.status.code(), Some(1));
    let snapshot: serde_json::Value =
        serde_json::from_str(&stdout(&pathwise(&["snapshot", "--db", db]))).unwrap();
    assert!(snapshot["overall"]["score"].as_u64().unwrap() <= 100);
    let geo_op = snapshot["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "GEOCache.get")
        .unwrap();
    assert_eq!(geo_op["baseline_source"], "stored v1 (pinned)");
    // The window options of /api/snapshot: long after the demo, every recent window is empty.
    let later = pathwise(&[
        "snapshot",
        "--db",
        db,
        "--at",
        "2200-01-01T00:00:00Z",
        "--recent-s",
        "600",
        "--baseline-h",
        "48",
    ]);
    assert!(later.status.success(), "{}", stderr(&later));
    let later: serde_json::Value = serde_json::from_str(&stdout(&later)).unwrap();
    let ops = later["operations"].as_array().unwrap();
    assert!(
        ops.iter().all(|o| o["recent"]["no_data"] == true),
        "{later}"
    );
    let bad = pathwise(&["snapshot", "--db", db, "--at", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let bad = pathwise(&["snapshot", "--db", db, "--recent-s", "5"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    // The demo's latency did not shift: nothing to accept, said plainly.
    let accept = pathwise(&["baseline", "accept", "GEOCache.get", "--db", db]);
    assert_eq!(accept.status.code(), Some(1));
    assert!(
        stderr(&accept).contains("has not shifted"),
        "{}",
        stderr(&accept)
    );
}

#[test]
fn schema_prints_the_clickhouse_tables_of_either_variant() {
    let modern = pathwise(&["schema", "--database", "pw", "--cluster", "pathwise"]);
    assert!(modern.status.success());
    let text = String::from_utf8_lossy(&modern.stdout);
    assert!(
        text.starts_with("CREATE DATABASE IF NOT EXISTS pw;\n"),
        "{text}"
    );
    assert!(text.contains("CREATE TABLE IF NOT EXISTS pw.spans_local"));
    assert!(text.contains("ENGINE = Distributed(pathwise, pw, spans_local"));
    assert!(text.contains("LowCardinality(String)"));
    let legacy = pathwise(&["schema", "--variant", "legacy"]);
    let text = String::from_utf8_lossy(&legacy.stdout);
    assert!(text.contains("CREATE TABLE IF NOT EXISTS pathwise.spans ("));
    assert!(
        !text.contains("LowCardinality"),
        "18.x has it only behind a setting"
    );
    let hostile = pathwise(&["schema", "--database", "pw; DROP TABLE x"]);
    assert_eq!(hostile.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&hostile.stderr).contains("letters, digits and _"));
}

#[test]
fn serve_refuses_a_bad_prices_file_before_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let prices = dir.path().join("prices.toml");
    std::fs::write(&prices, "[models.\"gpt-4o\"]\ninput = -1\noutput = 10\n").unwrap();
    let out = pathwise(&[
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--prices",
        prices.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert!(
        said.contains("prices.toml") && said.contains("zero or more"),
        "{said}"
    );
    assert!(!db.exists(), "nothing starts before the file is checked");
}
