//! Alert state, history and silences in the engine's own tables (schema v6), and SQL alert
//! rules on a separate read-only connection.
//!
//! SQL rules are guarded in three layers, because each catches what the others miss: the
//! connection is opened read-only (SQLite refuses any write), `Statement::readonly` rejects a
//! writing statement before it runs (a clear message instead of "attempt to write a readonly
//! database"), and a progress handler aborts a query past its time limit. Memory is bounded per
//! connection: no string or blob may exceed [`MAX_VALUE_BYTES`] (so `randomblob(900000000)`
//! fails at once instead of allocating 900 MB) and the page cache is kept small. An authorizer
//! refuses `ATTACH`, `DETACH` and `PRAGMA`: they read nothing a rule needs, and a pragma could
//! undo the connection's limits (`cache_size`).

use std::path::Path;
use std::time::{Duration, Instant};

use pathwise_store::StoreError;
use pathwise_store::alerts::{
    AlertStateRow, AlertStateStore, AlertWrite, Evaluator, HistoryFilter, HistoryRow, Matcher,
    Silence, SqlGuardError, SqlRules, describe_limit, labels_from_text, labels_text,
};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::{Error, SqliteStore, connect};

/// The alert engine's read-write connection.
///
/// ```
/// use pathwise_store::alerts::{AlertStateStore, HistoryFilter, Matcher};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = pathwise_store_sqlite::SqliteAlertStore::open(&dir.path().join("p.db")).unwrap();
/// let id = store.add_silence(&Matcher::Rule("slow".into()), 100, 0, "deploy").unwrap();
/// assert_eq!(store.silences(50).unwrap()[0].id, id);
/// assert!(store.history(&HistoryFilter::default()).unwrap().is_empty());
/// ```
pub struct SqliteAlertStore {
    conn: Connection,
}

impl SqliteAlertStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteAlertStore, StoreError> {
        // SqliteStore::open creates the file and runs the migrations (v6 has our tables).
        drop(SqliteStore::open(path)?);
        let conn = connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(SqliteAlertStore { conn })
    }

    fn record(&self, row: &HistoryRow) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO alert_history (ts_ns, fingerprint, rule, state, severity, value,
                                            labels, annotations, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                row.ts_ns,
                row.fingerprint,
                row.rule,
                row.state,
                row.severity,
                row.value,
                labels_text(&row.labels),
                labels_text(&row.annotations),
                row.actor
            ])?;
        Ok(())
    }

    fn save_state(&self, s: &AlertStateRow) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO alert_state (fingerprint, rule, state, severity, value,
                    labels, annotations, since_ns, fired_ns, last_notified_ns, clear_since_ns,
                    acked_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                s.fingerprint,
                s.rule,
                s.state,
                s.severity,
                s.value,
                labels_text(&s.labels),
                labels_text(&s.annotations),
                s.since_ns,
                s.fired_ns,
                s.last_notified_ns,
                s.clear_since_ns,
                s.acked_by
            ])?;
        Ok(())
    }

    fn apply_sql(&mut self, writes: &[AlertWrite<'_>]) -> Result<(), Error> {
        let tx = self.conn.unchecked_transaction()?;
        for write in writes {
            match write {
                AlertWrite::History(row) => self.record(row)?,
                AlertWrite::SaveState(row) => self.save_state(row)?,
                AlertWrite::DeleteState(fingerprint) => {
                    self.conn
                        .prepare_cached("DELETE FROM alert_state WHERE fingerprint = ?1")?
                        .execute(params![fingerprint])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn history_sql(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRow>, Error> {
        // The rowid orders rows of the same nanosecond as they were written.
        let order = if filter.oldest_first {
            "ts_ns, rowid"
        } else {
            "ts_ns DESC, rowid DESC"
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT ts_ns, fingerprint, rule, state, severity, value, labels, annotations, actor
             FROM alert_history
             WHERE (?1 IS NULL OR fingerprint = ?1) AND (?2 IS NULL OR rule = ?2)
               AND ts_ns >= coalesce(?3, 0) AND (?5 IS NULL OR ts_ns < ?5)
             ORDER BY {order} LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![
                filter.fingerprint,
                filter.rule,
                filter.since_ns,
                filter.limit.unwrap_or(1000).min(i64::MAX as usize) as i64,
                filter.until_ns
            ],
            |row| {
                Ok(HistoryRow {
                    ts_ns: row.get(0)?,
                    fingerprint: row.get(1)?,
                    rule: row.get(2)?,
                    state: row.get(3)?,
                    severity: row.get(4)?,
                    value: row.get(5)?,
                    labels: labels_from_text(&row.get::<_, String>(6)?),
                    annotations: labels_from_text(&row.get::<_, String>(7)?),
                    actor: row.get(8)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn load_states_sql(&self) -> Result<Vec<AlertStateRow>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT fingerprint, rule, state, severity, value, labels, annotations, since_ns,
                    fired_ns, last_notified_ns, clear_since_ns, acked_by FROM alert_state",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(AlertStateRow {
                fingerprint: row.get(0)?,
                rule: row.get(1)?,
                state: row.get(2)?,
                severity: row.get(3)?,
                value: row.get(4)?,
                labels: labels_from_text(&row.get::<_, String>(5)?),
                annotations: labels_from_text(&row.get::<_, String>(6)?),
                since_ns: row.get(7)?,
                fired_ns: row.get(8)?,
                last_notified_ns: row.get(9)?,
                clear_since_ns: row.get(10)?,
                acked_by: row.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn silences_sql(&self, now_ns: i64) -> Result<Vec<Silence>, Error> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, matcher, until_ns, created_ns, comment FROM alert_silences
             WHERE until_ns > ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![now_ns], |row| {
            let text: String = row.get(1)?;
            Ok(Silence {
                id: row.get(0)?,
                matcher: Matcher::parse(&text).unwrap_or(Matcher::Rule(text)),
                until_ns: row.get(2)?,
                created_ns: row.get(3)?,
                comment: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl AlertStateStore for SqliteAlertStore {
    fn apply(&mut self, writes: &[AlertWrite<'_>]) -> Result<(), StoreError> {
        Ok(self.apply_sql(writes)?)
    }

    fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRow>, StoreError> {
        Ok(self.history_sql(filter)?)
    }

    fn load_states(&self) -> Result<Vec<AlertStateRow>, StoreError> {
        Ok(self.load_states_sql()?)
    }

    fn add_silence(
        &mut self,
        matcher: &Matcher,
        until_ns: i64,
        created_ns: i64,
        comment: &str,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO alert_silences (matcher, until_ns, created_ns, comment)
                 VALUES (?1, ?2, ?3, ?4)",
                params![matcher.to_text(), until_ns, created_ns, comment],
            )
            .map_err(Error::from)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn expire_silence(&mut self, id: i64, now_ns: i64) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .execute(
                "UPDATE alert_silences SET until_ns = min(until_ns, ?2) WHERE id = ?1",
                params![id, now_ns],
            )
            .map_err(Error::from)?;
        Ok(changed > 0)
    }

    fn silences(&self, now_ns: i64) -> Result<Vec<Silence>, StoreError> {
        Ok(self.silences_sql(now_ns)?)
    }

    fn heartbeat(&mut self, holder: &str, now_ns: i64) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(Error::from)?;
        tx.execute(
            "INSERT INTO alert_evaluators (holder, heartbeat_ns) VALUES (?1, ?2)
             ON CONFLICT (holder) DO UPDATE SET heartbeat_ns = excluded.heartbeat_ns",
            params![holder, now_ns],
        )
        .map_err(Error::from)?;
        // Engines that stopped a day ago are forgotten, so the table stays a handful of rows.
        tx.execute(
            "DELETE FROM alert_evaluators WHERE heartbeat_ns < ?1",
            params![now_ns.saturating_sub(86_400_000_000_000)],
        )
        .map_err(Error::from)?;
        Ok(tx.commit().map_err(Error::from)?)
    }

    fn resign(&mut self, holder: &str, _now_ns: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "DELETE FROM alert_evaluators WHERE holder = ?1",
                params![holder],
            )
            .map_err(Error::from)?;
        Ok(())
    }

    fn evaluators(&self, since_ns: i64) -> Result<Vec<Evaluator>, StoreError> {
        let mut query = self
            .conn
            .prepare_cached(
                "SELECT holder, heartbeat_ns FROM alert_evaluators WHERE heartbeat_ns >= ?1
                 ORDER BY holder",
            )
            .map_err(Error::from)?;
        let rows = query
            .query_map([since_ns], |row| {
                Ok(Evaluator {
                    holder: row.get(0)?,
                    heartbeat_ns: row.get(1)?,
                })
            })
            .map_err(Error::from)?;
        Ok(rows.collect::<Result<_, _>>().map_err(Error::from)?)
    }
}

/// SQL rules in SQLite's dialect on a read-only connection of their own, so a rule's
/// progress handler never touches the analytics readers.
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

impl SqlRules for SqliteSqlRules {
    fn query_number(&mut self, sql: &str, limit: Duration) -> Result<Option<f64>, SqlGuardError> {
        let started = Instant::now();
        // Checked every 1000 VM instructions: cheap, and fine-grained enough for a 1 s limit.
        self.conn
            .progress_handler(1000, Some(move || started.elapsed() > limit))
            .map_err(|e| SqlGuardError::Failed(e.to_string()))?;
        let result = run(&self.conn, sql);
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

    fn dialect(&self) -> &'static str {
        "SQLite"
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
