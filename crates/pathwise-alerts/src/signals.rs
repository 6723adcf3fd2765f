//! Where rule values come from: the [`SignalSource`] trait and its implementation over any
//! Pathwise backend, which reads through pathwise-analysis so alerts see exactly the figures
//! the dashboard and reports show.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pathwise_analysis::monitoring::{MonitorConfig, StoredBaseline};
use pathwise_analysis::snapshot::{Snapshot, snapshot};
use pathwise_analysis::{Analysis, Window};
use pathwise_store::alerts::SqlRules;
use pathwise_store::{Backend, Reader};

use crate::rules::{Condition, Rule, Signal, Trigger};

/// Gives the current value of a rule's signal. `Ok(None)` means "no data" (the condition is
/// then false); `Err` means the value could not be measured (the alert keeps its state).
/// `Sync` because a running engine reads signals while API handlers use the engine.
pub trait SignalSource: Send + Sync {
    /// The value of `rule`'s signal as of `now_ns`.
    fn value(&self, rule: &Rule, now_ns: i64) -> Result<Option<f64>, String>;
}

/// Signals read from a Pathwise backend.
///
/// ```
/// use std::sync::Arc;
/// use pathwise_alerts::{RuleSet, SignalSource, StoreSource};
/// let dir = tempfile::tempdir().unwrap();
/// let backend = pathwise_store_sqlite::SqliteBackend::create(dir.path().join("p.db")).unwrap();
/// let rules = RuleSet::parse("[[rule]]\nname = \"n\"\nkind = \"sql\"\nquery = \"SELECT count(*) FROM spans\"\nop = \">\"\nthreshold = 0\n").unwrap();
/// let source = StoreSource::new(Arc::new(backend));
/// assert_eq!(source.value(&rules.rules[0], 0), Ok(Some(0.0)));
/// ```
pub struct StoreSource {
    backend: Arc<dyn Backend>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    reader: Option<Box<dyn Reader>>,
    /// A separate connection for user SQL, so its limits never touch analytics.
    sql: Option<Box<dyn SqlRules>>,
    /// One snapshot per evaluation instant: several rules share it and it is not cheap.
    snapshot: Option<(i64, Snapshot)>,
}

impl StoreSource {
    /// A source over `backend`; connections open lazily (the database may not exist yet when
    /// the engine starts).
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        StoreSource {
            backend,
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
    fn reader(&mut self, backend: &dyn Backend) -> Result<&dyn Reader, String> {
        if self.reader.is_none() {
            self.reader = Some(backend.reader().map_err(err)?);
        }
        Ok(self.reader.as_deref().expect("just set"))
    }

    fn snapshot(&mut self, backend: &dyn Backend, now_ns: i64) -> Result<&Snapshot, String> {
        if self.snapshot.as_ref().is_none_or(|(at, _)| *at != now_ns) {
            let reader = self.reader(backend)?;
            let stored: Vec<StoredBaseline> = reader
                .baselines()
                .map_err(err)?
                .iter()
                .map(StoredBaseline::from)
                .collect();
            let snap = snapshot(
                reader,
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

impl SignalSource for StoreSource {
    fn value(&self, rule: &Rule, now_ns: i64) -> Result<Option<f64>, String> {
        let mut inner = self.inner.lock().map_err(|_| "signal source poisoned")?;
        match &rule.condition {
            Condition::Sql { query, timeout } => {
                if inner.sql.is_none() {
                    inner.sql = Some(self.backend.sql_rules().map_err(err)?);
                }
                let rules = inner.sql.as_mut().expect("just set");
                rules.query_number(query, *timeout).map_err(err)
            }
            Condition::Baseline { trigger, scope } => {
                let snap = inner.snapshot(self.backend.as_ref(), now_ns)?;
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
                        let snap = inner.snapshot(self.backend.as_ref(), now_ns)?;
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
                            let snap = inner.snapshot(self.backend.as_ref(), now_ns)?;
                            Some(scope_ops(snap, scope))
                        };
                        let reader = inner.reader(self.backend.as_ref())?;
                        let analysis = Analysis::load(reader, w).map_err(err)?;
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
                        let reader = inner.reader(self.backend.as_ref())?;
                        let (hits, misses) = reader
                            .cache_totals(w.since_ns, w.until_ns)
                            .map_err(err)?
                            .into_iter()
                            .filter(|c| scope == "overall" || &c.component == scope)
                            .fold((0u64, 0u64), |(h, m), c| (h + c.hits, m + c.misses));
                        Ok((hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64))
                    }
                    Signal::RssBytes | Signal::CpuPct => {
                        let reader = inner.reader(self.backend.as_ref())?;
                        // The window is (since, until]; samples are asked for [since+1, until+1).
                        let samples = reader
                            .resource_samples(w.since_ns + 1, Some(w.until_ns + 1), 100_000)
                            .map_err(err)?;
                        // RSS: the latest sample (memory is a level); CPU: the window's mean
                        // (a single sample is too noisy to page on).
                        Ok(if *signal == Signal::RssBytes {
                            samples.last().map(|s| s.process.rss_bytes as f64)
                        } else {
                            (!samples.is_empty()).then(|| {
                                samples
                                    .iter()
                                    .map(|s| s.process.cpu_pct as f64)
                                    .sum::<f64>()
                                    / samples.len() as f64
                            })
                        })
                    }
                    Signal::Dropped => {
                        let reader = inner.reader(self.backend.as_ref())?;
                        let latest = reader
                            .latest_pipeline_stats_between(w.since_ns, w.until_ns)
                            .map_err(err)?;
                        let before = reader
                            .latest_pipeline_stats_between(i64::MIN, w.since_ns)
                            .map_err(err)?;
                        // The counter is per process: a smaller figure means a restart, whose
                        // whole count falls in the window.
                        Ok(latest.map(|now| {
                            let earlier = before.map_or(0, |b| b.dropped);
                            let dropped = if now.dropped >= earlier {
                                now.dropped - earlier
                            } else {
                                now.dropped
                            };
                            dropped as f64
                        }))
                    }
                    Signal::DbSizeBytes => {
                        let reader = inner.reader(self.backend.as_ref())?;
                        let usage = reader.storage_use(false).map_err(err)?;
                        Ok(Some(usage.file_bytes as f64))
                    }
                    Signal::QueueDepth | Signal::WriteLagMs => {
                        let reader = inner.reader(self.backend.as_ref())?;
                        let row = reader
                            .latest_pipeline_stats_between(w.since_ns, w.until_ns)
                            .map_err(err)?;
                        Ok(row.map(|s| {
                            if *signal == Signal::QueueDepth {
                                s.queue_depth as f64
                            } else {
                                s.write_lag_ns as f64 / 1e6
                            }
                        }))
                    }
                }
            }
        }
    }
}
