//! Trace volume control on a real SQLite file: at most so many traces per hour for each root
//! name, error traces always kept, what was left out counted per name.

use std::time::Duration;

use pathwise::{Config, TraceLimit};

fn count(db: &std::path::Path, sql: &str) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut query = conn.prepare(sql).unwrap();
    query
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn roots_over_their_hourly_limit_are_left_out_unless_they_fail() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pathwise.db");
    // 60 per hour: one at once, the next a minute later; 120 per hour: two at once. The test
    // takes far less than a minute, so exactly that many get through.
    let limit = TraceLimit::none()
        .with_name("checkout", 60)
        .with_name("health", 120);
    let recording = pathwise::init(Config {
        db_path: db.clone(),
        data_dir: Some(dir.path().join("spool")),
        resource_interval: None,
        trace_limit: Some(limit),
        ..Config::default()
    })
    .unwrap();

    for order in 0..50 {
        let _root = pathwise::span("checkout");
        let _charge = pathwise::span("charge");
        if order % 10 == 5 {
            pathwise::current_span().fail("PaymentDeclined", "card expired");
        }
    }
    for _ in 0..20 {
        let _root = pathwise::span("health");
    }
    for _ in 0..10 {
        let _root = pathwise::span("report"); // no limit of its own, and no default
    }
    assert!(recording.flush(Duration::from_secs(10)));
    let stats = recording.shutdown();

    assert_eq!(
        count(
            &db,
            "SELECT name, count(*) FROM traces_v GROUP BY name ORDER BY name"
        ),
        vec![
            // The first, within the limit, and the five that failed.
            ("checkout".into(), 6),
            ("health".into(), 2),
            ("report".into(), 10),
        ]
    );
    assert_eq!(
        count(
            &db,
            "SELECT name, count(*) FROM spans_v WHERE name = 'charge' AND status = 'error' GROUP BY name"
        ),
        vec![("charge".into(), 5)],
        "every error kept"
    );
    assert_eq!(
        pathwise::traces_left_out(),
        vec![("checkout".to_string(), 49), ("health".to_string(), 18)],
        "traces started over the limit, per name (the five failed ones among them were kept)"
    );
    assert_eq!(
        stats.sampled_out,
        44 * 2 + 18,
        "the records of the traces left out: 44 checkouts of two spans, 18 health checks"
    );
}
