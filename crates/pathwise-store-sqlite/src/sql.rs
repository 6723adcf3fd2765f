//! SQL on a read-only connection of its own: alert rules' numbers and `pathwise sql`'s rows.
//!
//! Guarded in three layers, because each catches what the others miss: the connection is
//! opened read-only (SQLite refuses any write), `Statement::readonly` rejects a writing
//! statement before it runs (a clear message instead of "attempt to write a readonly
//! database"), and a progress handler aborts a query past its time limit. Memory is bounded per
//! connection: no string or blob may exceed [`MAX_VALUE_BYTES`] (so `randomblob(900000000)`
//! fails at once instead of allocating 900 MB) and the page cache is kept small. An authorizer
//! refuses `ATTACH`, `DETACH` and `PRAGMA`: they read nothing a query needs, and a pragma could
//! undo the connection's limits (`cache_size`). Payload columns read through `pw_text`, which
//! every Pathwise connection has.

use std::path::Path;
use std::time::{Duration, Instant};

use pathwise_store::StoreError;
use pathwise_store::alerts::{SqlGuardError, SqlRows, SqlRules, describe_limit};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::{Error, connect};

/// SQL in SQLite's dialect on a read-only connection of its own, so a rule's progress handler
/// never touches the analytics readers.
///
/// ```
/// use std::time::Duration;
/// use pathwise_store::alerts::{SqlGuardError, SqlRules};
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// pathwise_store_sqlite::SqliteStore::open(&db).unwrap();
/// let mut rules = pathwise_store_sqlite::SqliteSqlRules::open(&db).unwrap();
/// let second = Duration::from_secs(1);
/// assert_eq!(rules.query_number("SELECT count(*) FROM spans", second), Ok(Some(0.0)));
/// assert_eq!(rules.query_number("SELECT 1; SELECT 2", second), Err(SqlGuardError::MultipleStatements));
/// assert_eq!(rules.query_number("DELETE FROM spans", second), Err(SqlGuardError::Writes));
/// assert_eq!(rules.query_number("SELECT 'x'", second), Err(SqlGuardError::NotANumber));
/// assert!(matches!(rules.query_number("ATTACH 'x.db' AS x", second), Err(SqlGuardError::Forbidden(_))));
/// ```
pub struct SqliteSqlRules {
    conn: Connection,
}

/// The largest string or blob a rule's query may build.
pub const MAX_VALUE_BYTES: usize = 8 << 20;

impl SqliteSqlRules {
    /// A read-only connection to the database at `path` (which must exist).
    pub fn open(path: &Path) -> Result<SqliteSqlRules, StoreError> {
        let mut conn = connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(1))
            .map_err(Error::from)?;
        conn.set_limit(
            rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH,
            MAX_VALUE_BYTES as i32,
        )
        .map_err(Error::from)?;
        // 2 MiB of page cache for rule queries, whatever the writer uses.
        conn.execute_batch("PRAGMA cache_size=-2048")
            .map_err(Error::from)?;
        // Last: from here on pragmas are refused.
        conn.authorizer(Some(|context: AuthContext<'_>| match context.action {
            AuthAction::Attach { .. } | AuthAction::Detach { .. } | AuthAction::Pragma { .. } => {
                Authorization::Deny
            }
            _ => Authorization::Allow,
        }))
        .map_err(Error::from)?;
        Ok(SqliteSqlRules { conn })
    }
}

impl SqliteSqlRules {
    /// Runs `query` with the time limit in force, mapping SQLite's failures to guard errors.
    fn guarded<T>(
        &mut self,
        limit: Duration,
        query: impl FnOnce(&Connection) -> rusqlite::Result<Result<T, SqlGuardError>>,
    ) -> Result<T, SqlGuardError> {
        let started = Instant::now();
        // Checked every 1000 VM instructions: cheap, and fine-grained enough for a 1 s limit.
        self.conn
            .progress_handler(1000, Some(move || started.elapsed() > limit))
            .map_err(|e| SqlGuardError::Failed(e.to_string()))?;
        let result = query(&self.conn);
        // Removing the handler cannot fail in practice; a stale one only checks a past deadline.
        let _ = self.conn.progress_handler(0, None::<fn() -> bool>);
        match result {
            Ok(inner) => inner,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::OperationInterrupted =>
            {
                Err(SqlGuardError::Timeout(describe_limit(limit)))
            }
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ReadOnly => {
                Err(SqlGuardError::Writes)
            }
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::TooBig => Err(
                SqlGuardError::Memory(format!("{} per value", human_bytes(MAX_VALUE_BYTES))),
            ),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::AuthorizationForStatementDenied =>
            {
                Err(SqlGuardError::Forbidden("ATTACH, DETACH or PRAGMA".into()))
            }
            Err(rusqlite::Error::MultipleStatement) => Err(SqlGuardError::MultipleStatements),
            Err(e) => Err(SqlGuardError::Failed(e.to_string())),
        }
    }
}

impl SqlRules for SqliteSqlRules {
    fn query_number(&mut self, sql: &str, limit: Duration) -> Result<Option<f64>, SqlGuardError> {
        self.guarded(limit, |conn| run(conn, sql))
    }

    fn query_rows(
        &mut self,
        sql: &str,
        limit: Duration,
        max_rows: usize,
    ) -> Result<SqlRows, SqlGuardError> {
        self.guarded(limit, |conn| rows(conn, sql, max_rows))
    }

    fn dialect(&self) -> &'static str {
        "SQLite"
    }
}

/// A read-only statement's rows as text.
fn rows(
    conn: &Connection,
    sql: &str,
    max_rows: usize,
) -> rusqlite::Result<Result<SqlRows, SqlGuardError>> {
    let mut stmt = conn.prepare(sql)?;
    if !stmt.readonly() {
        return Ok(Err(SqlGuardError::Writes));
    }
    let mut out = SqlRows {
        columns: stmt.column_names().map(str::to_string).collect(),
        ..SqlRows::default()
    };
    let width = out.columns.len();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if out.rows.len() == max_rows {
            out.truncated = true;
            break;
        }
        let cells = (0..width)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    ValueRef::Null => None,
                    ValueRef::Integer(n) => Some(n.to_string()),
                    ValueRef::Real(f) => Some(f.to_string()),
                    ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                    // Raw bytes (a compressed payload read without pw_text, an id) as hex.
                    ValueRef::Blob(b) => Some(b.iter().map(|b| format!("{b:02x}")).collect()),
                })
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        out.rows.push(cells);
    }
    Ok(Ok(out))
}

/// The checks and the query; the outer `Result` carries SQLite failures for mapping.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<Result<Option<f64>, SqlGuardError>> {
    let mut stmt = conn.prepare(sql)?;
    if !stmt.readonly() {
        return Ok(Err(SqlGuardError::Writes));
    }
    if stmt.column_count() != 1 {
        return Ok(Err(SqlGuardError::NotANumber));
    }
    let mut rows = stmt.query([])?;
    let Some(row) = rows.next()? else {
        return Ok(Err(SqlGuardError::NotANumber));
    };
    let value = match row.get_ref(0)? {
        ValueRef::Integer(i) => Ok(Some(i as f64)),
        ValueRef::Real(f) => Ok(Some(f)),
        ValueRef::Null => Ok(None),
        _ => Err(SqlGuardError::NotANumber),
    };
    if rows.next()?.is_some() {
        return Ok(Err(SqlGuardError::NotANumber));
    }
    Ok(value)
}

fn human_bytes(n: usize) -> String {
    format!("{} MiB", n >> 20)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use pathwise_store::alerts::{SqlGuardError, SqlRules};

    #[test]
    fn a_query_that_allocates_a_huge_value_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        crate::SqliteStore::open(&db).unwrap();
        let mut rules = super::SqliteSqlRules::open(&db).unwrap();
        let second = Duration::from_secs(5);
        assert_eq!(
            rules.query_number("SELECT length(randomblob(900000000))", second),
            Err(SqlGuardError::Memory("8 MiB per value".into()))
        );
        assert_eq!(
            rules.query_number("SELECT length(randomblob(1000))", second),
            Ok(Some(1000.0))
        );
    }
}
