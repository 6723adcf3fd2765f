//! The guard around SQL rules: user-written SQL runs against the live store, so it must not
//! write, must be one statement and must not run away with the writer's I/O.
//!
//! Three layers, because each catches what the others miss: the connection is opened
//! read-only (SQLite refuses any write), [`rusqlite::Statement::readonly`] rejects a writing
//! statement before it runs (a clear message instead of "attempt to write a readonly
//! database"), and a progress handler aborts a query past its time limit.

use std::time::{Duration, Instant};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode};

/// Why a SQL rule's query was refused or failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SqlGuardError {
    #[error("query writes")]
    Writes,
    #[error("query must be a single statement")]
    MultipleStatements,
    #[error("query took longer than {0}")]
    Timeout(String),
    #[error("query must return one number")]
    NotANumber,
    #[error("query failed: {0}")]
    Sqlite(String),
}

/// `1 s`, `250 ms`: how limits are written in messages.
fn describe(limit: Duration) -> String {
    if limit.subsec_millis() == 0 && limit.as_secs() > 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}

/// Runs `sql` on `conn` (which should be opened with `SQLITE_OPEN_READ_ONLY`) and returns its
/// single number; `Ok(None)` when it is NULL (no data, e.g. `max()` of nothing).
///
/// ```
/// use std::time::Duration;
/// use pathwise_alerts::{SqlGuardError, query_number};
/// let mut conn = rusqlite::Connection::open_in_memory().unwrap();
/// assert_eq!(query_number(&mut conn, "SELECT 2 + 2", Duration::from_secs(1)), Ok(Some(4.0)));
/// assert_eq!(query_number(&mut conn, "SELECT 1; SELECT 2", Duration::from_secs(1)),
///            Err(SqlGuardError::MultipleStatements));
/// assert_eq!(query_number(&mut conn, "SELECT 'x'", Duration::from_secs(1)),
///            Err(SqlGuardError::NotANumber));
/// ```
pub fn query_number(
    conn: &mut Connection,
    sql: &str,
    limit: Duration,
) -> Result<Option<f64>, SqlGuardError> {
    let started = Instant::now();
    // Checked every 1000 VM instructions: cheap, and fine-grained enough for a 1 s limit.
    conn.progress_handler(1000, Some(move || started.elapsed() > limit))
        .map_err(|e| SqlGuardError::Sqlite(e.to_string()))?;
    let result = run(conn, sql);
    // Removing the handler cannot fail in practice; a stale one only checks a past deadline.
    let _ = conn.progress_handler(0, None::<fn() -> bool>);
    match result {
        Ok(inner) => inner,
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::OperationInterrupted => {
            Err(SqlGuardError::Timeout(describe(limit)))
        }
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::ReadOnly => {
            Err(SqlGuardError::Writes)
        }
        Err(rusqlite::Error::MultipleStatement) => Err(SqlGuardError::MultipleStatements),
        Err(e) => Err(SqlGuardError::Sqlite(e.to_string())),
    }
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
