//! `SqlRules::query_rows` (what `pathwise sql` prints) on a real two-shard cluster and on
//! SQLite: the same rows for the same question, text escapes undone, NULL kept apart from the
//! text "NULL", the row limit reported, writes refused.

use std::time::Duration;

use pathwise_store::Backend;
use pathwise_store::alerts::{SqlGuardError, SqlRows};
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;
use pathwise_store_sqlite::SqliteBackend;

fn texts(rows: &SqlRows) -> Vec<Vec<Option<&str>>> {
    rows.rows
        .iter()
        .map(|row| row.iter().map(Option::as_deref).collect())
        .collect()
}

/// `awkward` is the dialect's way of writing `'a<TAB>b<NEWLINE>c\d'`.
fn check(backend: &dyn Backend, awkward: &str) {
    let mut sql = backend.sql_rules().unwrap();
    let limit = Duration::from_secs(5);
    let name = sql.dialect();
    let rows = sql
        .query_rows(
            &format!("SELECT 1 AS one, NULL AS missing, 'NULL' AS word, {awkward} AS awkward"),
            limit,
            10,
        )
        .unwrap();
    assert_eq!(
        rows.columns,
        ["one", "missing", "word", "awkward"],
        "{name}"
    );
    assert_eq!(
        texts(&rows),
        [[Some("1"), None, Some("NULL"), Some("a\tb\nc\\d")]],
        "{name}"
    );
    assert!(!rows.truncated, "{name}");

    let counted = sql
        .query_rows("SELECT count(*) AS n FROM spans", limit, 10)
        .unwrap();
    assert_eq!(texts(&counted), [[Some("0")]], "{name}");

    assert_eq!(
        sql.query_rows("DROP TABLE spans", limit, 10),
        Err(SqlGuardError::Writes),
        "{name}"
    );
    assert_eq!(
        sql.query_rows("SELECT 1; SELECT 2", limit, 10),
        Err(SqlGuardError::MultipleStatements),
        "{name}"
    );
}

#[test]
fn rows_read_alike_on_sqlite_and_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteBackend::create(dir.path().join("rows.db")).unwrap();
    check(&sqlite, r"'a' || char(9) || 'b' || char(10) || 'c\d'");
    let mut sql = sqlite.sql_rules().unwrap();
    let many = sql
        .query_rows(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i FROM n",
            Duration::from_secs(5),
            7,
        )
        .unwrap();
    assert_eq!((many.rows.len(), many.truncated), (7, true));

    let Some(cluster) = Cluster::start(18213) else {
        return;
    };
    let backend = ClickHouseBackend::connect(&cluster.url("pw_rows")).unwrap();
    check(&backend, r"'a\tb\nc\\d'");
    let mut sql = backend.sql_rules().unwrap();
    let many = sql
        .query_rows(
            "SELECT number FROM system.numbers LIMIT 50",
            Duration::from_secs(5),
            7,
        )
        .unwrap();
    assert_eq!((many.rows.len(), many.truncated), (7, true));
    assert_eq!(many.rows[6], [Some("6".to_string())]);
}
