//! A point-in-time view of the whole system: operations with their baselines and shifts,
//! health per component (span group) and overall, and the resource headroom given by the caller.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::AnalysisError;
use crate::monitoring::{MonitorConfig, OperationReport, StoredBaseline, evaluate};
use crate::perf::health::{Health, HealthInputs, overall, score};
use crate::perf::regression::ShiftKind;
use crate::rollups::load_node_buckets;
use pathwise_store::{Reader, Window};

/// Window over which success and cache figures feed the health score.
const HEALTH_WINDOW: Duration = Duration::from_secs(300);
/// Component of operations recorded without a group.
pub const UNGROUPED: &str = "(ungrouped)";

/// Health of one component.
#[derive(Clone, Debug, Serialize)]
pub struct ComponentHealth {
    pub component: String,
    pub operations: Vec<String>,
    /// Calls of the component's operations over the last five minutes.
    pub calls: u64,
    /// Failed calls among them.
    pub errors: u64,
    /// Cache hits / cache lookups over the last five minutes.
    pub cache_hit_rate: Option<f64>,
    /// Recent p95 / baseline p95, weighted by recent calls.
    pub speed_ratio: Option<f64>,
    pub health: Health,
}

/// The whole picture at one instant.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub generated_ns: i64,
    pub overall: Health,
    pub components: Vec<ComponentHealth>,
    pub operations: Vec<OperationReport>,
    /// Operations whose latency distribution shifted up, worst first.
    pub regressions: Vec<String>,
    pub improvements: Vec<String>,
}

/// Cache hit rate per component over the window.
fn cache_rates(store: &dyn Reader, window: Window) -> Result<BTreeMap<String, f64>, AnalysisError> {
    Ok(store
        .cache_totals(window.since_ns, window.until_ns)?
        .into_iter()
        .filter(|c| c.hits + c.misses > 0)
        .map(|c| (c.component, c.hits as f64 / (c.hits + c.misses) as f64))
        .collect())
}

/// Builds the snapshot as of `now_ns`. `resource_headroom` (0..1, e.g. `1 − rss/limit`) and
/// `alerts` (severity, title) apply to every component.
pub fn snapshot(
    store: &dyn Reader,
    now_ns: i64,
    config: &MonitorConfig,
    stored: &[StoredBaseline],
    resource_headroom: Option<f64>,
    alerts: &[(String, String)],
) -> Result<Snapshot, AnalysisError> {
    let operations = evaluate(store, now_ns, config, stored)?;
    let window = Window {
        since_ns: now_ns - HEALTH_WINDOW.as_nanos() as i64,
        until_ns: now_ns,
    };
    let recent = load_node_buckets(store, window)?;
    let group_of = store.node_groups(window)?;
    let caches = cache_rates(store, window)?;
    let mut components: BTreeMap<String, Vec<&OperationReport>> = BTreeMap::new();
    for op in &operations {
        let component = group_of
            .get(&op.name)
            .cloned()
            .unwrap_or_else(|| UNGROUPED.to_string());
        components.entry(component).or_default().push(op);
    }
    let mut healths = Vec::new();
    for (component, ops) in components {
        let (mut calls, mut errors, mut weighted_speed, mut speed_weight) = (0u64, 0u64, 0.0, 0.0);
        for op in &ops {
            if let Some(b) = recent.get(&op.name) {
                calls += b.calls as u64;
                errors += b.errors as u64;
            }
            if let (Some(base), Some(p95)) = (&op.baseline, op.recent.p95_ms)
                && base.p95 > 0.0
            {
                let weight = op.recent.calls.max(1) as f64;
                weighted_speed += p95 / base.p95 * weight;
                speed_weight += weight;
            }
        }
        let speed_ratio = (speed_weight > 0.0).then(|| weighted_speed / speed_weight);
        let cache_hit_rate = caches.get(&component).copied();
        let health = score(&HealthInputs {
            success_rate: (calls > 0).then(|| 1.0 - errors as f64 / calls as f64),
            speed_ratio,
            cache_hit_rate,
            resource_headroom,
            active_alerts: alerts.to_vec(),
        });
        healths.push(ComponentHealth {
            component,
            operations: ops.iter().map(|o| o.name.clone()).collect(),
            calls,
            errors,
            cache_hit_rate,
            speed_ratio,
            health,
        });
    }
    let weights: Vec<(String, Health, f64)> = healths
        .iter()
        .map(|c| (c.component.clone(), c.health.clone(), c.calls.max(1) as f64))
        .collect();
    let shifted = |kind: ShiftKind| {
        let mut found: Vec<(&OperationReport, f64)> = operations
            .iter()
            .filter_map(|o| {
                o.latency
                    .as_ref()
                    .filter(|s| s.kind == kind)
                    .map(|s| (o, s.effect.abs()))
            })
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        found
            .into_iter()
            .map(|(o, _)| o.name.clone())
            .collect::<Vec<_>>()
    };
    Ok(Snapshot {
        generated_ns: now_ns,
        overall: overall(&weights),
        regressions: shifted(ShiftKind::Regression),
        improvements: shifted(ShiftKind::Improvement),
        components: healths,
        operations,
    })
}
