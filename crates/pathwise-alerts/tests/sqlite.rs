//! Through a real store: SQL rule guard and threshold rules on the real SQLite source.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::SEC;
use pathwise_alerts::{
    CallbackNotifier, Engine, RuleSet, SignalSource, SqlGuardError, StoreSource, TransitionKind,
};
use pathwise_model::{ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::alerts::SqlRules;
use pathwise_store::{NoPaths, Store, WriteBatch};
use pathwise_store_sqlite::{SqliteBackend, SqliteSqlRules, SqliteStore};

const NOW_MS: u64 = 1_790_000_040_000;

/// 100 calls of `checkout` in the minute before NOW_MS, `errors` of them failed.
fn record(db: &std::path::Path, errors: usize) {
    let mut store = SqliteStore::open(db).unwrap();
    let records: Vec<Record> = (0..100u64)
        .map(|i| {
            let at_ms = NOW_MS - 60_000 + i * 500;
            let mut s = SpanRecord::new(
                TraceId::from_parts(at_ms, i as u128 + 1),
                1,
                0,
                "checkout".into(),
                SpanKind::Function,
            );
            s.start_ns = at_ms as i64 * 1_000_000;
            s.duration_ns = 5_000_000;
            if (i as usize) < errors {
                s.status = Status::Error;
                s.details_mut().error = Some(ErrorInfo {
                    error_type: "Declined".into(),
                    ..Default::default()
                });
            }
            Record::Span(s)
        })
        .collect();
    store.write_records(&records).unwrap();
}

#[test]
fn sql_guard_refuses_writes_multiple_statements_and_slow_queries() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    record(&db, 3);
    let mut conn = SqliteSqlRules::open(&db).unwrap();
    let limit = Duration::from_secs(1);
    assert_eq!(
        conn.query_number("DELETE FROM spans", limit),
        Err(SqlGuardError::Writes)
    );
    assert_eq!(SqlGuardError::Writes.to_string(), "query writes");
    assert_eq!(
        conn.query_number("SELECT 1; DELETE FROM spans", limit),
        Err(SqlGuardError::MultipleStatements)
    );
    let started = Instant::now();
    let slow =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000)
                SELECT count(*) FROM c";
    let e = conn.query_number(slow, limit).unwrap_err();
    assert_eq!(e.to_string(), "query took longer than 1 s");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        conn.query_number("SELECT name, 1 FROM spans_v", limit)
            .unwrap_err()
            .to_string(),
        "query must return one number"
    );
    assert_eq!(
        conn.query_number("SELECT count(*) FROM spans_v WHERE status = 'error'", limit),
        Ok(Some(3.0))
    );
    // The connection still works after an aborted query.
    assert_eq!(
        conn.query_number("SELECT count(*) FROM spans", limit),
        Ok(Some(100.0))
    );
}

#[test]
fn sql_and_threshold_rules_fire_from_a_real_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    record(&db, 10);
    let rules = RuleSet::parse(
        r#"
[[rule]]
name = "checkout errors"
kind = "threshold"
signal = "error_rate"
scope = "checkout"
window = "5m"
op = ">"
threshold = 0.05
annotations = { summary = "{{ value }}" }

[[rule]]
name = "overall p95"
kind = "threshold"
signal = "p95_ms"
window = "5m"
op = ">"
threshold = 1000

[[rule]]
name = "failed spans"
kind = "sql"
query = "SELECT count(*) FROM spans_v WHERE status = 'error'"
op = ">="
threshold = 10

[[rule]]
name = "bad sql"
kind = "sql"
query = "DELETE FROM spans"
op = ">"
threshold = 0
"#,
    )
    .unwrap();
    let now = NOW_MS as i64 * 1_000_000;
    let source = StoreSource::new(Arc::new(SqliteBackend::open(&db).unwrap()));
    let rate = source.value(&rules.rules[0], now).unwrap().unwrap();
    assert!((rate - 0.10).abs() < 1e-9, "{rate}");
    let p95 = source.value(&rules.rules[1], now).unwrap().unwrap();
    assert!((p95 - 5.0).abs() < 0.1, "{p95}");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let notifier =
        CallbackNotifier::new(move |n| sink.lock().unwrap().push(n.alerts[0].rule.clone()));
    let mut engine = Engine::new(
        rules,
        Box::new(source),
        common::alert_store(&db),
        vec![Box::new(notifier)],
    )
    .unwrap();
    let t = engine.evaluate(now);
    let fired: Vec<&str> = t
        .iter()
        .filter(|t| t.kind == TransitionKind::Firing)
        .map(|t| t.rule.as_str())
        .collect();
    assert_eq!(fired, ["checkout errors", "failed spans"]);
    assert_eq!(
        engine.rule_errors().get("bad sql").map(String::as_str),
        Some("query writes"),
        "{:?}",
        engine.rule_errors()
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
    let active = engine.active();
    let checkout = active.iter().find(|a| a.rule == "checkout errors").unwrap();
    assert_eq!(checkout.annotations["summary"], "0.1");
    // Ten minutes later the window is empty: no data resolves the threshold alert.
    let t = engine.evaluate(now + 600 * SEC);
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].rule.as_str(), t[0].kind),
        ("checkout errors", TransitionKind::Resolved)
    );
}

#[test]
fn dropped_counts_the_records_lost_within_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let now = NOW_MS as i64 * 1_000_000;
    // The pipeline's cumulative counter: 0 ten minutes ago, 4 two minutes ago, 7 one minute ago.
    for (minutes_ago, dropped) in [(10, 0), (2, 4), (1, 7)] {
        let stats = pathwise_store::PipelineStats {
            ts_ns: now - minutes_ago * 60 * SEC,
            dropped,
            ..Default::default()
        };
        store
            .write_batch(
                &WriteBatch {
                    stats: Some(&stats),
                    ..WriteBatch::EMPTY
                },
                &NoPaths,
            )
            .unwrap();
    }
    let rules = RuleSet::parse(
        "[[rule]]\nname = \"lost 5m\"\nkind = \"threshold\"\nsignal = \"dropped\"\nwindow = \"5m\"\nop = \">\"\nthreshold = 0\n\
         [[rule]]\nname = \"lost 90s\"\nkind = \"threshold\"\nsignal = \"dropped\"\nwindow = \"90s\"\nop = \">\"\nthreshold = 0\n\
         [[rule]]\nname = \"lost 30s\"\nkind = \"threshold\"\nsignal = \"dropped\"\nwindow = \"30s\"\nop = \">\"\nthreshold = 0\n",
    )
    .unwrap();
    let source = StoreSource::new(Arc::new(SqliteBackend::open(&db).unwrap()));
    assert_eq!(source.value(&rules.rules[0], now), Ok(Some(7.0)));
    assert_eq!(source.value(&rules.rules[1], now), Ok(Some(3.0)));
    assert_eq!(
        source.value(&rules.rules[2], now),
        Ok(None),
        "no figures: no data"
    );
}

#[test]
fn db_size_is_the_files_size_on_disk_now() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    record(&db, 3);
    let on_disk = |db: &std::path::Path| {
        [db.to_path_buf(), db.with_extension("db-wal")]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum::<u64>()
    };
    let rules = RuleSet::parse(
        "[[rule]]\nname = \"database too big\"\nkind = \"threshold\"\nsignal = \"db_size_bytes\"\nop = \">\"\nthreshold = 1e9\n",
    )
    .unwrap();
    let source = StoreSource::new(Arc::new(SqliteBackend::open(&db).unwrap()));
    let now = NOW_MS as i64 * 1_000_000;
    let value = source.value(&rules.rules[0], now).unwrap().unwrap();
    assert_eq!(value as u64, on_disk(&db));
    record(&db, 0); // written again: still what the file measures
    let grown = source.value(&rules.rules[0], now).unwrap().unwrap();
    assert_eq!(grown as u64, on_disk(&db));
}
