//! The engine's tables in the store (schema v6): history, silences and active state. Only the
//! engine writes them, through its own read-write connection.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};
use serde::Serialize;

use crate::{ActiveAlert, AlertState, Severity};

/// What a silence mutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Matcher {
    /// One alert.
    Fingerprint(String),
    /// Every alert of a rule.
    Rule(String),
}

impl Matcher {
    /// Stored form: `fingerprint=…` or `rule=…`.
    ///
    /// ```
    /// use pathwise_alerts::Matcher;
    /// let m = Matcher::Rule("slow".into());
    /// assert_eq!(Matcher::parse(&m.to_text()), Some(m));
    /// ```
    pub fn to_text(&self) -> String {
        match self {
            Matcher::Fingerprint(f) => format!("fingerprint={f}"),
            Matcher::Rule(r) => format!("rule={r}"),
        }
    }

    /// Parses [`Matcher::to_text`] output.
    pub fn parse(text: &str) -> Option<Matcher> {
        if let Some(f) = text.strip_prefix("fingerprint=") {
            return Some(Matcher::Fingerprint(f.into()));
        }
        text.strip_prefix("rule=").map(|r| Matcher::Rule(r.into()))
    }

    /// Whether this matcher covers the alert.
    pub fn matches(&self, fingerprint: &str, rule: &str) -> bool {
        match self {
            Matcher::Fingerprint(f) => f == fingerprint,
            Matcher::Rule(r) => r == rule,
        }
    }
}

/// A mute until a time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Silence {
    pub id: i64,
    pub matcher: Matcher,
    pub until_ns: i64,
    pub created_ns: i64,
    pub comment: String,
}

/// One `alert_history` row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRow {
    pub ts_ns: i64,
    pub fingerprint: String,
    pub rule: String,
    /// `pending`, `firing`, `escalated`, `repeat`, `resolved`, `inactive`, `acknowledged` or
    /// `delivery_failed`; a silenced change shows in `actor`.
    pub state: String,
    pub severity: String,
    pub value: Option<f64>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `engine`, `engine (silenced)`, the acknowledging user, or the failing receiver.
    pub actor: String,
}

/// Which history rows to return, newest first.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    pub fingerprint: Option<String>,
    pub rule: Option<String>,
    pub since_ns: Option<i64>,
    /// At most this many rows (default 1000).
    pub limit: Option<usize>,
}

pub(crate) struct AlertStore {
    conn: Connection,
}

fn json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

fn map(text: String) -> BTreeMap<String, String> {
    serde_json::from_str(&text).unwrap_or_default()
}

impl AlertStore {
    /// Opens (creating and migrating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<AlertStore, String> {
        // SqliteStore::open creates the file and runs the migrations (v6 has our tables).
        drop(pathwise_store::SqliteStore::open(path).map_err(|e| e.to_string())?);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| e.to_string())?;
        // The pipeline's writer holds the write lock in bursts: wait rather than lose a row.
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| e.to_string())?;
        Ok(AlertStore { conn })
    }

    /// A transaction on the engine's connection (the engine is its only user).
    pub fn begin(&self) -> Result<rusqlite::Transaction<'_>, String> {
        self.conn.unchecked_transaction().map_err(|e| e.to_string())
    }

    pub fn record(&self, row: &HistoryRow) -> rusqlite::Result<()> {
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
                json(&row.labels),
                json(&row.annotations),
                row.actor
            ])?;
        Ok(())
    }

    pub fn history(&self, filter: &HistoryFilter) -> rusqlite::Result<Vec<HistoryRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT ts_ns, fingerprint, rule, state, severity, value, labels, annotations, actor
             FROM alert_history
             WHERE (?1 IS NULL OR fingerprint = ?1) AND (?2 IS NULL OR rule = ?2)
               AND ts_ns >= coalesce(?3, 0)
             ORDER BY ts_ns DESC, rowid DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                filter.fingerprint,
                filter.rule,
                filter.since_ns,
                filter.limit.unwrap_or(1000) as i64
            ],
            |row| {
                Ok(HistoryRow {
                    ts_ns: row.get(0)?,
                    fingerprint: row.get(1)?,
                    rule: row.get(2)?,
                    state: row.get(3)?,
                    severity: row.get(4)?,
                    value: row.get(5)?,
                    labels: map(row.get(6)?),
                    annotations: map(row.get(7)?),
                    actor: row.get(8)?,
                })
            },
        )?;
        rows.collect()
    }

    pub fn save_state(&self, s: &ActiveAlert) -> rusqlite::Result<()> {
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
                s.state.as_str(),
                s.severity.as_str(),
                s.value,
                json(&s.labels),
                json(&s.annotations),
                s.since_ns,
                s.fired_ns,
                s.last_notified_ns,
                s.clear_since_ns,
                s.acked_by
            ])?;
        Ok(())
    }

    pub fn delete_state(&self, fingerprint: &str) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("DELETE FROM alert_state WHERE fingerprint = ?1")?
            .execute(params![fingerprint])?;
        Ok(())
    }

    /// The active alerts saved by a previous engine (unknown text falls back to pending /
    /// the default severity rather than failing the start).
    pub fn load_states(&self) -> rusqlite::Result<Vec<ActiveAlert>> {
        let mut stmt = self.conn.prepare(
            "SELECT fingerprint, rule, state, severity, value, labels, annotations, since_ns,
                    fired_ns, last_notified_ns, clear_since_ns, acked_by FROM alert_state",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(ActiveAlert {
                fingerprint: row.get(0)?,
                rule: row.get(1)?,
                state: if row.get::<_, String>(2)? == AlertState::Firing.as_str() {
                    AlertState::Firing
                } else {
                    AlertState::Pending
                },
                severity: Severity::parse(&row.get::<_, String>(3)?).unwrap_or_default(),
                value: row.get(4)?,
                labels: map(row.get(5)?),
                annotations: map(row.get(6)?),
                since_ns: row.get(7)?,
                fired_ns: row.get(8)?,
                last_notified_ns: row.get(9)?,
                clear_since_ns: row.get(10)?,
                acked_by: row.get(11)?,
            })
        })?;
        rows.collect()
    }

    pub fn add_silence(
        &self,
        matcher: &Matcher,
        until_ns: i64,
        created_ns: i64,
        comment: &str,
    ) -> rusqlite::Result<i64> {
        self.conn.execute(
            "INSERT INTO alert_silences (matcher, until_ns, created_ns, comment)
             VALUES (?1, ?2, ?3, ?4)",
            params![matcher.to_text(), until_ns, created_ns, comment],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Ends a silence now (kept for the record, with `until_ns` moved to `now_ns`).
    pub fn expire_silence(&self, id: i64, now_ns: i64) -> rusqlite::Result<bool> {
        let changed = self.conn.execute(
            "UPDATE alert_silences SET until_ns = min(until_ns, ?2) WHERE id = ?1",
            params![id, now_ns],
        )?;
        Ok(changed > 0)
    }

    /// Silences still in force at `now_ns`.
    pub fn silences(&self, now_ns: i64) -> rusqlite::Result<Vec<Silence>> {
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
        rows.collect()
    }
}
