//! Learning a latency baseline for one operation and classifying new durations against it.
//!
//! * **Learning mode**: until `min_samples` finite samples exist, [`learn`] returns
//!   [`Learning::NotEnoughSamples`] — a baseline from a handful of requests would alert on noise.
//! * **Outliers** are removed before the summary statistics (one cold start or GC pause must not
//!   inflate the p99 everything is later compared with): Tukey fences or the modified z-score
//!   (see [`OutlierMethod`]). Non-finite samples are dropped and counted as outliers.
//! * **Quantiles** are type 7 (linear interpolation, see [`stats::quantile`]); `std_dev` is the
//!   sample standard deviation (n − 1) of the kept samples.
//! * **Confidence** (in `[0, 1]`) says how well the p95 — the value [`classify`] compares
//!   against — is pinned down:
//!
//!   `confidence = (1 − min(1, w)) · min(1, kept / (2 · min_samples))`
//!
//!   where `w = (x₍ᵤ₎ − x₍ₗ₎) / (2 · p95)` is the relative half-width of the distribution-free 95 %
//!   confidence interval of the p95: the order statistics (1-based ranks, clamped to `1..=kept`)
//!   `l = ⌊kept·0.95 − 1.96·√(kept·0.95·0.05)⌋` and `u = ⌈kept·0.95 + 1.96·√(kept·0.95·0.05)⌉`
//!   (normal approximation to the binomial count of samples below the true p95). The second
//!   factor keeps a baseline that only just left learning mode below full confidence even when
//!   its values happen to be tightly clustered. A zero p95 with zero width counts as `w = 0`.

use serde::Serialize;

use super::stats;

/// Default minimum number of samples before a baseline is learned.
pub const DEFAULT_MIN_SAMPLES: usize = 100;

/// How outliers are found before the baseline statistics are computed.
///
/// ```
/// use pathwise_analysis::perf::baseline::OutlierMethod;
/// assert_eq!(OutlierMethod::default(), OutlierMethod::Tukey { k: 1.5 });
/// assert_eq!(OutlierMethod::mad(), OutlierMethod::Mad { threshold: 3.5 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum OutlierMethod {
    /// Drop values outside `[Q1 − k·IQR, Q3 + k·IQR]` (type-7 quartiles); `k = 1.5` is Tukey's.
    Tukey { k: f64 },
    /// Drop values whose modified z-score `0.6745·(x − median)/MAD` exceeds `threshold` in
    /// absolute value (Iglewicz & Hoaglin recommend 3.5). When the MAD is 0 (more than half
    /// the samples equal the median) the mean absolute deviation is used instead, as
    /// `(x − median)/(1.253314·MeanAD)`; if that is 0 too, every sample is identical and kept.
    Mad { threshold: f64 },
}

impl OutlierMethod {
    /// Tukey fences with `k = 1.5`.
    ///
    /// ```
    /// # use pathwise_analysis::perf::baseline::OutlierMethod;
    /// assert_eq!(OutlierMethod::tukey(), OutlierMethod::Tukey { k: 1.5 });
    /// ```
    pub fn tukey() -> Self {
        OutlierMethod::Tukey { k: 1.5 }
    }

    /// Modified z-score with the usual threshold 3.5.
    ///
    /// ```
    /// # use pathwise_analysis::perf::baseline::OutlierMethod;
    /// assert_eq!(OutlierMethod::mad(), OutlierMethod::Mad { threshold: 3.5 });
    /// ```
    pub fn mad() -> Self {
        OutlierMethod::Mad { threshold: 3.5 }
    }

    /// The rule in words, for pages that say why samples were left out.
    ///
    /// ```
    /// # use pathwise_analysis::perf::baseline::OutlierMethod;
    /// assert_eq!(OutlierMethod::tukey().rule(), "outside Q1 − 1.5·IQR … Q3 + 1.5·IQR (Tukey's fences)");
    /// ```
    pub fn rule(&self) -> String {
        match self {
            OutlierMethod::Tukey { k } => {
                format!("outside Q1 − {k}·IQR … Q3 + {k}·IQR (Tukey's fences)")
            }
            OutlierMethod::Mad { threshold } => {
                format!("modified z-score beyond ±{threshold} (median absolute deviation)")
            }
        }
    }
}

impl Default for OutlierMethod {
    fn default() -> Self {
        OutlierMethod::tukey()
    }
}

/// A learned latency baseline, in the caller's unit (ms by convention).
///
/// ```
/// use pathwise_analysis::perf::baseline::{OutlierMethod, learn};
/// let samples: Vec<f64> = (1..=200).map(f64::from).collect();
/// let b = learn(&samples, OutlierMethod::tukey(), 100).unwrap();
/// assert_eq!((b.samples, b.kept, b.outliers), (200, 200, 0));
/// assert!((b.p95 - 190.05).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// Samples given (including non-finite ones).
    pub samples: usize,
    /// Samples left after outlier removal; every statistic below is over these.
    pub kept: usize,
    /// Samples dropped as outliers or because they were not finite.
    pub outliers: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
    pub std_dev: f64,
    /// How well the p95 is pinned down, in `[0, 1]` (formula in the module docs).
    pub confidence: f64,
}

/// Why no baseline could be learned yet.
///
/// ```
/// use pathwise_analysis::perf::baseline::{Learning, OutlierMethod, learn};
/// let err = learn(&[1.0, 2.0], OutlierMethod::tukey(), 100).unwrap_err();
/// assert_eq!(err, Learning::NotEnoughSamples { have: 2, need: 100 });
/// assert_eq!(err.to_string(), "learning: 2 of 100 samples");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Learning {
    #[error("learning: {have} of {need} samples")]
    NotEnoughSamples { have: usize, need: usize },
}

/// Learns a baseline from `samples` (any order), or reports learning mode while fewer than
/// `min_samples` finite samples exist (`min_samples` is treated as at least 1).
///
/// ```
/// use pathwise_analysis::perf::baseline::{OutlierMethod, learn};
/// let b = learn(&[1.0, 2.0, 3.0, 4.0, 100.0], OutlierMethod::tukey(), 5).unwrap();
/// assert_eq!((b.kept, b.outliers), (4, 1)); // 100 is above Q3 + 1.5·IQR = 4 + 3
/// assert_eq!(b.p50, 2.5);
/// ```
pub fn learn(
    samples: &[f64],
    method: OutlierMethod,
    min_samples: usize,
) -> Result<Baseline, Learning> {
    let need = min_samples.max(1);
    let mut finite: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.len() < need {
        return Err(Learning::NotEnoughSamples {
            have: finite.len(),
            need,
        });
    }
    finite.sort_by(f64::total_cmp);
    let kept = remove_outliers(&finite, method);
    let n = kept.len();
    let mean = kept.iter().sum::<f64>() / n as f64;
    let std_dev = if n > 1 {
        (kept.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let p95 = stats::quantile(&kept, 0.95);
    Ok(Baseline {
        samples: samples.len(),
        kept: n,
        outliers: samples.len() - n,
        p50: stats::quantile(&kept, 0.5),
        p95,
        p99: stats::quantile(&kept, 0.99),
        mean,
        std_dev,
        confidence: confidence(&kept, p95, need),
    })
}

/// The sorted values that survive `method` (the input is sorted, so the output is too).
fn remove_outliers(sorted: &[f64], method: OutlierMethod) -> Vec<f64> {
    match method {
        OutlierMethod::Tukey { k } => {
            let q1 = stats::quantile(sorted, 0.25);
            let q3 = stats::quantile(sorted, 0.75);
            let (lo, hi) = (q1 - k * (q3 - q1), q3 + k * (q3 - q1));
            sorted
                .iter()
                .copied()
                .filter(|x| (lo..=hi).contains(x))
                .collect()
        }
        OutlierMethod::Mad { threshold } => {
            let med = stats::quantile(sorted, 0.5);
            let dev: Vec<f64> = sorted.iter().map(|x| (x - med).abs()).collect();
            let mad = stats::median(&dev);
            // 0.6745 = Φ⁻¹(0.75) makes MAD comparable with σ for normal data; 1.2533 = √(π/2)
            // does the same for the mean absolute deviation (Iglewicz & Hoaglin fallback).
            let scale = if mad > 0.0 {
                mad / 0.6745
            } else {
                1.253_314 * dev.iter().sum::<f64>() / dev.len() as f64
            };
            if scale <= 0.0 {
                return sorted.to_vec();
            }
            sorted
                .iter()
                .copied()
                .filter(|x| ((x - med) / scale).abs() <= threshold)
                .collect()
        }
    }
}

/// Confidence of the p95 as documented in the module docs.
fn confidence(sorted: &[f64], p95: f64, min_samples: usize) -> f64 {
    let n = sorted.len() as f64;
    let spread = 1.96 * (n * 0.95 * 0.05).sqrt();
    let rank = |r: f64| (r.clamp(1.0, n) as usize) - 1;
    let lower = sorted[rank((n * 0.95 - spread).floor())];
    let upper = sorted[rank((n * 0.95 + spread).ceil())];
    let width = upper - lower;
    let w = if width == 0.0 {
        0.0
    } else if p95 > 0.0 {
        width / (2.0 * p95)
    } else {
        1.0
    };
    let precision = 1.0 - w.min(1.0);
    let coverage = (n / (2.0 * min_samples as f64)).min(1.0);
    precision * coverage
}

/// How a single duration compares with a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    Normal,
    Warning,
    Critical,
}

/// Classifies `duration` against the baseline p95: `Critical` when it exceeds
/// `critical_factor · p95`, `Warning` when it exceeds `warning_factor · p95`, else `Normal`
/// (strictly greater; usual factors 2.0 and 5.0). A non-finite duration is `Critical`: a
/// measurement that overflowed is not evidence of health.
///
/// ```
/// use pathwise_analysis::perf::baseline::{OutlierMethod, Severity, classify, learn};
/// let b = learn(&vec![10.0; 100], OutlierMethod::tukey(), 100).unwrap();
/// assert_eq!(classify(19.0, &b, 2.0, 5.0), Severity::Normal);
/// assert_eq!(classify(21.0, &b, 2.0, 5.0), Severity::Warning);
/// assert_eq!(classify(51.0, &b, 2.0, 5.0), Severity::Critical);
/// ```
pub fn classify(
    duration: f64,
    baseline: &Baseline,
    warning_factor: f64,
    critical_factor: f64,
) -> Severity {
    if !duration.is_finite() || duration > critical_factor * baseline.p95 {
        Severity::Critical
    } else if duration > warning_factor * baseline.p95 {
        Severity::Warning
    } else {
        Severity::Normal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_mode_counts_only_finite_samples() {
        let s = [1.0, f64::NAN, 2.0, f64::INFINITY];
        assert_eq!(
            learn(&s, OutlierMethod::tukey(), 3),
            Err(Learning::NotEnoughSamples { have: 2, need: 3 })
        );
        let b = learn(&s, OutlierMethod::tukey(), 2).unwrap();
        assert_eq!((b.samples, b.kept, b.outliers), (4, 2, 2));
    }

    #[test]
    fn mad_falls_back_to_mean_absolute_deviation() {
        // Median 5, MAD 0 (four of seven equal 5); MeanAD = (1 + 1 + 40)/7 = 6, scale 7.52:
        // 45 has modified z 5.3 > 3.5 and goes, 4 and 6 stay.
        let s = [5.0, 5.0, 5.0, 5.0, 4.0, 6.0, 45.0];
        let b = learn(&s, OutlierMethod::mad(), 1).unwrap();
        assert_eq!((b.kept, b.outliers), (6, 1));
        let same = learn(&[3.0; 9], OutlierMethod::mad(), 1).unwrap();
        assert_eq!(same.kept, 9);
        assert_eq!(same.std_dev, 0.0);
    }

    #[test]
    fn single_sample_baseline() {
        let b = learn(&[4.0], OutlierMethod::tukey(), 0).unwrap();
        assert_eq!((b.p50, b.p99, b.std_dev), (4.0, 4.0, 0.0));
        assert_eq!(b.confidence, 0.5); // zero width, 1 of 2·1 samples
    }

    #[test]
    fn classify_is_strict_and_rejects_non_finite() {
        let b = learn(&[10.0; 4], OutlierMethod::tukey(), 1).unwrap();
        assert_eq!(classify(20.0, &b, 2.0, 5.0), Severity::Normal);
        assert_eq!(classify(50.0, &b, 2.0, 5.0), Severity::Warning);
        assert_eq!(classify(f64::NAN, &b, 2.0, 5.0), Severity::Critical);
        assert!(Severity::Critical > Severity::Warning);
    }
}
