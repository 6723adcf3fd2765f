//! Performance monitoring over a store: per-operation baselines, violations, latency / error
//! rate / throughput shifts, trends and health — the statistics of [`crate::perf`] fed from
//! the rollups and recent spans.
//!
//! Baseline samples come from the operation's merged DDSketch over the baseline window,
//! expanded back into `n` representative values (the `(i + ½)/n` quantiles): the sketch keeps
//! every value within 1 % and covers any window cheaply, whatever the traffic. The recent
//! window (default one minute) uses the raw span durations.

use std::time::Duration;

use serde::Serialize;
use sketches_ddsketch::DDSketch;

use crate::AnalysisError;
use crate::perf::baseline::{Baseline, Learning, OutlierMethod, Severity, classify, learn};
use crate::perf::regression::{
    RateShift, Shift, bonferroni, error_rate_shift, latency_shift, throughput_shift,
};
use crate::perf::trend::{Trend, fit};
use crate::rollups::load_node_buckets;
use pathwise_store::rollup::Bucket;
use pathwise_store::{Reader, Window};

/// How monitoring judges operations.
#[derive(Clone, Debug)]
pub struct MonitorConfig {
    /// History a baseline is learned from (ending where the recent window starts).
    pub baseline_window: Duration,
    /// The window compared against the baseline.
    pub recent_window: Duration,
    /// Samples needed before a baseline exists (learning mode until then).
    pub min_samples: usize,
    /// Representative samples drawn from a baseline sketch.
    pub max_samples: usize,
    pub warning_factor: f64,
    pub critical_factor: f64,
    /// Family-wise significance level (Bonferroni-corrected over operations).
    pub alpha: f64,
    /// Smallest relative change of the median worth reporting.
    pub min_effect: f64,
    pub outliers: OutlierMethod,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            baseline_window: Duration::from_secs(24 * 3600),
            recent_window: Duration::from_secs(60),
            min_samples: 100,
            max_samples: 2_000,
            warning_factor: 2.0,
            critical_factor: 5.0,
            alpha: 0.01,
            min_effect: 0.10,
            outliers: OutlierMethod::tukey(),
        }
    }
}

/// A baseline saved in the store (pinned ones are not re-learned).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoredBaseline {
    pub name: String,
    pub version: i64,
    pub pinned: bool,
    pub learned_ns: i64,
    pub baseline: Baseline,
}

/// The recent window of one operation.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RecentFigures {
    pub calls: u64,
    pub errors: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Calls slower than warning_factor × baseline p95 (and below the critical line).
    pub warnings: u64,
    /// Calls slower than critical_factor × baseline p95.
    pub criticals: u64,
}

/// Everything monitoring knows about one operation.
#[derive(Clone, Debug, Serialize)]
pub struct OperationReport {
    pub name: String,
    /// The baseline in force: the stored one, else one learned from the baseline window.
    pub baseline: Option<Baseline>,
    /// `stored` (with version and pinned) or `learned`.
    pub baseline_source: String,
    /// Set while there are not enough samples for a baseline.
    pub learning: Option<Learning>,
    pub recent: RecentFigures,
    pub latency: Option<Shift>,
    pub error_rate: Option<RateShift>,
    pub throughput: Option<RateShift>,
    /// Per-minute series over the baseline window's last hour, fitted linearly: p95 (ms),
    /// throughput (calls per minute) and error rate (0..1).
    pub p95_trend: Option<Trend>,
    pub calls_trend: Option<Trend>,
    pub error_rate_trend: Option<Trend>,
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// `n` representative values (ms) of a sketch: its `(i + ½)/n` quantiles.
pub fn representative_samples(sketch: &DDSketch, n: usize) -> Vec<f64> {
    let count = sketch.count();
    let n = n.min(count);
    (0..n)
        .filter_map(|i| sketch.quantile((i as f64 + 0.5) / n as f64).ok().flatten())
        .map(|ns| ns / 1e6)
        .collect()
}

fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| crate::perf::stats::quantile(sorted, q))
}

/// Evaluates every operation seen in the baseline or recent window, as of `now_ns`.
pub fn evaluate(
    store: &dyn Reader,
    now_ns: i64,
    config: &MonitorConfig,
    stored: &[StoredBaseline],
) -> Result<Vec<OperationReport>, AnalysisError> {
    let recent = Window {
        since_ns: now_ns - config.recent_window.as_nanos() as i64,
        until_ns: now_ns,
    };
    // Rollups are per minute: the history ends at the last whole minute before the recent
    // window, so no minute is counted on both sides.
    // (With no recent window, as when learning baselines, the history runs up to now.)
    let history_end = if config.recent_window.is_zero() {
        now_ns
    } else {
        recent.since_ns.div_euclid(60_000_000_000) * 60_000_000_000
    };
    let history = Window {
        since_ns: history_end - config.baseline_window.as_nanos() as i64,
        until_ns: history_end,
    };
    let base_buckets = load_node_buckets(store, history)?;
    let trend_window = Window {
        since_ns: history.until_ns - 3_600_000_000_000,
        until_ns: history.until_ns,
    };
    let minutes = store.node_minutes(trend_window)?;
    let recent_names = load_node_buckets(store, recent)?;
    let mut names: Vec<&String> = base_buckets.keys().chain(recent_names.keys()).collect();
    names.sort();
    names.dedup();
    let alpha = bonferroni(config.alpha, names.len().max(1));
    let recent_seconds = config.recent_window.as_secs_f64();
    let mut reports = Vec::with_capacity(names.len());
    for name in names {
        let base = base_buckets.get(name);
        let base_samples = base
            .map(|b| representative_samples(&b.sketch, config.max_samples))
            .unwrap_or_default();
        let raw = store.recent_spans(name, recent, 50_000)?;
        let mut recent_samples: Vec<f64> = raw.iter().map(|(ns, _)| *ns as f64 / 1e6).collect();
        recent_samples.sort_by(f64::total_cmp);
        // Throughput compares rates over the time the operation has data, not the whole
        // configured window (a new service has no 24 h of history).
        let base_seconds = base.map_or(0.0, |b| {
            (history.until_ns - b.first_ns.max(history.since_ns)).max(1) as f64 / 1e9
        });
        let saved = stored
            .iter()
            .filter(|s| &s.name == name)
            .max_by_key(|s| (s.pinned, s.version));
        let (baseline, source, learning) = match saved {
            Some(s) => (
                Some(s.baseline.clone()),
                format!(
                    "stored v{}{}",
                    s.version,
                    if s.pinned { " (pinned)" } else { "" }
                ),
                None,
            ),
            None => match learn(&base_samples, config.outliers, config.min_samples) {
                Ok(b) => (Some(b), "learned".to_string(), None),
                Err(l) => (None, "none".to_string(), Some(l)),
            },
        };
        let mut figures = RecentFigures {
            calls: raw.len() as u64,
            errors: raw.iter().filter(|(_, failed)| *failed).count() as u64,
            p50_ms: percentile(&recent_samples, 0.50),
            p95_ms: percentile(&recent_samples, 0.95),
            ..RecentFigures::default()
        };
        if let Some(b) = &baseline {
            for &d in &recent_samples {
                match classify(d, b, config.warning_factor, config.critical_factor) {
                    Severity::Warning => figures.warnings += 1,
                    Severity::Critical => figures.criticals += 1,
                    Severity::Normal => {}
                }
            }
        }
        let latency = if baseline.is_some() {
            latency_shift(&base_samples, &recent_samples, alpha, config.min_effect)
        } else {
            None
        };
        let (base_calls, base_errors) = base.map_or((0, 0), |b| (b.calls as u64, b.errors as u64));
        let error_rate = error_rate_shift(
            base_errors,
            base_calls,
            figures.errors,
            figures.calls,
            alpha,
        );
        let throughput = throughput_shift(
            base_calls,
            base_seconds,
            figures.calls,
            recent_seconds,
            alpha,
            config.min_effect,
        );
        let series = minutes.get(name).map(Vec::as_slice).unwrap_or_default();
        let trend_of = |value: &dyn Fn(&Bucket) -> Option<f64>| {
            let points: Vec<(f64, f64)> = series
                .iter()
                .filter_map(|(minute, b)| Some((*minute as f64 * 60.0, value(b)?)))
                .collect();
            fit(&points)
        };
        let p95_trend = trend_of(&|b| Some(b.sketch.quantile(0.95).ok().flatten()? / 1e6));
        let calls_trend = trend_of(&|b| Some(b.calls as f64));
        let error_rate_trend =
            trend_of(&|b| (b.calls > 0).then(|| b.errors as f64 / b.calls as f64));
        reports.push(OperationReport {
            name: name.clone(),
            baseline,
            baseline_source: source,
            learning,
            recent: figures,
            latency,
            error_rate,
            throughput,
            p95_trend,
            calls_trend,
            error_rate_trend,
        });
    }
    Ok(reports)
}

/// [`evaluate`] as of now.
pub fn evaluate_now(
    store: &dyn Reader,
    config: &MonitorConfig,
    stored: &[StoredBaseline],
) -> Result<Vec<OperationReport>, AnalysisError> {
    evaluate(store, now_ns(), config, stored)
}

impl From<&pathwise_store::BaselineRow> for StoredBaseline {
    fn from(row: &pathwise_store::BaselineRow) -> Self {
        StoredBaseline {
            name: row.name.clone(),
            version: row.version,
            pinned: row.pinned,
            learned_ns: row.learned_ns,
            baseline: Baseline {
                samples: row.samples as usize,
                kept: row.kept as usize,
                outliers: row.outliers as usize,
                p50: row.p50,
                p95: row.p95,
                p99: row.p99,
                mean: row.mean,
                std_dev: row.std_dev,
                confidence: row.confidence,
            },
        }
    }
}

/// Rows to save for the operations whose baseline was learned in this evaluation (stored and
/// pinned ones are left alone); restrict to `only` when given.
pub fn learned_rows(
    reports: &[OperationReport],
    learned_ns: i64,
    only: Option<&str>,
) -> Vec<pathwise_store::BaselineRow> {
    reports
        .iter()
        .filter(|r| r.baseline_source == "learned" && only.is_none_or(|name| r.name == name))
        .filter_map(|r| {
            let b = r.baseline.as_ref()?;
            Some(pathwise_store::BaselineRow {
                name: r.name.clone(),
                version: 0,
                learned_ns,
                pinned: false,
                samples: b.samples as i64,
                kept: b.kept as i64,
                outliers: b.outliers as i64,
                p50: b.p50,
                p95: b.p95,
                p99: b.p99,
                mean: b.mean,
                std_dev: b.std_dev,
                confidence: b.confidence,
            })
        })
        .collect()
}
