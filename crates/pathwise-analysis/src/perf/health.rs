//! A 0–100 health score per component (operation, service) and an overall score.
//!
//! # Formula
//!
//! Four signals share 100 points; each earns a fraction `f ∈ [0, 1]` of its weight:
//!
//! | signal | weight | full points | zero points | between |
//! |---|---|---|---|---|
//! | success rate `s` | 40 | error rate ≤ 0.1 % | error rate ≥ 10 % | linear in the error rate |
//! | speed ratio `r` (recent p95 / baseline p95) | 25 | `r ≤ 1.1` | `r ≥ 5` | half lost linearly by `r = 2`, the rest by `r = 5` |
//! | cache hit rate `h` | 15 | `h ≥ 90 %` | `h = 0` | linear |
//! | resource headroom `u` | 20 | `u ≥ 30 %` | `u = 0` | linear |
//!
//! * Why not linear in the success rate: 95 % success is already a serious outage, yet would
//!   keep 38 of 40 points. The speed breakpoints match [`classify`]'s warning (2×) and
//!   critical (5×) factors; the 1.1 tolerance matches the 10 % minimum latency effect.
//! * **Missing signals** (`None`, or NaN) do not count as healthy or unhealthy: their weight is
//!   spread over the present ones in proportion (with only the success rate known, it carries
//!   all 100 points). With no signal at all the score comes from the alerts alone.
//! * Each signal's loss `weight·(1 − f)` is rounded to whole points **before** summing, so the
//!   points in [`Health::reasons`] add up exactly to `100 − score` (unless the floor at 0 hit).
//! * **Active alerts** subtract by severity name (case-insensitive): warning 5, error 10,
//!   critical 20, emergency 30; info/notice/debug 0; any other name counts as a warning,
//!   because an alert was raised. The score is floored at 0.
//! * Levels: Excellent 80–100, Good 60–79, Warning 40–59, Critical 0–39.
//!
//! [`overall`] is the weight-averaged score of components (weights such as traffic share), with
//! one guard: a weighted average would let a small but Critical component vanish, so any
//! Critical component with positive weight caps the overall score at 79 (Good at best).
//!
//! [`classify`]: super::baseline::classify

use serde::Serialize;

/// Inputs for one component; every signal is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HealthInputs {
    /// Successful / total requests, 0..1.
    pub success_rate: Option<f64>,
    /// Recent p95 / baseline p95.
    pub speed_ratio: Option<f64>,
    /// Cache hits / lookups, 0..1.
    pub cache_hit_rate: Option<f64>,
    /// Free share of the tightest resource, 0..1 (e.g. `1 − rss/limit` or `1 − cpu`).
    pub resource_headroom: Option<f64>,
    /// `(severity name, title)` of alerts currently firing.
    pub active_alerts: Vec<(String, String)>,
}

/// Health band of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HealthLevel {
    Excellent,
    Good,
    Warning,
    Critical,
}

impl HealthLevel {
    /// The band containing `score`.
    ///
    /// ```
    /// use pathwise_analysis::perf::health::HealthLevel;
    /// assert_eq!(HealthLevel::from_score(80), HealthLevel::Excellent);
    /// assert_eq!(HealthLevel::from_score(79), HealthLevel::Good);
    /// assert_eq!(HealthLevel::from_score(40), HealthLevel::Warning);
    /// assert_eq!(HealthLevel::from_score(39), HealthLevel::Critical);
    /// ```
    pub fn from_score(score: u8) -> Self {
        match score {
            80.. => HealthLevel::Excellent,
            60..=79 => HealthLevel::Good,
            40..=59 => HealthLevel::Warning,
            _ => HealthLevel::Critical,
        }
    }
}

/// A score with its level and the reasons it is below 100.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub score: u8,
    pub level: HealthLevel,
    /// One line per deduction, each naming the points it cost and why.
    pub reasons: Vec<String>,
}

const SUCCESS_WEIGHT: f64 = 40.0;
const SPEED_WEIGHT: f64 = 25.0;
const CACHE_WEIGHT: f64 = 15.0;
const HEADROOM_WEIGHT: f64 = 20.0;

/// Scores one component by the formula in the module docs.
///
/// ```
/// use pathwise_analysis::perf::health::{HealthInputs, HealthLevel, score};
/// let h = score(&HealthInputs {
///     success_rate: Some(0.95), // 5 % errors: 40 · (0.05 − 0.001)/0.099 ≈ 19.8 → 20 points
///     speed_ratio: Some(1.0),
///     cache_hit_rate: Some(0.95),
///     resource_headroom: Some(0.5),
///     active_alerts: vec![("warning".into(), "slow checkout".into())],
/// });
/// assert_eq!(h.score, 75);
/// assert_eq!(h.level, HealthLevel::Good);
/// assert!(h.reasons[0].contains("cost 20 of 40 points"));
/// assert!(h.reasons[1].contains("cost 5 points"));
/// ```
pub fn score(inputs: &HealthInputs) -> Health {
    let signals = [
        Signal::new("success rate", SUCCESS_WEIGHT, inputs.success_rate, success),
        Signal::new("speed", SPEED_WEIGHT, inputs.speed_ratio, speed),
        Signal::new("cache hit rate", CACHE_WEIGHT, inputs.cache_hit_rate, cache),
        Signal::new(
            "resource headroom",
            HEADROOM_WEIGHT,
            inputs.resource_headroom,
            headroom,
        ),
    ];
    let known_weight: f64 = signals
        .iter()
        .filter(|s| s.value.is_some())
        .map(|s| s.weight)
        .sum();
    let mut reasons = Vec::new();
    let mut lost = 0i64;
    if known_weight == 0.0 {
        reasons.push("no health signals; the score reflects alerts only (cost 0 points)".into());
    }
    for Signal {
        name,
        weight,
        value,
        fraction,
    } in signals
    {
        let Some(v) = value else {
            if known_weight > 0.0 {
                reasons.push(format!(
                    "{name} unknown: its {weight} points are spread over the known signals (cost 0 points)"
                ));
            }
            continue;
        };
        let share = weight * 100.0 / known_weight;
        let points = (share * (1.0 - fraction(v).clamp(0.0, 1.0))).round() as i64;
        if points > 0 {
            lost += points;
            reasons.push(format!(
                "{} cost {points} of {} points",
                describe(name, v),
                share.round()
            ));
        }
    }
    for (severity, title) in &inputs.active_alerts {
        let points = alert_points(severity);
        if points > 0 {
            lost += points;
            reasons.push(format!("{severity} alert \"{title}\" cost {points} points"));
        }
    }
    let score = (100 - lost).clamp(0, 100) as u8;
    Health {
        score,
        level: HealthLevel::from_score(score),
        reasons,
    }
}

/// One input signal: its weight and the fraction of that weight a value keeps.
struct Signal {
    name: &'static str,
    weight: f64,
    value: Option<f64>,
    fraction: fn(f64) -> f64,
}

impl Signal {
    fn new(name: &'static str, weight: f64, value: Option<f64>, fraction: fn(f64) -> f64) -> Self {
        // NaN is as good as unknown: it must not count as healthy or unhealthy.
        Signal {
            name,
            weight,
            value: value.filter(|v| !v.is_nan()),
            fraction,
        }
    }
}

fn success(s: f64) -> f64 {
    (0.10 - (1.0 - s)) / (0.10 - 0.001)
}

fn speed(r: f64) -> f64 {
    if r <= 1.1 {
        1.0
    } else if r <= 2.0 {
        1.0 - 0.5 * (r - 1.1) / 0.9
    } else {
        0.5 - 0.5 * (r - 2.0) / 3.0
    }
}

fn cache(h: f64) -> f64 {
    h / 0.9
}

fn headroom(u: f64) -> f64 {
    u / 0.3
}

fn describe(name: &str, v: f64) -> String {
    match name {
        "success rate" => format!(
            "success rate {:.1}% of calls ({:.1}% of calls failed)",
            v * 100.0,
            (1.0 - v) * 100.0
        ),
        "speed" => format!("p95 at {v:.2}× the baseline"),
        _ => format!("{name} {:.1}%", v * 100.0),
    }
}

/// Points an alert of this severity costs.
fn alert_points(severity: &str) -> i64 {
    match severity.to_ascii_lowercase().as_str() {
        "info" | "notice" | "debug" => 0,
        "error" => 10,
        "critical" | "crit" => 20,
        "emergency" | "fatal" => 30,
        _ => 5,
    }
}

/// Combines component scores, weighting each by its weight (e.g. traffic share; negative or
/// non-finite weights count as 0; if no weight is positive, components count equally). A
/// Critical component with positive weight caps the result at 79. No components: 100.
///
/// ```
/// use pathwise_analysis::perf::health::{Health, HealthLevel, overall};
/// let h = |score| Health { score, level: HealthLevel::from_score(score), reasons: vec![] };
/// let all = overall(&[("api".into(), h(90), 3.0), ("batch".into(), h(50), 1.0)]);
/// assert_eq!(all.score, 80); // (3·90 + 50) / 4
/// assert!(all.reasons[0].starts_with("batch scored 50 (Warning) at 25% weight, cost 13 points"));
/// ```
pub fn overall(components: &[(String, Health, f64)]) -> Health {
    let clean = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
    let mut total: f64 = components.iter().map(|c| clean(c.2)).sum();
    let equal = total == 0.0;
    if equal {
        total = components.len() as f64;
    }
    if components.is_empty() {
        return Health {
            score: 100,
            level: HealthLevel::Excellent,
            reasons: vec!["no components reported (cost 0 points)".into()],
        };
    }
    let weight = |w: f64| if equal { 1.0 } else { clean(w) };
    let mean: f64 = components
        .iter()
        .map(|(_, h, w)| weight(*w) * f64::from(h.score))
        .sum::<f64>()
        / total;
    let mut costs: Vec<(f64, String)> = components
        .iter()
        .filter(|(_, h, w)| h.score < 100 && weight(*w) > 0.0)
        .map(|(name, h, w)| {
            let share = weight(*w) / total;
            let cost = share * f64::from(100 - h.score);
            let text = format!(
                "{name} scored {} ({:?}) at {}% weight, cost {} points",
                h.score,
                h.level,
                (share * 100.0).round(),
                cost.round()
            );
            (cost, text)
        })
        .collect();
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut reasons: Vec<String> = costs.into_iter().map(|c| c.1).collect();
    let mut score = mean.round() as u8;
    let critical = components
        .iter()
        .find(|(_, h, w)| h.level == HealthLevel::Critical && weight(*w) > 0.0);
    if let (Some((name, _, _)), true) = (critical, score > 79) {
        reasons.push(format!(
            "{name} is Critical, which caps the overall score at 79 (cost {} points)",
            score - 79
        ));
        score = 79;
    }
    Health {
        score,
        level: HealthLevel::from_score(score),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_at_breakpoints() {
        assert!((success(0.999) - 1.0).abs() < 1e-12);
        assert!(success(0.90).abs() < 1e-12);
        assert_eq!(speed(1.1), 1.0);
        assert!((speed(2.0) - 0.5).abs() < 1e-12);
        assert!(speed(5.0).abs() < 1e-12);
    }

    #[test]
    fn alert_severity_names() {
        assert_eq!(alert_points("INFO"), 0);
        assert_eq!(alert_points("Warning"), 5);
        assert_eq!(alert_points("error"), 10);
        assert_eq!(alert_points("critical"), 20);
        assert_eq!(alert_points("emergency"), 30);
        assert_eq!(alert_points("page-someone"), 5);
    }

    #[test]
    fn no_signals_scores_alerts_only() {
        let h = score(&HealthInputs {
            active_alerts: vec![("error".into(), "db down".into())],
            ..HealthInputs::default()
        });
        assert_eq!(h.score, 90);
        assert!(h.reasons[0].starts_with("no health signals"));
    }

    #[test]
    fn overall_edge_cases() {
        assert_eq!(overall(&[]).score, 100);
        let h = |s| Health {
            score: s,
            level: HealthLevel::from_score(s),
            reasons: vec![],
        };
        // Zero weights everywhere: equal weights.
        let eq = overall(&[("a".into(), h(60), 0.0), ("b".into(), h(80), f64::NAN)]);
        assert_eq!(eq.score, 70);
    }

    #[test]
    fn overall_weights_and_critical_cap() {
        let h = |s| Health {
            score: s,
            level: HealthLevel::from_score(s),
            reasons: vec![],
        };
        let mixed = overall(&[("api".into(), h(100), 0.5), ("search".into(), h(60), 0.5)]);
        assert_eq!((mixed.score, mixed.level), (80, HealthLevel::Excellent));
        // A Critical component with 5 % of the traffic: the mean is 97, the cap makes it 79.
        let hidden = overall(&[
            ("api".into(), h(100), 95.0),
            ("export".into(), h(40 - 1), 5.0),
        ]);
        assert_eq!((hidden.score, hidden.level), (79, HealthLevel::Good));
        assert!(
            hidden
                .reasons
                .iter()
                .any(|r| r.contains("export is Critical") && r.contains("cost 18 points"))
        );
    }
}
