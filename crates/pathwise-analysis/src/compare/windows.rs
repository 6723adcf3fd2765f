//! Two windows compared path by path (a deploy's hour against the hour before, today against
//! yesterday): per path its rate, error rate and percentiles in each window, and the one word
//! that sums up how it moved. Everything comes from the rollups, so any two windows cost what
//! loading their analyses costs.
//!
//! ```
//! use pathwise_analysis::compare::windows::{WindowChange, classify};
//! // p95 up 50 % with rates and error rates alike: slower.
//! assert_eq!(classify((100.0, 0.0, 0, 10.0), (100.0, 0.0, 0, 15.0)), WindowChange::Slower);
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use super::{MIN_SIGNIFICANT_NS, SIGNIFICANT_CHANGE};
use crate::{AnalysisError, Metrics, Window};

/// An error rate moved when it at least doubled (or halved) and by at least this much.
pub const ERROR_RATE_POINTS: f64 = 0.01;
/// ...and the window with more errors had at least this many (one failure is not a trend).
pub const MIN_ERRORS: i64 = 3;
/// A path is busier (quieter) when its rate at least doubled (halved).
pub const RATE_FACTOR: f64 = 2.0;

/// How a path moved from the base window to the current one, most telling first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowChange {
    /// Only in the current window.
    New,
    /// Only in the base window.
    Gone,
    ErrorsUp,
    Slower,
    Busier,
    Quieter,
    Faster,
    ErrorsDown,
    Same,
}

/// One path's figures in one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathFigures {
    pub calls: i64,
    /// Calls per minute over the window.
    pub per_minute: f64,
    pub errors: i64,
    pub error_rate: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// One path in both windows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathShift {
    pub path: String,
    pub node: String,
    pub base: Option<PathFigures>,
    pub current: Option<PathFigures>,
    pub change: WindowChange,
    /// Current p95 over base p95.
    pub p95_ratio: Option<f64>,
    /// Current rate over base rate.
    pub rate_ratio: Option<f64>,
    /// Current error rate minus base error rate.
    pub error_rate_delta: Option<f64>,
}

/// Two windows' paths compared.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowComparison {
    pub base_seconds: f64,
    pub current_seconds: f64,
    /// Most telling change first, then the busiest path.
    pub paths: Vec<PathShift>,
    /// Paths per change, in [`WindowChange`] order.
    pub counts: BTreeMap<String, usize>,
}

/// The word for a path's move from `(rate, error rate, errors, p95 ms)` in the base window to
/// the same in the current one.
pub fn classify(base: (f64, f64, i64, f64), current: (f64, f64, i64, f64)) -> WindowChange {
    let (b_rate, b_err, b_errors, b_p95) = base;
    let (c_rate, c_err, c_errors, c_p95) = current;
    let errors_moved =
        (c_err - b_err).abs() >= ERROR_RATE_POINTS && b_errors.max(c_errors) >= MIN_ERRORS;
    if errors_moved && c_err >= 2.0 * b_err {
        return WindowChange::ErrorsUp;
    }
    let p95_moved = (c_p95 - b_p95).abs() * 1e6 >= MIN_SIGNIFICANT_NS as f64;
    if p95_moved && c_p95 > b_p95 * (1.0 + SIGNIFICANT_CHANGE) {
        return WindowChange::Slower;
    }
    if c_rate >= RATE_FACTOR * b_rate {
        return WindowChange::Busier;
    }
    if c_rate * RATE_FACTOR <= b_rate {
        return WindowChange::Quieter;
    }
    if p95_moved && c_p95 < b_p95 / (1.0 + SIGNIFICANT_CHANGE) {
        return WindowChange::Faster;
    }
    if errors_moved && 2.0 * c_err <= b_err {
        return WindowChange::ErrorsDown;
    }
    WindowChange::Same
}

fn figures(m: &Metrics, seconds: f64) -> PathFigures {
    PathFigures {
        calls: m.calls,
        per_minute: m.calls as f64 * 60.0 / seconds.max(1e-9),
        errors: m.errors,
        error_rate: m.error_rate,
        p50_ms: m.p50_ms,
        p95_ms: m.p95_ms,
        p99_ms: m.p99_ms,
    }
}

/// `base` and `current` (each window's paths and its length in seconds) compared.
pub fn compare_windows(
    (base, base_seconds): (&[Metrics], f64),
    (current, current_seconds): (&[Metrics], f64),
) -> WindowComparison {
    let mut by_path: BTreeMap<&str, (Option<&Metrics>, Option<&Metrics>)> = BTreeMap::new();
    for m in base {
        by_path.entry(&m.key).or_default().0 = Some(m);
    }
    for m in current {
        by_path.entry(&m.key).or_default().1 = Some(m);
    }
    let mut paths: Vec<PathShift> = by_path
        .into_iter()
        .map(|(path, (b, c))| {
            let base = b.map(|m| figures(m, base_seconds));
            let current = c.map(|m| figures(m, current_seconds));
            let (change, p95_ratio, rate_ratio, error_rate_delta) = match (&base, &current) {
                (Some(b), Some(c)) => (
                    classify(
                        (b.per_minute, b.error_rate, b.errors, b.p95_ms),
                        (c.per_minute, c.error_rate, c.errors, c.p95_ms),
                    ),
                    (b.p95_ms > 0.0).then(|| c.p95_ms / b.p95_ms),
                    (b.per_minute > 0.0).then(|| c.per_minute / b.per_minute),
                    Some(c.error_rate - b.error_rate),
                ),
                (None, _) => (WindowChange::New, None, None, None),
                (_, None) => (WindowChange::Gone, None, None, None),
            };
            PathShift {
                path: path.to_string(),
                node: b.or(c).map(|m| m.node.clone()).unwrap_or_default(),
                base,
                current,
                change,
                p95_ratio,
                rate_ratio,
                error_rate_delta,
            }
        })
        .collect();
    let calls = |p: &PathShift| {
        p.current.as_ref().map_or(0, |f| f.calls) + p.base.as_ref().map_or(0, |f| f.calls)
    };
    paths.sort_by(|a, b| {
        a.change
            .cmp(&b.change)
            .then_with(|| calls(b).cmp(&calls(a)))
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut counts = BTreeMap::new();
    for p in &paths {
        let name = serde_json::to_value(p.change)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *counts.entry(name).or_insert(0) += 1;
    }
    WindowComparison {
        base_seconds,
        current_seconds,
        paths,
        counts,
    }
}

/// Seconds a window covers, its open end at `now_ns`.
pub fn seconds_of(window: Window, now_ns: i64) -> f64 {
    (window.until_ns.min(now_ns) - window.since_ns).max(0) as f64 / 1e9
}

/// Loads both windows' analyses from `store` and compares their paths.
pub fn compare_stored_windows(
    store: &dyn pathwise_store::Reader,
    base: Window,
    current: Window,
    now_ns: i64,
) -> Result<WindowComparison, AnalysisError> {
    let (b, c) = (
        crate::Analysis::load(store, base)?,
        crate::Analysis::load(store, current)?,
    );
    Ok(compare_windows(
        (&b.paths, seconds_of(base, now_ns)),
        (&c.paths, seconds_of(current, now_ns)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(key: &str, calls: i64, errors: i64, p95_ms: f64) -> Metrics {
        Metrics {
            key: key.into(),
            node: key.rsplit(" → ").next().unwrap_or(key).into(),
            depth: Some(key.matches(" → ").count() as i64),
            calls,
            errors,
            error_rate: errors as f64 / calls as f64,
            errors_by_type: Vec::new(),
            total_ms: 0.0,
            self_ms: 0.0,
            avg_ms: p95_ms / 2.0,
            min_ms: 0.0,
            max_ms: p95_ms,
            p50_ms: p95_ms / 2.0,
            p95_ms,
            p99_ms: p95_ms,
            share_of_requests: 0.0,
            share_of_time: 0.0,
            share_of_self_time: 0.0,
            critical_ms: 0.0,
            share_of_latency: 0.0,
            first_seen_ns: 0,
            last_seen_ns: 0,
        }
    }

    /// Base: an hour; current: half an hour. Per path, by construction:
    /// - `a` 600 calls then 300: the same rate (10/min), p95 10 → 10.5 ms (+5 %): same;
    /// - `a → db` 600 then 300, p95 10 → 20 ms: slower;
    /// - `a → cache` 600 calls 0 errors, then 300 calls 30 errors: errors up;
    /// - `a → old` only in the base: gone; `a → new` only now: new;
    /// - `b` 60 then 120 calls (1/min → 4/min): busier;
    /// - `c` 600 then 60 calls (10/min → 2/min): quieter;
    /// - `d` p95 100 → 50 ms: faster.
    #[test]
    fn each_path_gets_the_word_its_figures_earn() {
        let base = [
            path("a", 600, 0, 10.0),
            path("a → db", 600, 0, 10.0),
            path("a → cache", 600, 0, 1.0),
            path("a → old", 10, 0, 1.0),
            path("b", 60, 0, 1.0),
            path("c", 600, 0, 1.0),
            path("d", 600, 0, 100.0),
        ];
        let current = [
            path("a", 300, 0, 10.5),
            path("a → db", 300, 0, 20.0),
            path("a → cache", 300, 30, 1.0),
            path("a → new", 5, 0, 1.0),
            path("b", 120, 0, 1.0),
            path("c", 60, 0, 1.0),
            path("d", 300, 0, 50.0),
        ];
        let cmp = compare_windows((&base, 3600.0), (&current, 1800.0));
        let words: Vec<(&str, WindowChange)> = cmp
            .paths
            .iter()
            .map(|p| (p.path.as_str(), p.change))
            .collect();
        assert_eq!(
            words,
            [
                ("a → new", WindowChange::New),
                ("a → old", WindowChange::Gone),
                ("a → cache", WindowChange::ErrorsUp),
                ("a → db", WindowChange::Slower),
                ("b", WindowChange::Busier),
                ("c", WindowChange::Quieter),
                ("d", WindowChange::Faster),
                ("a", WindowChange::Same),
            ]
        );
        let db = &cmp.paths[3];
        assert_eq!(db.p95_ratio, Some(2.0));
        assert_eq!(db.rate_ratio, Some(1.0));
        let cache = &cmp.paths[2];
        assert_eq!(cache.error_rate_delta, Some(0.1));
        assert_eq!(cmp.counts["same"], 1);
        assert_eq!(cmp.paths[4].current.as_ref().unwrap().per_minute, 4.0);
    }

    #[test]
    fn small_moves_are_the_same() {
        // 2 → 3 errors in 1,000 calls: below three errors' worth of signal and 1 point.
        assert_eq!(
            classify((10.0, 0.002, 2, 5.0), (10.0, 0.003, 3, 5.0)),
            WindowChange::Same
        );
        // A 2 µs span taking 3 µs: +50 %, but under 0.1 ms.
        assert_eq!(
            classify((10.0, 0.0, 0, 0.002), (10.0, 0.0, 0, 0.003)),
            WindowChange::Same
        );
    }
}
