//! Small numeric building blocks shared by the `perf` modules: quantiles, the median, the
//! complementary error function, the standard normal distribution and Student's t quantiles.
//!
//! Everything is written here rather than taken from a statistics crate so the exact
//! definitions (quantile type, tail accuracy) are visible and tested in one place.

/// Quantile `p` (in `[0, 1]`) of an already **sorted** slice, by linear interpolation between
/// order statistics: Hyndman & Fan type 7 (the default of R, NumPy and Excel's
/// `PERCENTILE.INC`). With `h = (n − 1)·p`, the result is `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`
/// (0-based). Returns NaN for an empty slice; `p` is clamped to `[0, 1]`.
///
/// ```
/// use pathwise_analysis::perf::stats::quantile;
/// let x = [1.0, 2.0, 3.0, 4.0, 100.0];
/// assert_eq!(quantile(&x, 0.25), 2.0);
/// assert_eq!(quantile(&x, 0.5), 3.0);
/// // h = 4 · 0.95 = 3.8 → 4 + 0.8 · (100 − 4)
/// assert!((quantile(&x, 0.95) - 80.8).abs() < 1e-12);
/// ```
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The median (type-7 quantile 0.5) of unsorted values; NaN when empty. Sorts a copy.
///
/// ```
/// use pathwise_analysis::perf::stats::median;
/// assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
/// ```
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// Complementary error function `erfc(x) = 1 − erf(x)`, by W. J. Cody's rational Chebyshev
/// approximations ("Rational Chebyshev approximations for the error function", Math. Comp. 23,
/// 1969; coefficients of the SPECFUN routine CALERF). Relative error is around 1e-16 over the
/// whole range, which matters here: p-values are compared against Bonferroni-corrected
/// thresholds far below the 1.5e-7 absolute error of Abramowitz–Stegun 7.1.26.
///
/// ```
/// use pathwise_analysis::perf::stats::erfc;
/// assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 1e-15);
/// assert!((erfc(5.0) / 1.537_459_794_428_035e-12 - 1.0).abs() < 1e-12);
/// ```
// The coefficients are copied digit for digit from CALERF so they can be checked against it.
#[allow(clippy::excessive_precision)]
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let y = x.abs();
    let r = if y <= 0.468_75 {
        // Near zero erf itself is approximated; erfc = 1 − erf loses nothing here.
        const A: [f64; 5] = [
            3.16112374387056560e00,
            1.13864154151050156e02,
            3.77485237685302021e02,
            3.20937758913846947e03,
            1.85777706184603153e-1,
        ];
        const B: [f64; 4] = [
            2.36012909523441209e01,
            2.44024637934444173e02,
            1.28261652607737228e03,
            2.84423683343917062e03,
        ];
        let ysq = y * y;
        let mut num = A[4] * ysq;
        let mut den = ysq;
        for i in 0..3 {
            num = (num + A[i]) * ysq;
            den = (den + B[i]) * ysq;
        }
        return 1.0 - x * (num + A[3]) / (den + B[3]);
    } else if y <= 4.0 {
        const C: [f64; 9] = [
            5.64188496988670089e-1,
            8.88314979438837594e00,
            6.61191906371416295e01,
            2.98635138197400131e02,
            8.81952221241769090e02,
            1.71204761263407058e03,
            2.05107837782607147e03,
            1.23033935479799725e03,
            2.15311535474403846e-8,
        ];
        const D: [f64; 8] = [
            1.57449261107098347e01,
            1.17693950891312499e02,
            5.37181101862009858e02,
            1.62138957456669019e03,
            3.29079923573345963e03,
            4.36261909014324716e03,
            3.43936767414372164e03,
            1.23033935480374942e03,
        ];
        let mut num = C[8] * y;
        let mut den = y;
        for i in 0..7 {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        (num + C[7]) / (den + D[7]) * exp_neg_square(y)
    } else if y >= 26.543 {
        // Below the smallest positive double.
        0.0
    } else {
        const P: [f64; 6] = [
            3.05326634961232344e-1,
            3.60344899949804439e-1,
            1.25781726111229246e-1,
            1.60837851487422766e-2,
            6.58749161529837803e-4,
            1.63153871373020978e-2,
        ];
        const Q: [f64; 5] = [
            2.56852019228982242e00,
            1.87295284992346047e00,
            5.27905102951428412e-1,
            6.05183413124413191e-2,
            2.33520497626869185e-3,
        ];
        const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
        let ysq = 1.0 / (y * y);
        let mut num = P[5] * ysq;
        let mut den = ysq;
        for i in 0..4 {
            num = (num + P[i]) * ysq;
            den = (den + Q[i]) * ysq;
        }
        let r = ysq * (num + P[4]) / (den + Q[4]);
        (FRAC_1_SQRT_PI - r) / y * exp_neg_square(y)
    };
    if x < 0.0 { 2.0 - r } else { r }
}

/// `exp(−y²)` computed as Cody does, splitting `y` at a multiple of 1/16 so the square of the
/// rounded part is exact and the tail keeps full relative precision.
fn exp_neg_square(y: f64) -> f64 {
    let ysq = (y * 16.0).trunc() / 16.0;
    let del = (y - ysq) * (y + ysq);
    (-ysq * ysq).exp() * (-del).exp()
}

/// Standard normal cumulative distribution `Φ(z) = erfc(−z/√2)/2`.
///
/// ```
/// use pathwise_analysis::perf::stats::normal_cdf;
/// assert!((normal_cdf(1.96) - 0.975_002_104_851_779_5).abs() < 1e-15);
/// ```
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Two-sided p-value of a standard normal statistic: `P(|Z| ≥ |z|) = erfc(|z|/√2)`, capped at 1.
///
/// ```
/// use pathwise_analysis::perf::stats::two_sided_p;
/// assert!((two_sided_p(1.959_963_984_540_054) - 0.05).abs() < 1e-15);
/// ```
pub fn two_sided_p(z: f64) -> f64 {
    if z.is_nan() {
        return 1.0;
    }
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// The two-sided quantile of Student's t distribution with `df` degrees of freedom: the `t`
/// with `P(|T| ≤ t) = confidence`, e.g. 2.228 for 95 % and 10 degrees of freedom (a
/// confidence interval is `estimate ± t · standard error`). NaN for `df = 0` or a confidence
/// outside `(0, 1)`.
///
/// Exact up to floating-point rounding (relative error below 1e-12 against the incomplete-beta
/// definition), not an approximation: for whole degrees of freedom the distribution function
/// has the closed form of Abramowitz & Stegun 26.7.3/26.7.4, a finite sum of `df/2` powers of
/// `cos θ` with `θ = atan(t/√df)`, which is inverted by bisection. The cost grows with `df`
/// (`df/2` terms per step, about 60 steps): a millisecond at `df = 20,000`.
///
/// ```
/// use pathwise_analysis::perf::stats::student_t_quantile;
/// assert!((student_t_quantile(0.95, 10) - 2.228_138_851_986_274_7).abs() < 1e-12);
/// assert!((student_t_quantile(0.95, 1) - 12.706_204_736_174_705).abs() < 1e-11);
/// assert!(student_t_quantile(0.95, 0).is_nan());
/// ```
pub fn student_t_quantile(confidence: f64, df: u64) -> f64 {
    if df == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    let mut high = 2.0;
    while student_t_central(high, df) < confidence {
        high *= 2.0;
        if !high.is_finite() {
            return f64::INFINITY;
        }
    }
    let mut low = 0.0;
    // Bisection halves the bracket each step; 200 steps are far more than the ~55 it takes
    // to reach the precision of a double.
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if student_t_central(mid, df) < confidence {
            low = mid;
        } else {
            high = mid;
        }
        if high - low <= 1e-15 * high {
            break;
        }
    }
    0.5 * (low + high)
}

/// `P(|T| ≤ t)` for Student's t with `df ≥ 1` degrees of freedom and `t ≥ 0` (Abramowitz &
/// Stegun 26.7.3 for odd `df`, 26.7.4 for even): with `θ = atan(t/√df)`,
/// odd: `(2/π)·(θ + sin θ·(cos θ + (2/3)cos³θ + … + (2·4⋯(df−3))/(1·3⋯(df−2))·cos^(df−2)θ))`
/// (just `2θ/π` for `df = 1`); even: `sin θ·(1 + (1/2)cos²θ + … + (1·3⋯(df−3))/(2·4⋯(df−2))·cos^(df−2)θ)`.
/// Every term is positive, so the sum loses no precision to cancellation.
fn student_t_central(t: f64, df: u64) -> f64 {
    let theta = (t / (df as f64).sqrt()).atan();
    let cos_sq = theta.cos().powi(2);
    // Each term is the previous one times cos²θ·(k − 1)/k, k = the power reached.
    let series = |first: f64, mut k: u64| {
        let (mut term, mut total) = (first, first);
        while k + 2 <= df {
            term *= cos_sq * (k - 1) as f64 / k as f64;
            total += term;
            k += 2;
        }
        total
    };
    if df % 2 == 1 {
        let sum = if df == 1 { 0.0 } else { series(theta.cos(), 3) };
        std::f64::consts::FRAC_2_PI * (theta + theta.sin() * sum)
    } else {
        theta.sin() * series(1.0, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference quantiles from the incomplete-beta definition evaluated at 30 digits (mpmath's
    /// `betainc` and `findroot`), i.e. R's `qt(0.975, df)`.
    // The references are kept digit for digit as computed, so they can be checked again.
    #[allow(clippy::excessive_precision)]
    #[test]
    fn student_t_quantiles_match_the_reference() {
        let cases = [
            (1, 12.706_204_736_174_705),
            (2, 4.302_652_729_749_464),
            (3, 3.182_446_305_284_709_6),
            (4, 2.776_445_105_197_794_4),
            (5, 2.570_581_835_636_315_5),
            (8, 2.306_004_135_204_166_7),
            (10, 2.228_138_851_986_274_7),
            (30, 2.042_272_456_301_238_3),
            (100, 1.983_971_518_523_552_3),
            (1000, 1.962_339_080_826_408_5),
            (4998, 1.960_438_741_654_548_1),
        ];
        for (df, want) in cases {
            let got = student_t_quantile(0.95, df);
            assert!(
                ((got - want) / want).abs() < 1e-12,
                "t(0.975, {df}) = {got}, want {want}"
            );
        }
        // Other levels: 99 % at 10 and 90 % at 20 degrees of freedom (R: qt(0.995, 10),
        // qt(0.95, 20)).
        assert!((student_t_quantile(0.99, 10) - 3.169_272_672_616_951_2).abs() < 1e-11);
        assert!((student_t_quantile(0.90, 20) - 1.724_718_242_920_787_3).abs() < 1e-11);
        assert!(student_t_quantile(1.0, 5).is_nan());
        assert!(student_t_quantile(f64::NAN, 5).is_nan());
    }

    /// Reference values from a correctly rounded libm `erfc` (CPython's `math.erfc`).
    #[test]
    fn erfc_matches_reference_in_every_interval() {
        let cases = [
            (0.1, 0.887_537_083_981_715_2),
            (0.3, 0.671_373_240_540_872_6),
            (0.5, 0.479_500_122_186_953_5),
            (2.0, 0.004_677_734_981_047_265),
            (3.5, 7.430_983_723_414_128e-7),
            (7.0, 4.183_825_607_779_414e-23),
            (10.0, 2.088_487_583_762_545e-45),
            (-1.0, 1.842_700_792_949_715),
        ];
        for (x, want) in cases {
            let got = erfc(x);
            assert!(
                ((got - want) / want).abs() < 1e-13,
                "erfc({x}) = {got}, want {want}"
            );
        }
        assert_eq!(erfc(0.0), 1.0);
        assert_eq!(erfc(30.0), 0.0);
        assert_eq!(erfc(-30.0), 2.0);
    }

    #[test]
    fn normal_tails() {
        assert!((normal_cdf(-3.0) / 0.001_349_898_031_630_095_7 - 1.0).abs() < 1e-12);
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((two_sided_p(2.575_829_303_548_9) - 0.01).abs() < 1e-12);
        assert_eq!(two_sided_p(f64::NAN), 1.0);
    }

    #[test]
    fn quantile_edges() {
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
        assert_eq!(quantile(&[1.0, 2.0], 1.0), 2.0);
        assert_eq!(quantile(&[1.0, 2.0], 0.0), 1.0);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
    }
}
