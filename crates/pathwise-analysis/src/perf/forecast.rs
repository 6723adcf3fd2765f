//! When a trend may be extrapolated at all, and how far to trust it.
//!
//! A least-squares line through a few seconds of samples says nothing about the next hour:
//! twelve samples over eleven seconds of a process that then exited once became "grows
//! 6.67 GB/h; reaches the 23.5 GB limit in ~4 h". [`outlook`] therefore refuses to forecast
//!
//! * on **too little data**: fewer than [`ForecastRules::min_samples`] points, or points
//!   spanning less than [`ForecastRules::min_span`] ([`Outlook::NotEnoughData`]);
//! * on a **stopped source**: the newest point is older than
//!   [`ForecastRules::stale_after`] (or five of the series' median sampling intervals, if
//!   that is longer) — a process that exited does not keep growing ([`Outlook::Stale`]).
//!
//! Otherwise it gives the fitted [`Trend`] with a 95 % **confidence band** on the slope,
//! `slope ± 1.96 · se`, where `se = √(Σ residual² / (n − 2) / Σ (t − t̄)²)` is the usual
//! standard error of an OLS slope (with at least 30 points the normal quantile 1.96 is within
//! 3 % of Student's t).

use std::time::Duration;

use serde::Serialize;

use super::trend::{Trend, fit, format_value};

/// How much data a trend needs before it is extrapolated.
///
/// ```
/// use pathwise_analysis::perf::forecast::ForecastRules;
/// let rules = ForecastRules::default();
/// assert_eq!((rules.min_samples, rules.min_span.as_secs()), (30, 600));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ForecastRules {
    /// Fewest points a forecast is made from.
    pub min_samples: usize,
    /// Shortest time between the first and the last point.
    pub min_span: Duration,
    /// A series whose newest point is older than this (measured from "now") has stopped.
    pub stale_after: Duration,
}

impl Default for ForecastRules {
    fn default() -> Self {
        ForecastRules {
            min_samples: 30,
            min_span: Duration::from_secs(600),
            stale_after: Duration::from_secs(60),
        }
    }
}

/// What may be said about where a series is heading.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outlook {
    /// Too few points or too short a span; `reason` says which, in words.
    NotEnoughData {
        samples: usize,
        span_s: f64,
        need_samples: usize,
        need_span_s: f64,
        reason: String,
    },
    /// The source stopped sending: its newest point is `age_s` old.
    Stale {
        last_unix_s: f64,
        age_s: f64,
        reason: String,
    },
    /// A forecast may be made: the fit and the 95 % band of its slope (per hour).
    Forecast {
        trend: Trend,
        slope_low_per_hour: f64,
        slope_high_per_hour: f64,
        span_s: f64,
    },
}

impl Outlook {
    /// The fitted trend when a forecast may be made.
    ///
    /// ```
    /// use pathwise_analysis::perf::forecast::{ForecastRules, outlook};
    /// assert!(outlook(&[(0.0, 1.0), (1.0, 2.0)], 1.0, &ForecastRules::default()).trend().is_none());
    /// ```
    pub fn trend(&self) -> Option<&Trend> {
        match self {
            Outlook::Forecast { trend, .. } => Some(trend),
            _ => None,
        }
    }
}

/// The 95 % band of a slope in words, in the units [`describe_growth`] uses.
///
/// ```
/// use pathwise_analysis::perf::forecast::describe_band;
/// let mb = 1024.0 * 1024.0;
/// assert_eq!(describe_band("bytes", 2.1 * mb, 2.4 * mb), "95 % band of the slope: 2.1 MB/h … 2.4 MB/h");
/// ```
///
/// [`describe_growth`]: super::trend::describe_growth
pub fn describe_band(unit: &str, low_per_hour: f64, high_per_hour: f64) -> String {
    let signed = |v: f64| {
        let text = format_value(v.abs(), unit);
        if v < 0.0 {
            format!("−{text}/h")
        } else {
            format!("{text}/h")
        }
    };
    format!(
        "95 % band of the slope: {} … {}",
        signed(low_per_hour),
        signed(high_per_hour)
    )
}

/// Judges `(unix_seconds, value)` points as of `now_unix_s` by the rules in the module docs.
///
/// ```
/// use pathwise_analysis::perf::forecast::{ForecastRules, Outlook, outlook};
/// let rules = ForecastRules::default();
/// // 60 points a minute apart on the line 100 + 2·minutes: slope 120/h, no residuals.
/// let pts: Vec<(f64, f64)> = (0..60).map(|i| (60.0 * i as f64, 100.0 + 2.0 * i as f64)).collect();
/// let Outlook::Forecast { trend, slope_low_per_hour, slope_high_per_hour, .. } =
///     outlook(&pts, 3540.0, &rules) else { panic!() };
/// assert!((trend.slope_per_hour - 120.0).abs() < 1e-9);
/// assert!((slope_high_per_hour - slope_low_per_hour).abs() < 1e-6);
/// // Twelve points over eleven seconds: refused.
/// let short: Vec<(f64, f64)> = (0..12).map(|i| (i as f64, 1.0 + i as f64)).collect();
/// assert!(matches!(outlook(&short, 11.0, &rules), Outlook::NotEnoughData { .. }));
/// ```
pub fn outlook(points: &[(f64, f64)], now_unix_s: f64, rules: &ForecastRules) -> Outlook {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(t, v)| t.is_finite() && v.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let span_s = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => b.0 - a.0,
        _ => 0.0,
    };
    if let Some(&(last, _)) = pts.last() {
        let age_s = now_unix_s - last;
        let limit = rules
            .stale_after
            .as_secs_f64()
            .max(5.0 * median_interval(&pts));
        if age_s > limit {
            return Outlook::Stale {
                last_unix_s: last,
                age_s,
                reason: format!(
                    "no samples for {:.0} s (stale after {limit:.0} s): the source stopped sending, so nothing is forecast",
                    age_s
                ),
            };
        }
    }
    let need_span_s = rules.min_span.as_secs_f64();
    let need_samples = rules.min_samples.max(3);
    let fitted = fit(&pts);
    let (Some(trend), true, true) = (fitted, pts.len() >= need_samples, span_s >= need_span_s)
    else {
        return Outlook::NotEnoughData {
            samples: pts.len(),
            span_s,
            need_samples,
            need_span_s,
            reason: format!(
                "not enough data: {} samples over {span_s:.0} s; a trend needs at least {need_samples} samples over {need_span_s:.0} s",
                pts.len()
            ),
        };
    };
    let half = 1.96 * slope_standard_error(&pts) * 3600.0;
    Outlook::Forecast {
        slope_low_per_hour: trend.slope_per_hour - half,
        slope_high_per_hour: trend.slope_per_hour + half,
        trend,
        span_s,
    }
}

/// Standard error of the OLS slope (per second) of at least three points spread in time,
/// computed on centred times for the same precision reason as [`fit`].
pub(crate) fn slope_standard_error(pts: &[(f64, f64)]) -> f64 {
    let n = pts.len() as f64;
    let t_mean = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let v_mean = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (t, v) in pts {
        sxx += (t - t_mean).powi(2);
        sxy += (t - t_mean) * (v - v_mean);
    }
    let slope = sxy / sxx;
    let residuals: f64 = pts
        .iter()
        .map(|(t, v)| (v - v_mean - slope * (t - t_mean)).powi(2))
        .sum();
    (residuals / (n - 2.0) / sxx).sqrt()
}

/// Median gap between consecutive points of a time-sorted series (0 for fewer than two).
fn median_interval(sorted: &[(f64, f64)]) -> f64 {
    let mut gaps: Vec<f64> = sorted.windows(2).map(|w| w[1].0 - w[0].0).collect();
    if gaps.is_empty() {
        return 0.0;
    }
    gaps.sort_by(f64::total_cmp);
    gaps[gaps.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_sampler_is_not_stale_between_its_samples() {
        // One point every five minutes for three hours; the newest is four minutes old.
        let pts: Vec<(f64, f64)> = (0..36).map(|i| (300.0 * i as f64, 5.0)).collect();
        let now = 35.0 * 300.0 + 240.0;
        assert!(matches!(
            outlook(&pts, now, &ForecastRules::default()),
            Outlook::Forecast { .. }
        ));
    }

    #[test]
    fn empty_series_is_not_enough_data() {
        assert!(matches!(
            outlook(&[], 0.0, &ForecastRules::default()),
            Outlook::NotEnoughData { samples: 0, .. }
        ));
    }
}
