//! Performance monitoring over a store: per-operation baselines, violations, latency / error
//! rate / throughput shifts, trends and health — the statistics of [`crate::perf`] fed from
//! the rollups and recent spans.
//!
//! Baseline samples come from the operation's merged DDSketch over the baseline window,
//! expanded back into `n` representative values (the `(i + ½)/n` quantiles): the sketch keeps
//! every value within 1 % and covers any window cheaply, whatever the traffic. The recent
//! window (default one minute) uses the raw span durations.

mod stored;

pub use stored::{AcceptError, StoredBaseline, accept, learned_rows};

use std::collections::HashMap;
use std::time::Duration;

use rustc_hash::FxHashMap;
use serde::Serialize;
use sketches_ddsketch::DDSketch;

use crate::AnalysisError;
use crate::anchor::{Judge, anchor};
use crate::perf::baseline::{Baseline, Learning, OutlierMethod, Severity, classify, learn};
use crate::perf::forecast::{ForecastRules, Outlook, outlook};
use crate::perf::regression::{
    RateShift, Shift, ShiftKind, bonferroni, error_rate_shift, latency_shift, median_shift,
    throughput_shift,
};
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
    /// How much of the history is replayed minute by minute to keep the baseline learned
    /// before a shift (see [`crate::anchor`]); older history joins the baseline as it is.
    pub shift_memory: Duration,
    /// When trends may be extrapolated (minimum samples and span, staleness).
    pub forecast: ForecastRules,
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
            shift_memory: Duration::from_secs(6 * 3600),
            forecast: ForecastRules::default(),
        }
    }
}

/// The recent window of one operation.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RecentFigures {
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// No call in the recent window: shifts are not computed (an empty window is "no data",
    /// not a 100 % drop in traffic).
    pub no_data: bool,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Calls slower than warning_factor × baseline p95 (and below the critical line).
    pub warnings: u64,
    /// Calls slower than critical_factor × baseline p95.
    pub criticals: u64,
}

/// Figures of one operation over every call in the evaluated window (baseline and recent
/// windows together), with no outlier removed: the operation's headline figures, the same
/// as the analysis pages give for that window.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AllCalls {
    pub since_ns: i64,
    pub until_ns: i64,
    pub calls: u64,
    pub failed_calls: u64,
    /// Failed calls / calls.
    pub error_rate_of_calls: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// Everything monitoring knows about one operation.
#[derive(Clone, Debug, Serialize)]
pub struct OperationReport {
    pub name: String,
    /// Every call in the window, nothing dropped: the headline p50/p95/p99.
    pub all_calls: AllCalls,
    /// The baseline in force: the stored one, else one learned from the baseline window
    /// (outliers removed: its p95 is "the baseline's p95", not the operation's).
    pub baseline: Option<Baseline>,
    /// `stored` (with version and pinned) or `learned`.
    pub baseline_source: String,
    /// How many samples the baseline left out as outliers, and by which rule.
    pub baseline_outliers: Option<String>,
    /// Calls left out of a learned baseline because their minute had shifted (the baseline
    /// stays the level from before a shift; see [`crate::anchor`]).
    pub baseline_excluded_calls: u64,
    /// When the ongoing latency shift began (ns), while it lasts.
    pub shifted_since_ns: Option<i64>,
    /// Set while there are not enough samples for a baseline.
    pub learning: Option<Learning>,
    pub recent: RecentFigures,
    pub latency: Option<Shift>,
    pub error_rate: Option<RateShift>,
    pub throughput: Option<RateShift>,
    /// Per-minute series over the baseline window's last hour, fitted linearly when there
    /// is enough of it: p95 (ms), throughput (calls per minute) and error rate (failed calls
    /// / calls).
    pub p95_trend: Outlook,
    pub calls_trend: Outlook,
    pub error_rate_trend: Outlook,
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
        recent.since_ns.div_euclid(MINUTE_NS) * MINUTE_NS
    };
    let history = Window {
        since_ns: history_end - config.baseline_window.as_nanos() as i64,
        until_ns: history_end,
    };
    let history_parts = load_history(store, history, config)?;
    let recent_buckets = load_node_buckets(store, recent)?;
    let mut names: Vec<&String> = history_parts
        .merged
        .keys()
        .chain(recent_buckets.keys())
        .collect();
    names.sort();
    names.dedup();
    let alpha = bonferroni(config.alpha, names.len().max(1));
    let judge = Judge {
        alpha,
        min_effect: config.min_effect,
        min_samples: config.min_samples,
        max_samples: config.max_samples,
    };
    let trend_since_minute = (history.until_ns - 3_600_000_000_000).div_euclid(MINUTE_NS);
    let mut reports = Vec::with_capacity(names.len());
    for name in names {
        let base = history_parts.merged.get(name);
        let minutes = history_parts
            .minutes
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let raw = store.recent_spans(name, recent, 50_000)?;
        let mut recent_samples: Vec<f64> = raw.iter().map(|(ns, _)| *ns as f64 / 1e6).collect();
        recent_samples.sort_by(f64::total_cmp);
        let saved = stored
            .iter()
            .filter(|s| &s.name == name)
            .max_by_key(|s| (s.pinned, s.version));
        let anchored = anchor(
            history_parts.prior.get(name),
            minutes,
            saved.map(|s| s.baseline.p50),
            &judge,
        );
        let reference_samples = anchored
            .reference
            .as_ref()
            .map(|r| representative_samples(r, config.max_samples))
            .unwrap_or_default();
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
            None => match learn(&reference_samples, config.outliers, config.min_samples) {
                Ok(b) => (Some(b), "learned".to_string(), None),
                Err(l) => (None, "none".to_string(), Some(l)),
            },
        };
        let mut figures = RecentFigures {
            calls: raw.len() as u64,
            errors: raw.iter().filter(|(_, failed)| *failed).count() as u64,
            no_data: raw.is_empty(),
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
        let latency = match (&baseline, saved) {
            (None, _) => None,
            (Some(b), Some(_)) => median_shift(b.p50, &recent_samples, alpha, config.min_effect),
            (Some(_), None) => latency_shift(
                &reference_samples,
                &recent_samples,
                alpha,
                config.min_effect,
            ),
        };
        let shifted_now = latency
            .as_ref()
            .is_some_and(|l| l.kind != ShiftKind::NoChange);
        let (error_rate, throughput) = rate_shifts(base, &figures, history, recent, config, alpha);
        let series: Vec<&(i64, Bucket)> = minutes
            .iter()
            .filter(|(minute, _)| *minute >= trend_since_minute)
            .collect();
        let now_s = now_ns as f64 / 1e9;
        let trend_of = |value: &dyn Fn(&Bucket) -> Option<f64>| {
            let points: Vec<(f64, f64)> = series
                .iter()
                .filter_map(|(minute, b)| Some((*minute as f64 * 60.0, value(b)?)))
                .collect();
            outlook(&points, now_s, &config.forecast)
        };
        reports.push(OperationReport {
            name: name.clone(),
            all_calls: all_calls(base, recent_buckets.get(name), history.since_ns, now_ns),
            baseline_outliers: baseline.as_ref().map(|b| outlier_note(b, config.outliers)),
            baseline,
            baseline_source: source,
            baseline_excluded_calls: anchored.excluded_calls,
            // The onset is only news while the recent window is still shifted.
            shifted_since_ns: anchored
                .shifted_since_ns
                .filter(|_| shifted_now)
                .or(shifted_now.then_some(history.until_ns)),
            learning,
            recent: figures,
            latency,
            error_rate,
            throughput,
            p95_trend: trend_of(&|b| Some(b.sketch.quantile(0.95).ok().flatten()? / 1e6)),
            calls_trend: trend_of(&|b| Some(b.calls as f64)),
            error_rate_trend: trend_of(&|b| {
                (b.calls > 0).then(|| b.errors as f64 / b.calls as f64)
            }),
        });
    }
    Ok(reports)
}

const MINUTE_NS: i64 = 60_000_000_000;

/// The history of every operation: merged, split into the part before the replayed span
/// (`prior`) and the replayed minutes (at least the last hour, for the trends).
struct History {
    merged: FxHashMap<String, Bucket>,
    prior: FxHashMap<String, Bucket>,
    minutes: HashMap<String, Vec<(i64, Bucket)>>,
}

fn load_history(
    store: &dyn Reader,
    history: Window,
    config: &MonitorConfig,
) -> Result<History, AnalysisError> {
    let replayed = config
        .shift_memory
        .max(Duration::from_secs(3600))
        .as_nanos() as i64;
    let split = (history.until_ns - replayed).max(history.since_ns);
    let split = split.div_euclid(MINUTE_NS) * MINUTE_NS;
    let prior = if split > history.since_ns {
        load_node_buckets(
            store,
            Window {
                since_ns: history.since_ns,
                until_ns: split,
            },
        )?
    } else {
        FxHashMap::default()
    };
    let minutes = store.node_minutes(Window {
        since_ns: split.max(history.since_ns),
        until_ns: history.until_ns,
    })?;
    let mut merged = prior.clone();
    for (name, series) in &minutes {
        for (_, bucket) in series {
            match merged.get_mut(name) {
                Some(b) => b.merge(bucket),
                None => {
                    merged.insert(name.clone(), bucket.clone());
                }
            }
        }
    }
    Ok(History {
        merged,
        prior,
        minutes,
    })
}

/// Error-rate and throughput shifts of the recent window against the history. Both need
/// calls on both sides: an empty recent window is "no data", not a 100 % drop, and an
/// operation with no history has nothing to be compared with. Throughput compares rates over
/// the time the operation has had data on each side, so a service that started five minutes
/// ago is not compared with 24 h.
fn rate_shifts(
    base: Option<&Bucket>,
    recent: &RecentFigures,
    history: Window,
    window: Window,
    config: &MonitorConfig,
    alpha: f64,
) -> (Option<RateShift>, Option<RateShift>) {
    let Some(base) = base.filter(|b| b.calls > 0 && recent.calls > 0) else {
        return (None, None);
    };
    let base_seconds = (history.until_ns - base.first_ns.max(history.since_ns)).max(1) as f64 / 1e9;
    let recent_seconds = (window.until_ns - window.since_ns) as f64 / 1e9;
    let error_rate = error_rate_shift(
        base.errors as u64,
        base.calls as u64,
        recent.errors,
        recent.calls,
        alpha,
    );
    let throughput = throughput_shift(
        base.calls as u64,
        base_seconds,
        recent.calls,
        recent_seconds,
        alpha,
        config.min_effect,
    );
    (error_rate, throughput)
}

/// Headline figures over the history and the recent window together.
fn all_calls(
    base: Option<&Bucket>,
    recent: Option<&Bucket>,
    since_ns: i64,
    until_ns: i64,
) -> AllCalls {
    let mut merged = Bucket::new();
    for b in [base, recent].into_iter().flatten() {
        merged.merge(b);
    }
    let q = |q: f64| merged.sketch.quantile(q).ok().flatten().map(|ns| ns / 1e6);
    AllCalls {
        since_ns,
        until_ns,
        calls: merged.calls.max(0) as u64,
        failed_calls: merged.errors.max(0) as u64,
        error_rate_of_calls: (merged.calls > 0).then(|| merged.errors as f64 / merged.calls as f64),
        p50_ms: q(0.50),
        p95_ms: q(0.95),
        p99_ms: q(0.99),
    }
}

/// "214 of 1,802 samples left out as outliers (…rule…)".
fn outlier_note(b: &Baseline, method: OutlierMethod) -> String {
    format!(
        "{} of {} samples left out of the baseline as outliers ({}); its p50/p95/p99 are over the other {}",
        b.outliers,
        b.samples,
        method.rule(),
        b.kept
    )
}

/// [`evaluate`] as of now.
pub fn evaluate_now(
    store: &dyn Reader,
    config: &MonitorConfig,
    stored: &[StoredBaseline],
) -> Result<Vec<OperationReport>, AnalysisError> {
    evaluate(store, now_ns(), config, stored)
}
