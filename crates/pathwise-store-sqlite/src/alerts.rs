//! Alert state, history and silences in the engine's own tables (schema v6). SQL rules run on
//! a connection of their own (`sql`).

use std::path::Path;

use pathwise_store::StoreError;
use pathwise_store::alerts::{
    AlertStateRow, AlertStateStore, AlertWrite, Evaluator, HistoryFilter, HistoryRow, Matcher,
    Silence, labels_from_text, labels_text,
};
use rusqlite::{Connection, OpenFlags, params};

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
