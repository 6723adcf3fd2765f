//! `pathwise migrate`: a demo database copied into a new SQLite file and into a real two-shard
//! ClickHouse cluster; the copies answer the report exactly as the original does.

mod common;

use std::path::Path;
use std::process::Output;

use common::pathwise;
use pathwise_store_clickhouse::testing::Cluster;

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The parts of `report --format json` that depend on the data only (not on the clock).
fn report(store: &str) -> serde_json::Value {
    let text = ok(pathwise(&["report", "--format", "json", "--store", store]));
    let full: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys = [
        "summary",
        "hot_paths",
        "slow_paths",
        "error_prone_paths",
        "time_consumers",
        "never_executed",
    ];
    keys.iter()
        .map(|k| (k.to_string(), full[k].clone()))
        .collect()
}

fn demo(dir: &Path) -> String {
    let db = dir.join("source.db").to_str().unwrap().to_string();
    ok(pathwise(&[
        "demo",
        "--iterations",
        "150",
        "--seed",
        "7",
        "--no-serve",
        "--db",
        &db,
    ]));
    db
}

#[test]
fn a_copy_into_sqlite_is_exact_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = demo(dir.path());
    let target = format!("sqlite:{}", dir.path().join("copy.db").display());
    let checkpoint = dir.path().join("cp").to_str().unwrap().to_string();
    let args = [
        "migrate",
        "--from",
        &source,
        "--to",
        &target,
        "--checkpoint",
        &checkpoint,
        "--batch",
        "7",
    ];
    let out = ok(pathwise(&args));
    assert!(out.contains("verified"), "{out}");
    assert!(
        !Path::new(&checkpoint).exists(),
        "the checkpoint is removed when done"
    );
    assert_eq!(report(&source), report(&target));
    // Copying again is idempotent: the counts still match.
    let again = ok(pathwise(&args));
    assert!(again.contains("verified"), "{again}");
    assert_eq!(report(&source), report(&target));
}

#[test]
fn bad_stores_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let source = demo(dir.path());
    let same = pathwise(&["migrate", "--from", &source, "--to", &source]);
    assert_eq!(same.status.code(), Some(2));
    let missing = pathwise(&["migrate", "--from", "/nonexistent/x.db", "--to", &source]);
    assert_eq!(missing.status.code(), Some(2));
    let unreachable = pathwise(&[
        "migrate",
        "--from",
        &source,
        "--to",
        "clickhouse://127.0.0.1:1/pw",
    ]);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("127.0.0.1:1"));
}

#[test]
fn a_copy_into_a_two_shard_cluster_answers_the_same() {
    let Some(cluster) = Cluster::start(18143) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = demo(dir.path());
    let target = cluster.url("pw_migrate");
    let checkpoint = dir.path().join("cp").to_str().unwrap().to_string();
    let out = ok(pathwise(&[
        "migrate",
        "--from",
        &source,
        "--to",
        &target,
        "--checkpoint",
        &checkpoint,
    ]));
    assert!(out.contains("verified"), "{out}");
    assert_eq!(report(&source), report(&target));
    let traces = ok(pathwise(&["traces", "--store", &target]));
    assert!(traces.contains("competitor-selection"), "{traces}");
}
