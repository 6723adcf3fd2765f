//! How cost grows as work grows: a power law `duration ≈ c · sizeᵇ` fitted to calls of one
//! operation, whose exponent `b` is the growth order ("≈ O(n^1.9)").
//!
//! **Fit.** Ordinary least squares of `ln(duration)` on `ln(size)` over every point with a
//! size and a duration above zero ([`trend::fit`], the same OLS the trends use). The slope is
//! the exponent, `e^intercept` the duration at size 1. Every call is one point; they are
//! deliberately **not** reduced to a median per size first: the logarithm already turns
//! multiplicative noise (a cache miss, a slow disk) into additive noise, and bucketing would
//! leave five points for a five-size load test, whose interval would then say little. A
//! constant overhead next to the growing part (a connection set-up, say) pulls the exponent
//! down at small sizes: sizes should reach where the growing part dominates.
//!
//! **Interval.** `b ± t · se`, with `se` the usual standard error of an OLS slope and `t` the
//! two-sided 95 % quantile of Student's t with `n − 2` degrees of freedom
//! ([`stats::student_t_quantile`], exact rather than the normal 1.96).
//!
//! **Refusals** ([`Refusal`]): fewer than [`MIN_POINTS`] usable points, fewer than
//! [`MIN_DISTINCT_SIZES`] distinct sizes, or sizes that span less than a factor of
//! [`MIN_SIZE_RATIO`]: an exponent read off sizes 100 to 120 is noise, not a growth order.
//!
//! **Growth** ([`Growth::classify`], on the interval, so noise alone is never called a
//! finding): super-linear when the whole interval lies above [`SUPER_LINEAR_ABOVE`] (1.1),
//! sub-linear when it lies below [`SUB_LINEAR_BELOW`] (0.9), linear when it lies within
//! `1 ± LINEAR_WITHIN` (0.8–1.2), inconclusive otherwise (too wide, or straddling a boundary).
//!
//! ```
//! use pathwise_analysis::perf::scaling::{Growth, fit_power_law};
//! // Twelve calls whose duration is 3 µs · n².
//! let points: Vec<(f64, f64)> = [10.0, 20.0, 40.0, 80.0, 160.0, 320.0].iter()
//!     .flat_map(|&n| [(n, 0.003 * n * n), (n, 0.003 * n * n)])
//!     .collect();
//! let fit = fit_power_law(&points).unwrap();
//! assert!((fit.exponent - 2.0).abs() < 1e-9);
//! assert_eq!(fit.growth, Growth::SuperLinear);
//! assert_eq!(fit.complexity, "O(n^2)");
//! ```
//!
//! [`trend::fit`]: super::trend::fit
//! [`stats::student_t_quantile`]: super::stats::student_t_quantile

use serde::Serialize;

use super::forecast::slope_standard_error;
use super::stats::student_t_quantile;
use super::trend;

/// Confidence level of the exponent's interval.
pub const CONFIDENCE: f64 = 0.95;
/// Fewest usable points an exponent is fitted to.
pub const MIN_POINTS: usize = 10;
/// Fewest distinct sizes: two would fit any exponent through two clouds of points.
pub const MIN_DISTINCT_SIZES: usize = 3;
/// Smallest ratio of the largest size to the smallest.
pub const MIN_SIZE_RATIO: f64 = 4.0;
/// Super-linear: the interval's lower bound is above this.
pub const SUPER_LINEAR_ABOVE: f64 = 1.1;
/// Sub-linear: the interval's upper bound is below this.
pub const SUB_LINEAR_BELOW: f64 = 0.9;
/// Linear: the whole interval is within this distance of 1.
pub const LINEAR_WITHIN: f64 = 0.2;

/// What the exponent's interval says about growth; rules in the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Growth {
    SubLinear,
    Linear,
    SuperLinear,
    Inconclusive,
}

impl Growth {
    /// Classifies an exponent by its confidence interval `[low, high]`.
    ///
    /// ```
    /// use pathwise_analysis::perf::scaling::Growth;
    /// assert_eq!(Growth::classify(1.85, 1.95), Growth::SuperLinear);
    /// assert_eq!(Growth::classify(0.95, 1.05), Growth::Linear);
    /// assert_eq!(Growth::classify(0.4, 0.6), Growth::SubLinear);
    /// assert_eq!(Growth::classify(0.7, 1.6), Growth::Inconclusive);
    /// ```
    pub fn classify(low: f64, high: f64) -> Growth {
        if low > SUPER_LINEAR_ABOVE {
            Growth::SuperLinear
        } else if high < SUB_LINEAR_BELOW {
            Growth::SubLinear
        } else if low >= 1.0 - LINEAR_WITHIN && high <= 1.0 + LINEAR_WITHIN {
            Growth::Linear
        } else {
            Growth::Inconclusive
        }
    }

    /// The class in words, as reports print it.
    ///
    /// ```
    /// use pathwise_analysis::perf::scaling::Growth;
    /// assert_eq!(Growth::SuperLinear.words(), "super-linear");
    /// ```
    pub fn words(self) -> &'static str {
        match self {
            Growth::SubLinear => "sub-linear",
            Growth::Linear => "linear",
            Growth::SuperLinear => "super-linear",
            Growth::Inconclusive => "inconclusive",
        }
    }
}

/// A fitted power law `duration ≈ coefficient · size^exponent`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PowerLaw {
    /// The growth exponent: the slope of ln(duration) on ln(size).
    pub exponent: f64,
    /// Standard error of the exponent.
    pub standard_error: f64,
    /// The exponent's confidence interval at [`PowerLaw::confidence`].
    pub ci_low: f64,
    pub ci_high: f64,
    pub confidence: f64,
    /// Fitted duration at size 1, in the unit of the durations given.
    pub coefficient: f64,
    /// Coefficient of determination of the log-log fit.
    pub r_squared: f64,
    /// Points fitted.
    pub points: usize,
    pub distinct_sizes: usize,
    pub min_size: f64,
    pub max_size: f64,
    pub growth: Growth,
    /// `growth == SuperLinear`: the flag dashboards and reports raise.
    pub super_linear: bool,
    /// The exponent as a growth order: `O(n^1.9)` ([`complexity`]).
    pub complexity: String,
    /// One line: `≈ O(n^2) (exponent 1.98, 95 % CI 1.95–2.01, r² 0.99, 120 spans): super-linear`.
    pub summary: String,
}

impl PowerLaw {
    /// The fitted duration at `size`.
    ///
    /// ```
    /// use pathwise_analysis::perf::scaling::fit_power_law;
    /// let pts: Vec<(f64, f64)> = (1..=12).map(|i| (f64::from(i), 5.0 * f64::from(i))).collect();
    /// assert!((fit_power_law(&pts).unwrap().predict(100.0) - 500.0).abs() < 1e-6);
    /// ```
    pub fn predict(&self, size: f64) -> f64 {
        self.coefficient * size.powf(self.exponent)
    }
}

/// Why no exponent is given.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    #[error(
        "only {points} usable calls (size and duration above 0); an exponent needs at least {need}"
    )]
    TooFewPoints { points: usize, need: usize },
    #[error("only {distinct} distinct sizes; an exponent needs at least {need}")]
    TooFewSizes { distinct: usize, need: usize },
    #[error(
        "sizes span only {min}–{max} (a factor of {ratio:.1}); an exponent needs at least a factor of {need}"
    )]
    NarrowRange {
        min: f64,
        max: f64,
        ratio: f64,
        need: f64,
    },
}

/// The exponent as a growth order, rounded to one decimal: `O(1)`, `O(n)`, `O(n^2)`,
/// `O(n^1.9)`, `O(n^-0.5)`.
///
/// ```
/// use pathwise_analysis::perf::scaling::complexity;
/// assert_eq!(complexity(1.93), "O(n^1.9)");
/// assert_eq!(complexity(1.02), "O(n)");
/// assert_eq!(complexity(2.04), "O(n^2)");
/// assert_eq!(complexity(0.03), "O(1)");
/// ```
pub fn complexity(exponent: f64) -> String {
    let rounded = (exponent * 10.0).round() / 10.0;
    if rounded == 0.0 {
        "O(1)".into()
    } else if rounded == 1.0 {
        "O(n)".into()
    } else if rounded.fract() == 0.0 {
        format!("O(n^{rounded:.0})")
    } else {
        format!("O(n^{rounded:.1})")
    }
}

/// Fits `duration ≈ c · size^b` to `(size, duration)` points by the rules in the module docs;
/// points whose size or duration is not a finite number above zero are left out.
///
/// ```
/// use pathwise_analysis::perf::scaling::{Refusal, fit_power_law};
/// let narrow: Vec<(f64, f64)> = (0..20).map(|i| (100.0 + f64::from(i), 1.0)).collect();
/// assert!(matches!(fit_power_law(&narrow), Err(Refusal::NarrowRange { .. })));
/// ```
pub fn fit_power_law(points: &[(f64, f64)]) -> Result<PowerLaw, Refusal> {
    let usable = |v: f64| v.is_finite() && v > 0.0;
    let kept: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(size, duration)| usable(*size) && usable(*duration))
        .collect();
    if kept.len() < MIN_POINTS {
        return Err(Refusal::TooFewPoints {
            points: kept.len(),
            need: MIN_POINTS,
        });
    }
    let mut sizes: Vec<f64> = kept.iter().map(|p| p.0).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    let distinct_sizes = sizes.len();
    if distinct_sizes < MIN_DISTINCT_SIZES {
        return Err(Refusal::TooFewSizes {
            distinct: distinct_sizes,
            need: MIN_DISTINCT_SIZES,
        });
    }
    let (min_size, max_size) = (sizes[0], sizes[distinct_sizes - 1]);
    let ratio = max_size / min_size;
    if ratio < MIN_SIZE_RATIO {
        return Err(Refusal::NarrowRange {
            min: min_size,
            max: max_size,
            ratio,
            need: MIN_SIZE_RATIO,
        });
    }
    let logs: Vec<(f64, f64)> = kept.iter().map(|(s, d)| (s.ln(), d.ln())).collect();
    // `trend::fit` takes x as seconds and reports its slope per hour.
    let line = trend::fit(&logs).ok_or(Refusal::TooFewSizes {
        distinct: distinct_sizes,
        need: MIN_DISTINCT_SIZES,
    })?;
    let exponent = line.slope_per_hour / 3600.0;
    let standard_error = slope_standard_error(&logs);
    let half_width = student_t_quantile(CONFIDENCE, (logs.len() - 2) as u64) * standard_error;
    let (ci_low, ci_high) = (exponent - half_width, exponent + half_width);
    let growth = Growth::classify(ci_low, ci_high);
    let complexity = complexity(exponent);
    let summary = format!(
        "≈ {complexity} (exponent {exponent:.2}, {:.0} % CI {ci_low:.2}–{ci_high:.2}, r² {:.2}, {} calls): {}",
        CONFIDENCE * 100.0,
        line.r_squared,
        logs.len(),
        growth.words()
    );
    Ok(PowerLaw {
        exponent,
        standard_error,
        ci_low,
        ci_high,
        confidence: CONFIDENCE,
        coefficient: line.intercept.exp(),
        r_squared: line.r_squared,
        points: logs.len(),
        distinct_sizes,
        min_size,
        max_size,
        growth,
        super_linear: growth == Growth::SuperLinear,
        complexity,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// `per_size` calls at each of the sizes 10…320 lasting `k · nᵇ` times log-normal noise
    /// (σ = 0.25 in log space: a call 28 % slower or faster than the trend is ordinary).
    fn workload(exponent: f64, per_size: usize, seed: u64) -> Vec<(f64, f64)> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut points = Vec::new();
        for size in [10.0_f64, 20.0, 40.0, 80.0, 160.0, 320.0] {
            for _ in 0..per_size {
                // Box–Muller: a standard normal from two uniforms.
                let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
                let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                points.push((size, 0.004 * size.powf(exponent) * (0.25 * normal).exp()));
            }
        }
        points
    }

    #[test]
    fn linear_and_quadratic_work_are_told_apart() {
        for seed in 1..=20 {
            let linear = fit_power_law(&workload(1.0, 40, seed)).unwrap();
            let quadratic = fit_power_law(&workload(2.0, 40, seed)).unwrap();
            for (fit, truth) in [(&linear, 1.0), (&quadratic, 2.0)] {
                assert!(
                    (fit.exponent - truth).abs() < 0.1,
                    "seed {seed}: exponent {} for {truth}",
                    fit.exponent
                );
                assert_eq!((fit.points, fit.distinct_sizes), (240, 6));
            }
            assert_eq!(linear.growth, Growth::Linear, "{}", linear.summary);
            assert!(!linear.super_linear);
            assert_eq!(linear.complexity, "O(n)");
            assert_eq!(
                quadratic.growth,
                Growth::SuperLinear,
                "{}",
                quadratic.summary
            );
            assert!(quadratic.super_linear);
            assert_eq!(quadratic.complexity, "O(n^2)");
            assert!(quadratic.summary.contains("super-linear"));
        }
        let linear = fit_power_law(&workload(1.0, 40, 42)).unwrap();
        let quadratic = fit_power_law(&workload(2.0, 40, 42)).unwrap();
        assert!(
            linear.ci_low <= 1.0 && 1.0 <= linear.ci_high,
            "{}",
            linear.summary
        );
        assert!(
            quadratic.ci_low <= 2.0 && 2.0 <= quadratic.ci_high,
            "{}",
            quadratic.summary
        );
    }

    /// A 95 % interval must miss the true exponent about one time in twenty, no more and no
    /// less: over 400 seeded workloads of each exponent it covers it 92–98 % of the time.
    #[test]
    fn the_interval_covers_the_truth_as_often_as_it_claims() {
        for truth in [1.0, 2.0] {
            let covered = (0..400)
                .filter(|&seed| {
                    let fit = fit_power_law(&workload(truth, 10, 1000 + seed)).unwrap();
                    fit.ci_low <= truth && truth <= fit.ci_high
                })
                .count();
            let rate = covered as f64 / 400.0;
            assert!(
                (0.92..=0.98).contains(&rate),
                "exponent {truth}: covered {rate}"
            );
        }
    }

    #[test]
    fn exact_power_laws_are_recovered_exactly() {
        let points: Vec<(f64, f64)> = (1..=20)
            .map(|i| (f64::from(i), 2.5 * f64::from(i).powf(1.5)))
            .collect();
        let fit = fit_power_law(&points).unwrap();
        assert!((fit.exponent - 1.5).abs() < 1e-9);
        assert!((fit.coefficient - 2.5).abs() < 1e-9);
        assert!(fit.standard_error < 1e-9 && (fit.r_squared - 1.0).abs() < 1e-12);
        assert_eq!(fit.growth, Growth::SuperLinear);
        assert_eq!(fit.complexity, "O(n^1.5)");
        assert!((fit.predict(4.0) - 20.0).abs() < 1e-6);
    }

    #[test]
    fn the_interval_uses_students_t() {
        // Ten points: 8 degrees of freedom, t = 2.306, not the normal 1.96.
        let points: Vec<(f64, f64)> = (1..=10)
            .map(|i| {
                let wobble = if i % 2 == 0 { 1.1 } else { 0.9 };
                (f64::from(i), f64::from(i) * wobble)
            })
            .collect();
        let fit = fit_power_law(&points).unwrap();
        let half = (fit.ci_high - fit.ci_low) / 2.0;
        assert!((half / fit.standard_error - 2.306_004_135_204_166_7).abs() < 1e-9);
    }

    #[test]
    fn degenerate_inputs_are_refused_with_reasons() {
        let few: Vec<(f64, f64)> = (1..=9).map(|i| (f64::from(i), 1.0)).collect();
        let refusal = fit_power_law(&few).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::TooFewPoints {
                points: 9,
                need: 10
            }
        );
        assert!(refusal.to_string().contains("at least 10"));

        // Zero, negative and non-finite points do not count.
        let mut unusable = few.clone();
        unusable.extend([
            (0.0, 1.0),
            (5.0, 0.0),
            (-3.0, 2.0),
            (f64::NAN, 1.0),
            (2.0, f64::INFINITY),
        ]);
        assert!(matches!(
            fit_power_law(&unusable),
            Err(Refusal::TooFewPoints { points: 9, .. })
        ));

        let two_sizes: Vec<(f64, f64)> = (0..20)
            .map(|i| (if i % 2 == 0 { 1.0 } else { 100.0 }, 1.0))
            .collect();
        let refusal = fit_power_law(&two_sizes).unwrap_err();
        assert_eq!(
            refusal,
            Refusal::TooFewSizes {
                distinct: 2,
                need: 3
            }
        );

        let narrow: Vec<(f64, f64)> = (0..30).map(|i| (10.0 + f64::from(i % 3), 1.0)).collect();
        let refusal = fit_power_law(&narrow).unwrap_err();
        assert!(matches!(refusal, Refusal::NarrowRange { .. }));
        assert!(refusal.to_string().contains("factor of 1.2"), "{refusal}");
        assert_eq!(
            serde_json::to_value(&refusal).unwrap()["refusal"],
            "narrow_range"
        );
    }

    #[test]
    fn growth_boundaries() {
        assert_eq!(Growth::classify(1.11, 1.3), Growth::SuperLinear);
        assert_eq!(Growth::classify(1.05, 1.3), Growth::Inconclusive);
        assert_eq!(Growth::classify(0.8, 1.2), Growth::Linear);
        assert_eq!(Growth::classify(0.5, 0.89), Growth::SubLinear);
        assert_eq!(Growth::classify(0.0, 3.0), Growth::Inconclusive);
        assert_eq!(complexity(-0.46), "O(n^-0.5)");
        assert_eq!(complexity(2.96), "O(n^3)");
    }
}
