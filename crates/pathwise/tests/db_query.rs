//! `pathwise::db_query`: a statement timed as a span under the current one, named by its
//! normalised text, with rows, errors, and the statement as written only when configured.

use pathwise::testing::{Recorder, spans};
use pathwise::{AttrValue, Config, SpanKind};
use pathwise_model::{SpanRecord, Status};

fn attr<'a>(span: &'a SpanRecord, key: &str) -> Option<&'a AttrValue> {
    let details = span.details.as_ref()?;
    details
        .attrs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn text(value: Option<&AttrValue>) -> Option<&str> {
    match value {
        Some(AttrValue::Str(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn a_query_is_a_child_span_named_by_its_normalised_statement() {
    let recorder = Recorder::start();
    {
        let _request = pathwise::span("checkout");
        let mut found = pathwise::db_query("PostgreSQL", "SELECT * FROM carts WHERE id = 42");
        found.set_rows(3);
        found.set_rows(1); // the last count wins
        let mut failed =
            pathwise::db_query("postgresql", "UPDATE stock SET n = n - 1 WHERE sku = 'A-7'");
        failed.fail("SerializationFailure", "could not serialize access");
        drop((found, failed));
        let _ = pathwise::db_query("mysql", "DELETE FROM t WHERE id IN (1, 2, 3)").rows(3);
    }
    let records = recorder.records();
    let all = spans(&records);
    let request = all
        .iter()
        .find(|s| s.name == "checkout")
        .expect("the request span");
    let queries: Vec<&&SpanRecord> = all.iter().filter(|s| s.name != "checkout").collect();
    assert_eq!(queries.len(), 3, "{all:#?}");
    for query in &queries {
        assert_eq!(query.parent_id, request.span_id);
        assert_eq!(query.trace_id, request.trace_id);
        assert_eq!(query.kind, SpanKind::Span);
    }

    let select = queries
        .iter()
        .find(|s| s.name.starts_with("SELECT"))
        .unwrap();
    assert_eq!(select.name, "SELECT * FROM carts WHERE id = ?");
    assert_eq!(select.group.as_deref(), Some("db.postgresql"));
    assert_eq!(text(attr(select, "db.system")), Some("postgresql"));
    assert_eq!(
        text(attr(select, "db.statement")),
        Some("SELECT * FROM carts WHERE id = ?")
    );
    assert_eq!(attr(select, "db.rows"), Some(&AttrValue::I64(1)));
    assert_eq!(
        select
            .details
            .as_ref()
            .unwrap()
            .attrs
            .iter()
            .filter(|(k, _)| k == "db.rows")
            .count(),
        1
    );
    // Off by default: the statement as written carries the values.
    assert_eq!(attr(select, "db.statement.full"), None);
    assert_eq!(select.status, Status::Ok);

    let update = queries
        .iter()
        .find(|s| s.name.starts_with("UPDATE"))
        .unwrap();
    assert_eq!(update.name, "UPDATE stock SET n = n - ? WHERE sku = ?");
    assert_eq!(update.status, Status::Error);
    let error = update.details.as_ref().unwrap().error.as_ref().unwrap();
    assert_eq!(error.error_type, "SerializationFailure");
    assert_eq!(attr(update, "db.rows"), None);

    let delete = queries
        .iter()
        .find(|s| s.name.starts_with("DELETE"))
        .unwrap();
    assert_eq!(delete.name, "DELETE FROM t WHERE id IN (?)");
    assert_eq!(delete.group.as_deref(), Some("db.mysql"));
    assert_eq!(attr(delete, "db.rows"), Some(&AttrValue::I64(3)));
}

#[test]
fn statements_as_written_are_kept_only_when_configured_and_names_stay_bounded() {
    let recorder = Recorder::with_config(Config {
        resource_interval: None,
        db_full_statements: true,
        ..Config::default()
    });
    let columns: Vec<String> = (0..120).map(|i| format!("column_{i}")).collect();
    let long = format!("SELECT {} FROM wide WHERE id = 7", columns.join(", "));
    {
        let _q = pathwise::db_query(
            "sqlite",
            "SELECT * FROM users WHERE email = 'ada@example.com'",
        );
        let _long = pathwise::db_query("sqlite", &long);
    }
    let records = recorder.records();
    let all = spans(&records);
    assert_eq!(all.len(), 2);
    let short = all.iter().find(|s| s.name.starts_with("SELECT *")).unwrap();
    assert_eq!(
        text(attr(short, "db.statement.full")),
        Some("SELECT * FROM users WHERE email = 'ada@example.com'")
    );
    let wide = all.iter().find(|s| s.name.contains("column_0")).unwrap();
    assert!(
        wide.name.chars().count() <= pathwise::db::MAX_NAME_CHARS,
        "{}",
        wide.name
    );
    assert!(wide.name.contains("… #"), "{}", wide.name);
    let statement = text(attr(wide, "db.statement")).unwrap();
    assert!(
        statement.ends_with("column_119 FROM wide WHERE id = ?"),
        "{statement}"
    );
    assert_eq!(text(attr(wide, "db.statement.full")), Some(long.as_str()));
}

#[test]
fn a_query_guard_can_cross_threads_and_await_points() {
    fn is_send<T: Send>(_: &T) {}
    let recorder = Recorder::start();
    {
        let _request = pathwise::span("job");
        let mut query = pathwise::db_query("sqlite", "DELETE FROM queue WHERE done = 1");
        is_send(&query);
        std::thread::spawn(move || {
            query.set_rows(5);
        })
        .join()
        .unwrap();
    }
    let records = recorder.records();
    let job = pathwise::testing::one(&records, "job");
    let query = pathwise::testing::one(&records, "DELETE FROM queue WHERE done = ?");
    assert_eq!(query.parent_id, job.span_id);
    assert_eq!(attr(query, "db.rows"), Some(&AttrValue::I64(5)));
}
