//! Where rule values come from: the [`SignalSource`] trait and its implementation over a
//! Pathwise SQLite store, which reads through pathwise-analysis so alerts see exactly the
//! figures the dashboard and reports show.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use pathwise_analysis::monitoring::{MonitorConfig, StoredBaseline};
use pathwise_analysis::snapshot::{Snapshot, snapshot};
use pathwise_analysis::{Analysis, Window};
use pathwise_store::SqliteReader;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::rules::{Condition, Rule, Signal, Trigger};

/// Gives the current value of a rule's signal. `Ok(None)` means "no data" (the condition is
/// then false); `Err` means the value could not be measured (the alert keeps its state).
pub trait SignalSource: Send {
    /// The value of `rule`'s signal as of `now_ns`.
    fn value(&self, rule: &Rule, now_ns: i64) -> Result<Option<f64>, String>;
}

/// Signals read from a Pathwise SQLite database through read-only connections.
///
/// ```
/// use pathwise_alerts::{RuleSet, SignalSource, SqliteSource};
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// pathwise_store::SqliteStore::open(&db).unwrap();
/// let rules = RuleSet::parse("[[rule]]\nname = \"n\"\nkind = \"sql\"\nquery = \"SELECT count(*) FROM spans\"\nop = \">\"\nthreshold = 0\n").unwrap();
/// let source = SqliteSource::new(&db);
/// assert_eq!(source.value(&rules.rules[0], 0), Ok(Some(0.0)));
/// ```
pub struct SqliteSource {
    path: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    reader: Option<SqliteReader>,
    /// A separate connection for user SQL, so its progress handler never touches analytics.
    sql: Option<Connection>,
    /// One snapshot per evaluation instant: several rules share it and it is not cheap.
    snapshot: Option<(i64, Snapshot)>,
}

impl SqliteSource {
    /// A source over the database at `path`; connections open lazily (the file may not exist
    /// yet when the engine starts).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteSource {
            path: path.into(),
            inner: Mutex::new(Inner::default()),
        }
    }
}

fn window(now_ns: i64, span: Duration) -> Window {
    Window {
        since_ns: now_ns.saturating_sub(span.as_nanos() as i64),
        until_ns: now_ns,
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Inner {
    fn reader(&mut self, path: &PathBuf) -> Result<&SqliteReader, String> {
        if self.reader.is_none() {
            self.reader = Some(SqliteReader::open(path).map_err(err)?);
        }
        Ok(self.reader.as_ref().expect("just set"))
    }

    fn snapshot(&mut self, path: &PathBuf, now_ns: i64) -> Result<&Snapshot, String> {
        if self.snapshot.as_ref().is_none_or(|(at, _)| *at != now_ns) {
            let reader = self.reader(path)?;
            let stored: Vec<StoredBaseline> = reader
                .baselines()
                .map_err(err)?
                .iter()
                .map(StoredBaseline::from)
                .collect();
            let snap = snapshot(
                reader.connection(),
                now_ns,
                &MonitorConfig::default(),
                &stored,
                None,
                &[],
            )
            .map_err(err)?;
            self.snapshot = Some((now_ns, snap));
        }
        Ok(&self.snapshot.as_ref().expect("just set").1)
    }
}

/// Operation names a scope covers in a snapshot: `overall` → all, a component → its
/// operations, else the scope itself as an operation name.
fn scope_ops(snap: &Snapshot, scope: &str) -> Vec<String> {
    if scope == "overall" {
        return snap.operations.iter().map(|o| o.name.clone()).collect();
    }
    match snap.components.iter().find(|c| c.component == scope) {
        Some(c) => c.operations.clone(),
        None => vec![scope.to_string()],
    }
}

/// Calls, errors, p95 and p99 of a scope: a node, a component's nodes, or `overall` (root
/// paths; percentiles are the worst root's, since sketches of different roots are not merged
/// here).
fn traffic(analysis: &Analysis, names: Option<&[String]>) -> Option<(i64, i64, f64, f64)> {
    let picked: Vec<_> = match names {
        None => analysis
            .paths
            .iter()
            .filter(|p| p.depth == Some(0))
            .collect(),
        Some(names) => analysis
            .nodes
            .iter()
            .filter(|n| names.contains(&n.node))
            .collect(),
    };
    if picked.is_empty() {
        return None;
    }
    let calls = picked.iter().map(|m| m.calls).sum();
    let errors = picked.iter().map(|m| m.errors).sum();
    let p95 = picked.iter().map(|m| m.p95_ms).fold(0.0, f64::max);
    let p99 = picked.iter().map(|m| m.p99_ms).fold(0.0, f64::max);
    Some((calls, errors, p95, p99))
}

impl SignalSource for SqliteSource {
    fn value(&self, rule: &Rule, now_ns: i64) -> Result<Option<f64>, String> {
        let mut inner = self.inner.lock().map_err(|_| "signal source poisoned")?;
        match &rule.condition {
            Condition::Sql { query, timeout } => {
                if inner.sql.is_none() {
                    let conn = Connection::open_with_flags(
                        &self.path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .map_err(err)?;
                    conn.busy_timeout(Duration::from_secs(1)).map_err(err)?;
                    inner.sql = Some(conn);
                }
                let conn = inner.sql.as_mut().expect("just set");
                crate::sql::query_number(conn, query, *timeout).map_err(err)
            }
            Condition::Baseline { trigger, scope } => {
                let snap = inner.snapshot(&self.path, now_ns)?;
                let ops = scope_ops(snap, scope);
                let count = match trigger {
                    Trigger::Regression => {
                        snap.regressions.iter().filter(|r| ops.contains(r)).count() as u64
                    }
                    Trigger::ViolationWarning | Trigger::ViolationCritical => snap
                        .operations
                        .iter()
                        .filter(|o| ops.contains(&o.name))
                        .map(|o| match trigger {
                            Trigger::ViolationCritical => o.recent.criticals,
                            _ => o.recent.warnings + o.recent.criticals,
                        })
                        .sum(),
                };
                Ok(Some(count as f64))
            }
            Condition::Threshold {
                signal,
                scope,
                window: span,
            } => {
                let w = window(now_ns, *span);
                match signal {
                    Signal::HealthScore => {
                        let snap = inner.snapshot(&self.path, now_ns)?;
                        if scope == "overall" {
                            return Ok(Some(snap.overall.score as f64));
                        }
                        Ok(snap
                            .components
                            .iter()
                            .find(|c| &c.component == scope)
                            .map(|c| c.health.score as f64))
                    }
                    Signal::ErrorRate | Signal::P95Ms | Signal::P99Ms | Signal::CallRate => {
                        let names = if scope == "overall" {
                            None
                        } else {
                            // A component name covers its operations (from the snapshot).
                            let snap = inner.snapshot(&self.path, now_ns)?;
                            Some(scope_ops(snap, scope))
                        };
                        let reader = inner.reader(&self.path)?;
                        let analysis = Analysis::load(reader.connection(), w).map_err(err)?;
                        let Some((calls, errors, p95, p99)) = traffic(&analysis, names.as_deref())
                        else {
                            return Ok(None);
                        };
                        Ok(match signal {
                            Signal::ErrorRate => (calls > 0).then(|| errors as f64 / calls as f64),
                            Signal::P95Ms => (calls > 0).then_some(p95),
                            Signal::P99Ms => (calls > 0).then_some(p99),
                            _ => Some(calls as f64 / span.as_secs_f64()),
                        })
                    }
                    Signal::CacheHitRate => {
                        let conn = inner.reader(&self.path)?.connection();
                        let (hits, misses): (Option<i64>, Option<i64>) = conn
                            .query_row(
                                "SELECT sum(hits), sum(misses) FROM cache_stats
                                 WHERE ts_ns > ?1 AND ts_ns <= ?2 AND (?3 = 'overall' OR component = ?3)",
                                params![w.since_ns, w.until_ns, scope],
                                |row| Ok((row.get(0)?, row.get(1)?)),
                            )
                            .map_err(err)?;
                        let (hits, misses) = (hits.unwrap_or(0), misses.unwrap_or(0));
                        Ok((hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64))
                    }
                    Signal::RssBytes | Signal::CpuPct => {
                        let conn = inner.reader(&self.path)?.connection();
                        // RSS: the latest sample (memory is a level); CPU: the window's mean
                        // (a single sample is too noisy to page on).
                        let sql = if *signal == Signal::RssBytes {
                            "SELECT rss_bytes FROM resource_samples WHERE ts_ns > ?1 AND ts_ns <= ?2
                             ORDER BY ts_ns DESC LIMIT 1"
                        } else {
                            "SELECT avg(cpu_pct) FROM resource_samples WHERE ts_ns > ?1 AND ts_ns <= ?2"
                        };
                        conn.query_row(sql, params![w.since_ns, w.until_ns], |row| {
                            row.get::<_, Option<f64>>(0)
                        })
                        .optional()
                        .map(Option::flatten)
                        .map_err(err)
                    }
                    Signal::QueueDepth | Signal::WriteLagMs => {
                        let conn = inner.reader(&self.path)?.connection();
                        let row: Option<(i64, i64)> = conn
                            .query_row(
                                "SELECT queue_depth, write_lag_ns FROM pipeline_stats
                                 WHERE ts_ns > ?1 AND ts_ns <= ?2 ORDER BY ts_ns DESC LIMIT 1",
                                params![w.since_ns, w.until_ns],
                                |row| Ok((row.get(0)?, row.get(1)?)),
                            )
                            .optional()
                            .map_err(err)?;
                        Ok(row.map(|(depth, lag)| {
                            if *signal == Signal::QueueDepth {
                                depth as f64
                            } else {
                                lag as f64 / 1e6
                            }
                        }))
                    }
                }
            }
        }
    }
}
