//! Is the recent window different from the baseline window? Latency (Mann–Whitney U), error
//! rate (two-proportion z-test) and throughput (conditional test of two Poisson rates).
//!
//! Every detector needs **both** statistical significance (`p < alpha`) **and** a practically
//! relevant effect size: with thousands of requests per window, a 1 % latency change is
//! "significant" but not worth paging anyone. Monitoring runs these tests for many operations
//! every minute, so divide `alpha` by the number of tests run together with [`bonferroni`].

use serde::Serialize;

use super::stats;

/// Fewer samples (or events) than this on either side gives `None`: the normal
/// approximations below are not trustworthy on smaller windows.
pub const MIN_WINDOW: usize = 20;

/// Error-rate changes smaller than this (one percentage point) are never flagged.
pub const MIN_ERROR_RATE_CHANGE: f64 = 0.01;

/// Result of [`mann_whitney`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// `U` of the first sample: the number of pairs `(x ∈ a, y ∈ b)` with `x > y`, ties
    /// counting one half. `U_a + U_b = n_a·n_b`.
    pub u: f64,
    /// Standardised `U_a` (tie-corrected, continuity-corrected); positive when `a` tends to
    /// be larger than `b`.
    pub z: f64,
    pub p_two_sided: f64,
}

/// Mann–Whitney U test (Wilcoxon rank-sum) of `a` against `b`, with average ranks for ties and
/// the **normal approximation**: mean `n_a·n_b/2`, tie-corrected variance
/// `n_a·n_b/12 · ((n + 1) − Σ(t³ − t)/(n(n − 1)))` and a continuity correction of ½ toward
/// the mean. The approximation is good once both samples have about 8 or more values; for
/// smaller samples the p-value is only indicative (exact tables would be needed). Non-finite
/// values are ignored. With an empty side or all values tied, `z = 0` and `p = 1`.
///
/// ```
/// use pathwise_analysis::perf::regression::mann_whitney;
/// let a: Vec<f64> = (1..=10).map(f64::from).collect();
/// let b: Vec<f64> = (11..=20).map(f64::from).collect();
/// let r = mann_whitney(&a, &b);
/// assert_eq!(r.u, 0.0);
/// // z = (0 − 50 + ½) / √175
/// assert!((r.z + 49.5 / 175f64.sqrt()).abs() < 1e-12);
/// assert!(r.p_two_sided < 0.001);
/// ```
pub fn mann_whitney(a: &[f64], b: &[f64]) -> MannWhitney {
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .filter(|(x, _)| x.is_finite())
        .collect();
    let na = all.iter().filter(|(_, from_a)| *from_a).count() as f64;
    let nb = all.len() as f64 - na;
    if na == 0.0 || nb == 0.0 {
        return MannWhitney {
            u: 0.0,
            z: 0.0,
            p_two_sided: 1.0,
        };
    }
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let j = i + all[i..].iter().take_while(|(x, _)| *x == all[i].0).count();
        // Ranks i+1..=j share their average.
        let avg = (i + 1 + j) as f64 / 2.0;
        let t = (j - i) as f64;
        ties += t * t * t - t;
        rank_sum_a += avg * all[i..j].iter().filter(|(_, from_a)| *from_a).count() as f64;
        i = j;
    }
    let n = na + nb;
    let u = rank_sum_a - na * (na + 1.0) / 2.0;
    let mean = na * nb / 2.0;
    let var = na * nb / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if var <= 0.0 {
        return MannWhitney {
            u,
            z: 0.0,
            p_two_sided: 1.0,
        };
    }
    let d = u - mean;
    let z = d.signum() * (d.abs() - 0.5).max(0.0) / var.sqrt();
    MannWhitney {
        u,
        z,
        p_two_sided: stats::two_sided_p(z),
    }
}

/// Direction of a latency shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ShiftKind {
    Regression,
    Improvement,
    NoChange,
}

/// Result of [`latency_shift`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shift {
    pub kind: ShiftKind,
    /// Two-sided Mann–Whitney p-value of recent against base.
    pub p_value: f64,
    /// Relative change of the median: `(median_recent − median_base) / median_base`.
    pub effect: f64,
    pub base_median: f64,
    pub recent_median: f64,
}

/// Compares a recent latency window with a baseline window: `Regression` when `p < alpha`
/// and the median grew by at least `min_effect` (e.g. 0.10 = 10 %), `Improvement` when
/// `p < alpha` and it shrank by at least `min_effect`, else `NoChange`. `None` when either side
/// has fewer than [`MIN_WINDOW`] finite samples or the base median is not positive (no
/// relative change can be expressed).
///
/// ```
/// use pathwise_analysis::perf::regression::{ShiftKind, latency_shift};
/// let base: Vec<f64> = (0..200).map(|i| 20.0 + f64::from(i % 10)).collect();
/// let slow: Vec<f64> = base.iter().map(|x| x * 1.5).collect();
/// let s = latency_shift(&base, &slow, 0.01, 0.10).unwrap();
/// assert_eq!(s.kind, ShiftKind::Regression);
/// assert!((s.effect - 0.5).abs() < 1e-12);
/// assert!(latency_shift(&base, &slow[..5], 0.01, 0.10).is_none());
/// ```
pub fn latency_shift(base: &[f64], recent: &[f64], alpha: f64, min_effect: f64) -> Option<Shift> {
    let base: Vec<f64> = base.iter().copied().filter(|x| x.is_finite()).collect();
    let recent: Vec<f64> = recent.iter().copied().filter(|x| x.is_finite()).collect();
    if base.len() < MIN_WINDOW || recent.len() < MIN_WINDOW {
        return None;
    }
    let base_median = stats::median(&base);
    if base_median <= 0.0 {
        return None;
    }
    let recent_median = stats::median(&recent);
    let effect = (recent_median - base_median) / base_median;
    let p_value = mann_whitney(&recent, &base).p_two_sided;
    Some(Shift {
        kind: shift_kind(p_value < alpha, effect, min_effect),
        p_value,
        effect,
        base_median,
        recent_median,
    })
}

/// Compares a recent latency window with a **stored median** (a baseline kept as summary
/// figures, e.g. a pinned one) by the sign test: under "the median is unchanged" the number of
/// recent values above `reference_median` is `Binomial(n, ½)` (values equal to it are
/// dropped), approximated by the normal with a continuity correction,
/// `z = (above − n/2 ∓ ½) / √(n/4)`. Flags like [`latency_shift`]: `p < alpha` and a relative
/// change of the median of at least `min_effect`. `None` with fewer than [`MIN_WINDOW`]
/// finite values or a reference median that is not positive.
///
/// ```
/// use pathwise_analysis::perf::regression::{ShiftKind, median_shift};
/// let slow: Vec<f64> = (0..100).map(|i| 26.0 + f64::from(i % 10) * 0.1).collect();
/// let s = median_shift(20.0, &slow, 0.01, 0.10).unwrap();
/// assert_eq!(s.kind, ShiftKind::Regression);
/// assert!((s.effect - 0.3225).abs() < 1e-9); // median 26.45 against 20
/// ```
pub fn median_shift(
    reference_median: f64,
    recent: &[f64],
    alpha: f64,
    min_effect: f64,
) -> Option<Shift> {
    let recent: Vec<f64> = recent.iter().copied().filter(|x| x.is_finite()).collect();
    // (NaN is not positive either.)
    if recent.len() < MIN_WINDOW || reference_median.is_nan() || reference_median <= 0.0 {
        return None;
    }
    let above = recent.iter().filter(|&&x| x > reference_median).count() as f64;
    let below = recent.iter().filter(|&&x| x < reference_median).count() as f64;
    let n = above + below;
    let p_value = if n == 0.0 {
        1.0
    } else {
        let d = above - n / 2.0;
        stats::two_sided_p(d.signum() * (d.abs() - 0.5).max(0.0) / (n / 4.0).sqrt())
    };
    let recent_median = stats::median(&recent);
    let effect = (recent_median - reference_median) / reference_median;
    Some(Shift {
        kind: shift_kind(p_value < alpha, effect, min_effect),
        p_value,
        effect,
        base_median: reference_median,
        recent_median,
    })
}

fn shift_kind(significant: bool, effect: f64, min_effect: f64) -> ShiftKind {
    match direction(significant, effect, min_effect) {
        RateChange::Increase => ShiftKind::Regression,
        RateChange::Decrease => ShiftKind::Improvement,
        RateChange::NoChange => ShiftKind::NoChange,
    }
}

/// Direction of a rate shift. For error rates an `Increase` is the regression; for
/// throughput either direction may matter (a drop often means lost traffic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RateChange {
    Increase,
    Decrease,
    NoChange,
}

/// What an error rate is a rate of: failed calls among all calls of the operation.
pub const ERROR_RATE_OF: &str = "failed calls / calls";
/// What a throughput is a rate of: calls of the operation per second.
pub const THROUGHPUT_OF: &str = "calls / second";

/// Result of [`error_rate_shift`] and [`throughput_shift`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateShift {
    pub change: RateChange,
    pub p_value: f64,
    /// The test statistic; positive when the recent rate is higher.
    pub z: f64,
    /// What the rates are a rate of: [`ERROR_RATE_OF`] or [`THROUGHPUT_OF`].
    pub rate_of: &'static str,
    /// Error proportion (0..1) or events per second.
    pub base_rate: f64,
    pub recent_rate: f64,
    /// `recent_rate − base_rate`.
    pub absolute_change: f64,
    /// `(recent_rate − base_rate) / base_rate`; `None` when the base rate is 0.
    pub relative_change: Option<f64>,
}

/// Two-proportion z-test with the pooled proportion `p̂ = (e₁ + e₂)/(n₁ + n₂)`:
/// `z = (p₂ − p₁) / √(p̂(1 − p̂)(1/n₁ + 1/n₂))`. Flags `Increase`/`Decrease` only when
/// `p < alpha` **and** the rate moved by at least [`MIN_ERROR_RATE_CHANGE`] (1 percentage
/// point), so 2.0 % → 2.2 % over millions of requests stays quiet. `None` when either total
/// is below [`MIN_WINDOW`] or errors exceed the total. No errors at all gives `NoChange`, p = 1.
///
/// ```
/// use pathwise_analysis::perf::regression::{RateChange, error_rate_shift};
/// let s = error_rate_shift(20, 1000, 60, 1000, 0.01).unwrap();
/// assert_eq!(s.change, RateChange::Increase);
/// assert!((s.absolute_change - 0.04).abs() < 1e-12);
/// ```
pub fn error_rate_shift(
    base_errors: u64,
    base_total: u64,
    recent_errors: u64,
    recent_total: u64,
    alpha: f64,
) -> Option<RateShift> {
    let min = MIN_WINDOW as u64;
    if base_total < min || recent_total < min || base_errors > base_total {
        return None;
    }
    if recent_errors > recent_total {
        return None;
    }
    let (n1, n2) = (base_total as f64, recent_total as f64);
    let (p1, p2) = (base_errors as f64 / n1, recent_errors as f64 / n2);
    let pooled = (base_errors + recent_errors) as f64 / (n1 + n2);
    let var = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    let z = if var > 0.0 {
        (p2 - p1) / var.sqrt()
    } else {
        0.0
    };
    let p_value = stats::two_sided_p(z);
    let diff = p2 - p1;
    Some(RateShift {
        change: direction(p_value < alpha, diff, MIN_ERROR_RATE_CHANGE),
        rate_of: ERROR_RATE_OF,
        p_value,
        z,
        base_rate: p1,
        recent_rate: p2,
        absolute_change: diff,
        relative_change: (p1 > 0.0).then(|| diff / p1),
    })
}

/// Compares two event rates (`count / seconds`), e.g. requests per second, by the
/// **conditional binomial test** for two Poisson rates: given `N = c₁ + c₂` events, under
/// equal rates the recent count is `Binomial(N, π₀)` with `π₀ = t₂/(t₁ + t₂)`. The binomial
/// is approximated by the normal with a continuity correction,
/// `z = (c₂ − Nπ₀ ∓ ½) / √(Nπ₀(1 − π₀))`, fine once `Nπ₀(1 − π₀)` is about 5 or more.
/// Flags a change only when `p < alpha` **and** the relative rate change is at least
/// `min_effect` (a zero base rate with recent events counts as an infinite increase). `None`
/// when a duration is not positive and finite or fewer than [`MIN_WINDOW`] events were seen
/// in total.
///
/// ```
/// use pathwise_analysis::perf::regression::{RateChange, throughput_shift};
/// // 100 req/s for 10 minutes, then 60 req/s for one minute.
/// let s = throughput_shift(60_000, 600.0, 3_600, 60.0, 0.01, 0.2).unwrap();
/// assert_eq!(s.change, RateChange::Decrease);
/// assert!((s.relative_change.unwrap() + 0.4).abs() < 1e-12);
/// ```
pub fn throughput_shift(
    base_count: u64,
    base_seconds: f64,
    recent_count: u64,
    recent_seconds: f64,
    alpha: f64,
    min_effect: f64,
) -> Option<RateShift> {
    let valid = |t: f64| t.is_finite() && t > 0.0;
    let total = base_count + recent_count;
    if !valid(base_seconds) || !valid(recent_seconds) || total < MIN_WINDOW as u64 {
        return None;
    }
    let n = total as f64;
    let pi0 = recent_seconds / (base_seconds + recent_seconds);
    let d = recent_count as f64 - n * pi0;
    let z = d.signum() * (d.abs() - 0.5).max(0.0) / (n * pi0 * (1.0 - pi0)).sqrt();
    let p_value = stats::two_sided_p(z);
    let (r1, r2) = (
        base_count as f64 / base_seconds,
        recent_count as f64 / recent_seconds,
    );
    let relative = if r1 > 0.0 {
        (r2 - r1) / r1
    } else {
        f64::INFINITY
    };
    Some(RateShift {
        change: direction(p_value < alpha, relative, min_effect),
        rate_of: THROUGHPUT_OF,
        p_value,
        z,
        base_rate: r1,
        recent_rate: r2,
        absolute_change: r2 - r1,
        relative_change: (r1 > 0.0).then_some(relative),
    })
}

fn direction(significant: bool, effect: f64, min_effect: f64) -> RateChange {
    if significant && effect >= min_effect {
        RateChange::Increase
    } else if significant && effect <= -min_effect {
        RateChange::Decrease
    } else {
        RateChange::NoChange
    }
}

/// Bonferroni-corrected per-test significance level `alpha / tests` (a `tests` of 0 counts as
/// 1): with 200 operations checked every minute at 0.01 each, about two false alarms a minute
/// would be expected; at `bonferroni(0.01, 200)` the chance of any false alarm in one round is
/// at most 1 %.
///
/// ```
/// use pathwise_analysis::perf::regression::bonferroni;
/// assert_eq!(bonferroni(0.01, 200), 0.00005);
/// assert_eq!(bonferroni(0.05, 0), 0.05);
/// ```
pub fn bonferroni(alpha: f64, tests: usize) -> f64 {
    alpha / tests.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// U by its definition: count the pairs.
    fn u_by_pairs(a: &[f64], b: &[f64]) -> f64 {
        let mut u = 0.0;
        for x in a {
            for y in b {
                u += if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
            }
        }
        u
    }

    #[test]
    fn u_matches_pair_count_with_ties() {
        let a = [1.0, 2.0, 2.0, 3.0, 5.0, 5.0];
        let b = [2.0, 3.0, 4.0, 5.0];
        assert_eq!(mann_whitney(&a, &b).u, u_by_pairs(&a, &b));
        assert_eq!(mann_whitney(&b, &a).u, u_by_pairs(&b, &a));
    }

    #[test]
    fn degenerate_inputs() {
        let r = mann_whitney(&[], &[1.0]);
        assert_eq!((r.z, r.p_two_sided), (0.0, 1.0));
        let r = mann_whitney(&[2.0; 5], &[2.0; 7]);
        assert_eq!((r.u, r.z, r.p_two_sided), (17.5, 0.0, 1.0));
        assert!(error_rate_shift(0, 0, 1, 100, 0.01).is_none());
        assert!(error_rate_shift(5, 100, 101, 100, 0.01).is_none());
        let none = error_rate_shift(0, 100, 0, 100, 0.01).unwrap();
        assert_eq!((none.change, none.p_value), (RateChange::NoChange, 1.0));
        assert!(throughput_shift(10, 0.0, 10, 1.0, 0.01, 0.1).is_none());
        assert!(throughput_shift(5, 1.0, 5, 1.0, 0.01, 0.1).is_none());
    }

    #[test]
    fn throughput_from_zero_is_an_increase() {
        let s = throughput_shift(0, 60.0, 100, 60.0, 0.01, 0.1).unwrap();
        assert_eq!(s.change, RateChange::Increase);
        assert_eq!(s.relative_change, None);
    }

    #[test]
    fn mann_whitney_symmetries() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a: Vec<f64> = (0..37)
            .map(|_| (rng.random::<f64>() * 20.0).round())
            .collect();
        let b: Vec<f64> = (0..23)
            .map(|_| (rng.random::<f64>() * 20.0).round() + 2.0)
            .collect();
        let (ab, ba) = (mann_whitney(&a, &b), mann_whitney(&b, &a));
        assert_eq!(ab.u + ba.u, 37.0 * 23.0);
        assert!((ab.z + ba.z).abs() < 1e-12);
        assert!((ab.p_two_sided - ba.p_two_sided).abs() < 1e-15);
        // Ranks ignore monotone transformations applied to both samples.
        let f = |v: &[f64]| v.iter().map(|x| 3.0 * x + 100.0).collect::<Vec<_>>();
        assert_eq!(mann_whitney(&f(&a), &f(&b)), ab);
        assert!(mann_whitney(&a, &a).p_two_sided > 0.99);
    }
}
