//! `pathwise sql` on the demo's database: compressed payload columns read back through
//! `pw_text` and `span_details_v`, secrets masked, writes refused.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{db_arg, pathwise, sql, sql_count, stderr, stdout};

/// The API key the demo sends; masking must keep it out of the database.
const API_KEY_SECRET: &str = "4f9c2b7e1a8d6035";

fn shared_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, db) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, _) = common::demo(dir.path(), 11);
        (dir, db)
    });
    db
}

#[test]
fn decision_steps_read_back_through_the_payload_view() {
    let db = shared_db();
    // Evaluations, an LLM call, a ranking; markup kept verbatim.
    for needle in [r#"%"evaluations"%"#, r#"%"llm"%"#, r#"%"ranking"%"#] {
        let n = sql_count(
            db,
            &format!("SELECT count(*) FROM span_details_v WHERE metadata LIKE '{needle}'"),
        );
        assert!(n > 0, "no metadata like {needle}");
    }
    assert!(
        sql_count(
            db,
            r#"SELECT count(*) FROM span_details_v WHERE reasoning LIKE '%<script>alert("x")</script>%'"#
        ) > 0
    );
    // Most payloads are compressed in the file, and every one of them reads as JSON.
    assert!(
        sql_count(
            db,
            "SELECT count(*) FROM span_details WHERE typeof(output) = 'blob'"
        ) > 500
    );
    assert_eq!(
        sql_count(
            db,
            "SELECT count(*) FROM span_details_v WHERE output IS NOT NULL AND NOT json_valid(output)"
        ),
        0
    );
}

#[test]
fn secrets_never_reach_the_database() {
    let db = shared_db();
    let leaks = sql_count(
        db,
        &format!(
            "SELECT count(*) FROM span_details_v WHERE
               coalesce(attrs, '') || coalesce(error_message, '') || coalesce(error_chain, '') ||
               coalesce(input, '') || coalesce(output, '') || coalesce(reasoning, '') ||
               coalesce(metadata, '') LIKE '%{API_KEY_SECRET}%'"
        ),
    );
    assert_eq!(leaks, 0);
    // The request was captured, with the key masked.
    assert!(
        sql_count(
            db,
            r#"SELECT count(*) FROM span_details_v WHERE input LIKE '%"api_key":"***"%'"#
        ) > 0
    );
}

#[test]
fn sql_prints_tables_and_json_and_refuses_writes() {
    let db = shared_db();
    let table = pathwise(&[
        "sql",
        "--db",
        db_arg(db),
        "SELECT name, count(*) AS calls FROM spans_v GROUP BY name ORDER BY calls DESC, name LIMIT 3",
    ]);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("name"), "{text}");
    assert!(text.trim_end().ends_with("(3 rows)"), "{text}");

    let json = pathwise(&[
        "sql",
        "--format",
        "json",
        "--max-rows",
        "2",
        "--db",
        db_arg(db),
        "SELECT trace_id, output FROM span_details_v WHERE output IS NOT NULL",
    ]);
    assert!(json.status.success(), "{}", stderr(&json));
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["columns"], serde_json::json!(["trace_id", "output"]));
    assert_eq!(parsed["rows"].as_array().unwrap().len(), 2);
    assert_eq!(parsed["truncated"], true);
    assert!(stderr(&json).contains("--max-rows"));

    let traces = sql(db, "SELECT count(*) FROM traces");
    assert_eq!(traces, vec![vec!["200".to_string()]]);

    for (query, why) in [
        ("DELETE FROM spans", "query writes"),
        ("SELECT 1; SELECT 2", "single statement"),
        ("SELECT * FROM no_such_table", "no such table"),
    ] {
        let refused = pathwise(&["sql", "--db", db_arg(db), query]);
        assert_eq!(refused.status.code(), Some(2), "{query}");
        assert!(
            stderr(&refused).contains(why),
            "{query}: {}",
            stderr(&refused)
        );
    }
    assert_eq!(
        sql_count(db, "SELECT count(*) FROM spans"),
        sql_count(db, "SELECT count(*) FROM spans_v"),
        "nothing was deleted"
    );
}
