//! `pathwise db stats|vacuum` on real SQLite files: the figures match the file, and a vacuum
//! gives space back (a full one also switching an older file to incremental vacuum).

mod common;

use common::{db_arg, demo, pathwise, sql_count, stderr, stdout};

fn stats(db: &std::path::Path) -> serde_json::Value {
    let output = pathwise(&["db", "stats", "--json", "--db", db_arg(db)]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

fn rows(stats: &serde_json::Value, table: &str) -> i64 {
    stats["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t[0] == table)
        .unwrap_or_else(|| panic!("{table} in {stats}"))[1]
        .as_i64()
        .unwrap()
}

#[test]
fn stats_count_what_the_file_holds_and_say_it_in_text_too() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo(dir.path(), 7);
    let figures = stats(&db);
    assert_eq!(
        rows(&figures, "spans"),
        sql_count(&db, "SELECT count(*) FROM spans")
    );
    assert_eq!(
        rows(&figures, "traces"),
        sql_count(&db, "SELECT count(*) FROM traces")
    );
    let on_disk = std::fs::metadata(&db).unwrap().len()
        + std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len());
    assert_eq!(figures["file_bytes"].as_u64().unwrap(), on_disk);
    assert!(figures["used_bytes"].as_u64().unwrap() <= on_disk);
    assert_eq!(figures["reclaim"], "incremental");
    assert!(figures["oldest_trace_ms"].as_u64() <= figures["newest_trace_ms"].as_u64());

    let text = pathwise(&["db", "stats", "--db", db_arg(&db)]);
    assert!(text.status.success());
    let text = stdout(&text);
    assert!(text.contains("on disk") && text.contains("spans"), "{text}");

    let missing = pathwise(&["db", "stats", "--db", db_arg(&dir.path().join("none.db"))]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
}

#[test]
fn a_full_vacuum_switches_an_older_file_to_incremental_and_shrinks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo(dir.path(), 11);
    // An older file: made without incremental vacuum (what every file before it was).
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA auto_vacuum = NONE; VACUUM;")
            .unwrap();
    }
    let before = stats(&db);
    assert!(
        before["reclaim"]
            .as_str()
            .unwrap()
            .starts_with("full vacuum only"),
        "{before}"
    );
    // Free pages, as retention leaves them.
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("DELETE FROM span_details; DELETE FROM spans;")
            .unwrap();
    }
    let freed = stats(&db);
    assert!(freed["free_bytes"].as_u64().unwrap() > 0, "{freed}");

    let output = pathwise(&["db", "vacuum", "--full", "--db", db_arg(&db)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("given back"),
        "{}",
        stdout(&output)
    );
    let after = stats(&db);
    assert_eq!(after["reclaim"], "incremental", "{after}");
    assert_eq!(after["free_bytes"], 0, "{after}");
    assert!(
        after["file_bytes"].as_u64().unwrap() < freed["file_bytes"].as_u64().unwrap() / 2,
        "{freed} → {after}"
    );
    // The data left is intact.
    assert_eq!(
        rows(&after, "traces"),
        rows(&before, "traces"),
        "traces were not deleted"
    );
}
