//! `kill -9` mid-run: the database stays sound and every error span finished before the kill is
//! stored (after the next start replays the error lane).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use pathwise::Config;
use rusqlite::Connection;

const CHILD_ENV: &str = "PATHWISE_CRASH_CHILD_DB";

/// Runs only inside the child process: records forever until killed.
#[test]
fn crash_child_entry() {
    let Ok(db) = std::env::var(CHILD_ENV) else {
        return;
    };
    let _pathwise = pathwise::init(Config {
        db_path: db.into(),
        ..Config::default()
    })
    .unwrap();
    for i in 0u64.. {
        let _root = pathwise::span("request");
        for _ in 0..20 {
            let _ok = pathwise::span("fine");
        }
        {
            let mut failing = pathwise::span("failing");
            failing.fail("InjectedError", i.to_string());
        }
        // The error span has ended: from here on it must survive a kill.
        println!("done {i}");
    }
}

#[test]
fn sigkill_loses_no_finished_error_span() {
    let (_dir, db) = common::temp_db();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_entry",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut last_done = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("done ") {
            let n: u64 = n.trim().parse().unwrap();
            last_done = Some(n);
            if n >= 3_000 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let last_done = last_done.expect("the child reported progress");

    let check: String = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // The next start replays the error lane the killed process left behind.
    let recovered = pathwise::init(Config {
        db_path: db.clone(),
        ..Config::default()
    })
    .unwrap();
    let stats = recovered.shutdown();
    assert!(
        stats.replayed > 0,
        "the lane held unwritten errors: {stats:?}"
    );
    let conn = Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT CAST(d.error_message AS INTEGER) FROM spans s
             JOIN span_details d USING (trace_id, span_id)
             JOIN names n ON n.id = s.name_id WHERE n.name = 'failing'",
        )
        .unwrap();
    let mut stored: Vec<u64> = stmt
        .query_map([], |r| r.get::<_, i64>(0).map(|v| v as u64))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    stored.sort_unstable();
    stored.dedup();
    let missing: Vec<u64> = (0..=last_done)
        .filter(|i| stored.binary_search(i).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "error spans lost by the kill: {} of {}",
        missing.len(),
        last_done + 1
    );
}
