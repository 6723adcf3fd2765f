//! Linear trends over time (memory growth, creeping latency) and "when does it hit the limit"
//! forecasts, in the spirit of Prometheus' `predict_linear`.
//!
//! [`fit`] is ordinary least squares of value on Unix time. Times are centred on their mean
//! before fitting: squaring raw Unix seconds (~1.7·10⁹) would throw away most of the
//! precision of the slope.

use std::time::Duration;

use serde::Serialize;

/// A fitted line `value = intercept + slope_per_hour · t / 3600` (t in Unix seconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// Change of the value per hour, in the value's unit.
    pub slope_per_hour: f64,
    /// Fitted value at Unix time 0 (an extrapolation; use [`Trend::forecast`] instead).
    pub intercept: f64,
    /// Coefficient of determination in `[0, 1]`; 1 when every point is on the line
    /// (including a constant series).
    pub r_squared: f64,
    /// Finite points used.
    pub points: usize,
}

/// Least-squares line through `(unix_seconds, value)` points. `None` for fewer than 3 finite
/// points or when all points share one time (the slope is undefined).
///
/// ```
/// use pathwise_analysis::perf::trend::fit;
/// let t0 = 1_700_000_000.0;
/// let pts: Vec<(f64, f64)> = (0..10).map(|i| (t0 + 3600.0 * i as f64, 100.0 + 2.5 * i as f64)).collect();
/// let trend = fit(&pts).unwrap();
/// assert!((trend.slope_per_hour - 2.5).abs() < 1e-9);
/// assert!((trend.forecast(t0) - 100.0).abs() < 1e-6);
/// assert!((trend.r_squared - 1.0).abs() < 1e-12);
/// ```
pub fn fit(points: &[(f64, f64)]) -> Option<Trend> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(t, v)| t.is_finite() && v.is_finite())
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let t_mean = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let v_mean = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (t, v) in &pts {
        let (dt, dv) = (t - t_mean, v - v_mean);
        sxx += dt * dt;
        sxy += dt * dv;
        syy += dv * dv;
    }
    if sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let r_squared = if syy > 0.0 {
        (sxy * sxy / (sxx * syy)).min(1.0)
    } else {
        1.0
    };
    Some(Trend {
        slope_per_hour: slope * 3600.0,
        intercept: v_mean - slope * t_mean,
        r_squared,
        points: pts.len(),
    })
}

impl Trend {
    /// The fitted value at `at_unix_s`.
    ///
    /// ```
    /// use pathwise_analysis::perf::trend::Trend;
    /// let t = Trend { slope_per_hour: 2.0, intercept: 10.0, r_squared: 1.0, points: 3 };
    /// assert_eq!(t.forecast(7200.0), 14.0);
    /// ```
    pub fn forecast(&self, at_unix_s: f64) -> f64 {
        self.intercept + self.slope_per_hour * at_unix_s / 3600.0
    }

    /// How long until the value, currently `current` at `now_unix_s`, reaches `threshold` at
    /// the fitted slope. `current` is normally the latest observation (more up to date than
    /// the line); pass NaN to start from the line's value at `now_unix_s` instead.
    /// `Some(Duration::ZERO)` when already at the threshold; `None` when the slope is zero or
    /// points away from it.
    ///
    /// ```
    /// use pathwise_analysis::perf::trend::Trend;
    /// let t = Trend { slope_per_hour: 2.3, intercept: 0.0, r_squared: 1.0, points: 3 };
    /// let d = t.time_to_threshold(0.0, 1000.0, 2048.0).unwrap();
    /// assert!((d.as_secs_f64() / 3600.0 - 1048.0 / 2.3).abs() < 1e-6); // ≈ 455.65 h
    /// assert!(t.time_to_threshold(0.0, 1000.0, 500.0).is_none());
    /// ```
    pub fn time_to_threshold(
        &self,
        now_unix_s: f64,
        current: f64,
        threshold: f64,
    ) -> Option<Duration> {
        let start = if current.is_nan() {
            self.forecast(now_unix_s)
        } else {
            current
        };
        let gap = threshold - start;
        if gap == 0.0 {
            return Some(Duration::ZERO);
        }
        let hours = gap / self.slope_per_hour;
        // Negative: moving away; infinite/NaN: flat slope or non-finite inputs.
        if !hours.is_finite() || hours <= 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(hours * 3600.0).ok()
    }
}

/// One line describing a trend, e.g. `"RSS grows 2.3 MB/h; reaches the 2 GB limit in ~19 d"`.
///
/// Units: `"bytes"`/`"B"` are scaled to B/KB/MB/GB/TB (powers of 1024, as RSS tools report
/// them); `"ms"` is shown as ms, or s from 1000 ms; any other unit is printed after a plain
/// number (empty unit: the number alone). Numbers keep three significant digits. Durations are
/// given in minutes below one hour, hours below three days, days above. A fit with
/// `r² < 0.5` is called weak, because the forecast of a noisy series deserves less trust.
///
/// ```
/// use pathwise_analysis::perf::trend::{Trend, describe_growth};
/// let mb = 1024.0 * 1024.0;
/// let t = Trend { slope_per_hour: 2.3 * mb, intercept: 1000.0 * mb, r_squared: 0.98, points: 60 };
/// let text = describe_growth("RSS", "bytes", &t, 0.0, 1000.0 * mb, Some(2048.0 * mb));
/// assert_eq!(text, "RSS grows 2.3 MB/h; reaches the 2 GB limit in ~19 d");
/// ```
pub fn describe_growth(
    name: &str,
    unit: &str,
    trend: &Trend,
    now: f64,
    current: f64,
    threshold: Option<f64>,
) -> String {
    let slope = trend.slope_per_hour;
    let mut text = if slope > 0.0 {
        format!("{name} grows {}/h", format_value(slope, unit))
    } else if slope < 0.0 {
        format!("{name} falls {}/h", format_value(-slope, unit))
    } else {
        format!("{name} is flat")
    };
    if trend.r_squared < 0.5 {
        text.push_str(&format!(" (weak fit, r² {:.2})", trend.r_squared));
    }
    if let Some(limit) = threshold {
        let limit_text = format_value(limit, unit);
        match trend.time_to_threshold(now, current, limit) {
            Some(d) if d.is_zero() => {
                text.push_str(&format!("; already at the {limit_text} limit"))
            }
            Some(d) => text.push_str(&format!(
                "; reaches the {limit_text} limit in ~{}",
                format_duration(d)
            )),
            None => text.push_str(&format!("; not heading toward the {limit_text} limit")),
        }
    }
    text
}

/// `value` with its unit, scaled as described on [`describe_growth`].
pub(crate) fn format_value(value: f64, unit: &str) -> String {
    match unit.to_ascii_lowercase().as_str() {
        "bytes" | "byte" | "b" => {
            const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
            let mut v = value;
            let mut i = 0;
            while v.abs() >= 1024.0 && i + 1 < UNITS.len() {
                v /= 1024.0;
                i += 1;
            }
            format!("{} {}", significant(v), UNITS[i])
        }
        "ms" if value.abs() >= 1000.0 => format!("{} s", significant(value / 1000.0)),
        "" => significant(value),
        _ => format!("{} {unit}", significant(value)),
    }
}

/// Three significant digits without trailing zeros: 2.3, 455.7 → 456, 0.01234 → 0.0123.
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn format_duration(d: Duration) -> String {
    let hours = d.as_secs_f64() / 3600.0;
    if hours < 1.0 {
        format!("{} min", (hours * 60.0).round().max(1.0))
    } else if hours < 72.0 {
        format!("{} h", hours.round())
    } else {
        format!("{} d", (hours / 24.0).round())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(2.3), "2.3");
        assert_eq!(significant(455.65), "456");
        assert_eq!(significant(0.012_34), "0.0123");
        assert_eq!(significant(2.0), "2");
        assert_eq!(significant(-1.25), "-1.25");
    }

    #[test]
    fn units_and_durations() {
        assert_eq!(format_value(1536.0, "bytes"), "1.5 KB");
        assert_eq!(format_value(12.5, "ms"), "12.5 ms");
        assert_eq!(format_value(2500.0, "ms"), "2.5 s");
        assert_eq!(format_value(3.0, "req/s"), "3 req/s");
        assert_eq!(format_value(3.0, ""), "3");
        assert_eq!(format_duration(Duration::from_secs(90)), "2 min");
        assert_eq!(format_duration(Duration::from_secs(41 * 3600)), "41 h");
        assert_eq!(format_duration(Duration::from_secs(100 * 3600)), "4 d");
    }

    #[test]
    fn degenerate_fits() {
        assert!(fit(&[(1.0, 1.0), (2.0, 2.0)]).is_none());
        assert!(fit(&[(5.0, 1.0), (5.0, 2.0), (5.0, 3.0)]).is_none());
        assert!(fit(&[(1.0, 1.0), (2.0, f64::NAN), (3.0, 3.0)]).is_none());
        let flat = fit(&[(1.0, 4.0), (2.0, 4.0), (3.0, 4.0)]).unwrap();
        assert_eq!((flat.slope_per_hour, flat.r_squared), (0.0, 1.0));
        assert_eq!(flat.time_to_threshold(3.0, 4.0, 9.0), None);
        assert_eq!(
            flat.time_to_threshold(3.0, f64::NAN, 4.0),
            Some(Duration::ZERO)
        );
    }
}
