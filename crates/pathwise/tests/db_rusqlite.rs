//! The `rusqlite` wrapper over a real SQLite file: every statement one span under the current
//! span, named by its normalised text, with the rows it returned or changed, failures marked.
//! (Feature `rusqlite`: `cargo test -p pathwise --features rusqlite --test db_rusqlite`.)

use pathwise::db::TracedConnection;
use pathwise::testing::{Recorder, spans};
use pathwise::{AttrValue, Config};
use pathwise_model::{SpanRecord, Status};

fn attr<'a>(span: &'a SpanRecord, key: &str) -> Option<&'a AttrValue> {
    span.details
        .as_ref()?
        .attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn rows(span: &SpanRecord) -> Option<i64> {
    match attr(span, "db.rows") {
        Some(AttrValue::I64(n)) => Some(*n),
        _ => None,
    }
}

/// The query spans named `name`.
fn named<'a>(all: &[&'a SpanRecord], name: &str) -> Vec<&'a SpanRecord> {
    let found: Vec<&SpanRecord> = all.iter().copied().filter(|s| s.name == name).collect();
    assert!(
        !found.is_empty(),
        "no span {name:?} among {:#?}",
        all.iter().map(|s| s.name.as_ref()).collect::<Vec<_>>()
    );
    found
}

fn error_message(span: &SpanRecord) -> &str {
    &span
        .details
        .as_ref()
        .unwrap()
        .error
        .as_ref()
        .unwrap()
        .message
}

#[test]
fn a_traced_connection_can_move_to_another_thread_like_a_connection() {
    fn is_send<T: Send>() {}
    is_send::<TracedConnection>();
}

#[test]
fn every_statement_is_a_span_with_its_rows_and_failures_marked() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::start();
    let (names, inserted) = {
        let _request = pathwise::span("handle_request");
        let conn = TracedConnection::open(dir.path().join("app.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER);
             CREATE INDEX users_age ON users (age);",
        )
        .unwrap();
        for (name, age) in [("ada", 36), ("grace", 45), ("linus", 28)] {
            conn.execute("INSERT INTO users (name, age) VALUES (?1, ?2)", (name, age))
                .unwrap();
        }
        let older = conn
            .execute("UPDATE users SET age = age + 1 WHERE age > 30", ())
            .unwrap();
        assert_eq!(older, 2);
        let mut adults = conn
            .prepare_cached("SELECT name FROM users WHERE age > ?1 ORDER BY name")
            .unwrap();
        let names: Vec<String> = adults
            .query_map([20], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        drop(adults);
        let nobody = conn.query_row("SELECT name FROM users WHERE id = 99", [], |row| {
            row.get::<_, String>(0)
        });
        assert!(matches!(nobody, Err(rusqlite::Error::QueryReturnedNoRows)));
        let count: i64 = conn
            .query_row("SELECT count(*) FROM users WHERE name = 'ada'", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(count, 1);
        let no_table = conn.execute("INSERT INTO orders (user_id) VALUES (1)", ());
        assert!(no_table.is_err());
        let no_name = conn.execute("INSERT INTO users (name) VALUES (NULL)", ());
        assert!(no_name.is_err());
        // Rows are counted as they are read: one read, then the cursor dropped.
        let mut ids = conn.prepare("SELECT id FROM users ORDER BY id").unwrap();
        let mut cursor = ids.query([]).unwrap();
        assert!(cursor.next().unwrap().is_some());
        drop(cursor);
        let inserted = ids.exists([]).unwrap();
        (names, inserted)
    };
    assert_eq!(names, ["ada", "grace", "linus"]);
    assert!(inserted);

    let records = recorder.records();
    let all = spans(&records);
    let request = all.iter().find(|s| s.name == "handle_request").unwrap();
    let queries: Vec<&SpanRecord> = all
        .iter()
        .copied()
        .filter(|s| s.group.as_deref() == Some("db.sqlite"))
        .collect();
    assert_eq!(queries.len(), 12, "{queries:#?}");
    for query in &queries {
        assert_eq!(query.parent_id, request.span_id, "{}", query.name);
        assert_eq!(query.trace_id, request.trace_id);
        assert!(matches!(attr(query, "db.system"), Some(AttrValue::Str(s)) if s == "sqlite"));
        assert!(matches!(attr(query, "db.statement"), Some(AttrValue::Str(s)) if *s == query.name));
        assert_eq!(attr(query, "db.statement.full"), None, "off by default");
    }

    let schema = named(
        &queries,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER); CREATE INDEX users_age ON users (age)",
    );
    assert_eq!(schema[0].status, Status::Ok);

    let inserts = named(&queries, "INSERT INTO users (name, age) VALUES (?1, ?2)");
    assert_eq!(inserts.len(), 3);
    assert!(
        inserts
            .iter()
            .all(|s| rows(s) == Some(1) && s.status == Status::Ok)
    );

    let update = named(&queries, "UPDATE users SET age = age + ? WHERE age > ?");
    assert_eq!(rows(update[0]), Some(2));

    let select = named(
        &queries,
        "SELECT name FROM users WHERE age > ?1 ORDER BY name",
    );
    assert_eq!(rows(select[0]), Some(3));

    let nobody = named(&queries, "SELECT name FROM users WHERE id = ?");
    assert_eq!((rows(nobody[0]), nobody[0].status), (Some(0), Status::Ok));

    let count = named(&queries, "SELECT count(*) FROM users WHERE name = ?");
    assert_eq!(rows(count[0]), Some(1));

    // Failing to compile (no such table) and failing to run (a constraint) are both failures.
    let no_table = named(&queries, "INSERT INTO orders (user_id) VALUES (?)");
    assert_eq!(no_table[0].status, Status::Error);
    assert!(
        error_message(no_table[0]).contains("no such table: orders"),
        "{}",
        error_message(no_table[0])
    );
    assert_eq!(rows(no_table[0]), None);
    let no_name = named(&queries, "INSERT INTO users (name) VALUES (NULL)");
    assert_eq!(no_name[0].status, Status::Error);
    assert!(
        error_message(no_name[0]).contains("NOT NULL constraint failed"),
        "{}",
        error_message(no_name[0])
    );

    let ids = named(&queries, "SELECT id FROM users ORDER BY id");
    assert_eq!(ids.len(), 2, "the cursor and exists()");
    let mut read: Vec<Option<i64>> = ids.iter().map(|s| rows(s)).collect();
    read.sort();
    assert_eq!(read, [Some(1), Some(1)]);
}

#[test]
fn with_full_statements_on_the_values_bound_are_kept() {
    let recorder = Recorder::with_config(Config {
        resource_interval: None,
        db_full_statements: true,
        ..Config::default()
    });
    {
        let conn = TracedConnection::open_in_memory().unwrap();
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)", ())
            .unwrap();
        conn.execute("INSERT INTO users (id, name) VALUES (?1, ?2)", (7, "eve"))
            .unwrap();
        let mut find = conn
            .prepare("SELECT name FROM users WHERE id = ?1")
            .unwrap();
        let mut rows = find.query([7]).unwrap();
        assert!(rows.next().unwrap().is_some());
    }
    let records = recorder.records();
    let all = spans(&records);
    let insert = all
        .iter()
        .find(|s| s.name == "INSERT INTO users (id, name) VALUES (?1, ?2)")
        .unwrap();
    assert!(
        matches!(attr(insert, "db.statement.full"), Some(AttrValue::Str(s)) if s == "INSERT INTO users (id, name) VALUES (7, 'eve')"),
        "{:?}",
        attr(insert, "db.statement.full")
    );
    let find = all
        .iter()
        .find(|s| s.name == "SELECT name FROM users WHERE id = ?1")
        .unwrap();
    assert!(
        matches!(attr(find, "db.statement.full"), Some(AttrValue::Str(s)) if s == "SELECT name FROM users WHERE id = 7"),
        "{:?}",
        attr(find, "db.statement.full")
    );
    assert_eq!(rows(find), Some(1));
}
