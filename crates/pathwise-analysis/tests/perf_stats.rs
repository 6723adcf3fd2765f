//! The `perf` statistics against hand-computed values, and the latency-shift detector against
//! simulated traffic with a known injected regression (detection rate and false-positive rate).
//! Run with `--nocapture` to see the measured rates.

use pathwise_analysis::perf::baseline::{OutlierMethod, Severity, classify, learn};
use pathwise_analysis::perf::health::{Health, HealthInputs, HealthLevel, score};
use pathwise_analysis::perf::regression::{
    RateChange, ShiftKind, bonferroni, error_rate_shift, latency_shift, mann_whitney,
    throughput_shift,
};
use pathwise_analysis::perf::stats::quantile;
use pathwise_analysis::perf::trend::{Trend, describe_growth, fit};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn close(got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "got {got}, want {want} (± {tol})"
    );
}

#[test]
fn type7_quantiles_by_hand() {
    let x = [1.0, 2.0, 3.0, 4.0, 100.0];
    assert_eq!(quantile(&x, 0.25), 2.0);
    assert_eq!(quantile(&x, 0.5), 3.0);
    assert_eq!(quantile(&x, 0.75), 4.0);
    close(quantile(&x, 0.99), 4.0 + 0.96 * 96.0, 1e-12); // h = 3.96
    close(quantile(&[10.0, 20.0, 30.0, 40.0], 0.95), 38.5, 1e-12); // h = 2.85
}

#[test]
fn tukey_drops_the_far_value() {
    let b = learn(&[4.0, 1.0, 100.0, 3.0, 2.0], OutlierMethod::tukey(), 5).unwrap();
    // Q1 = 2, Q3 = 4, fences [−1, 7]: 100 goes; stats over [1, 2, 3, 4].
    assert_eq!((b.samples, b.kept, b.outliers), (5, 4, 1));
    close(b.p50, 2.5, 1e-12);
    close(b.p95, 3.85, 1e-12); // h = 2.85
    close(b.p99, 3.97, 1e-12);
    close(b.mean, 2.5, 1e-12);
    close(b.std_dev, (5.0f64 / 3.0).sqrt(), 1e-12);
}

#[test]
fn mad_and_tukey_disagree_where_expected() {
    // Median 13, |x − 13| = [3, 2, 1, 0, 1, 2, 8] → MAD 2; modified z of 21 = 0.6745·8/2 = 2.70.
    let s = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 21.0];
    assert_eq!(learn(&s, OutlierMethod::mad(), 1).unwrap().kept, 7);
    // Tukey: Q1 11.5, Q3 14.5, upper fence 19 → 21 goes.
    assert_eq!(learn(&s, OutlierMethod::tukey(), 1).unwrap().kept, 6);
    // 24: modified z = 0.6745·11/2 = 3.71 > 3.5 → goes; 23 (3.37) stays.
    let s24 = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 24.0];
    assert_eq!(learn(&s24, OutlierMethod::mad(), 1).unwrap().outliers, 1);
    let s23 = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 23.0];
    assert_eq!(learn(&s23, OutlierMethod::mad(), 1).unwrap().outliers, 0);
}

#[test]
fn confidence_on_constructed_inputs() {
    let ramp: Vec<f64> = (1..=200).map(f64::from).collect();
    // p95 = 190.05; CI ranks ⌊190 − 6.04⌋ = 183, ⌈190 + 6.04⌉ = 197 → w = 14 / 380.1.
    let b = learn(&ramp, OutlierMethod::tukey(), 100).unwrap();
    close(b.confidence, 0.963_167_587_476_979_7, 1e-12);
    // Same data, but only 200 of the 2·200 samples needed for full coverage.
    let half = learn(&ramp, OutlierMethod::tukey(), 200).unwrap();
    close(half.confidence, 0.963_167_587_476_979_7 / 2.0, 1e-12);
    // Identical values: zero width, so only coverage counts.
    close(
        learn(&[10.0; 200], OutlierMethod::tukey(), 100)
            .unwrap()
            .confidence,
        1.0,
        0.0,
    );
    close(
        learn(&[10.0; 200], OutlierMethod::tukey(), 150)
            .unwrap()
            .confidence,
        2.0 / 3.0,
        1e-12,
    );
    // 1..=20: p95 19.05, ranks 17 and 20 → w = 3 / 38.1.
    let small: Vec<f64> = (1..=20).map(f64::from).collect();
    let b = learn(&small, OutlierMethod::tukey(), 10).unwrap();
    close(b.confidence, 0.921_259_842_519_685_1, 1e-12);
    // p95 interval spans 10..100 when one of 20 samples is 100 and nothing is removed.
    let mut spiky = vec![10.0; 19];
    spiky.push(100.0);
    let b = learn(
        &spiky,
        OutlierMethod::Mad {
            threshold: f64::INFINITY,
        },
        10,
    )
    .unwrap();
    assert_eq!((b.kept, b.confidence), (20, 0.0));
}

#[test]
fn classify_against_learned_p95() {
    let b = learn(
        &(1..=200).map(f64::from).collect::<Vec<_>>(),
        OutlierMethod::tukey(),
        100,
    )
    .unwrap();
    assert_eq!(classify(380.0, &b, 2.0, 5.0), Severity::Normal); // ≤ 2 · 190.05
    assert_eq!(classify(381.0, &b, 2.0, 5.0), Severity::Warning);
    assert_eq!(classify(951.0, &b, 2.0, 5.0), Severity::Critical); // > 950.25
}

#[test]
fn mann_whitney_hand_computed() {
    // Ranks: 11 12 16 17 19 20 22 24 29 → R_a = 3 + 5 + 7 + 8 + 9 = 32, U_a = 32 − 15 = 17.
    let a = [19.0, 22.0, 16.0, 29.0, 24.0];
    let b = [20.0, 11.0, 17.0, 12.0];
    let r = mann_whitney(&a, &b);
    assert_eq!(r.u, 17.0);
    close(r.z, 6.5 / (20.0f64 / 12.0 * 10.0).sqrt(), 1e-12); // (17 − 10 − ½)/√16.67
    close(r.p_two_sided, 0.111_346_886_533_140_5, 1e-12);
    // Ties: a = [1, 2, 2, 3], b = [2, 3, 3, 4, 5] → R_a = 1 + 3 + 3 + 6 = 13, U_a = 3;
    // variance 20/12 · (10 − 48/72) = 15.56.
    let r = mann_whitney(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 3.0, 4.0, 5.0]);
    assert_eq!(r.u, 3.0);
    close(r.z, -1.648_050_796_720_607, 1e-12);
    close(r.p_two_sided, 0.099_342_247_853_465_27, 1e-12);
}

/// Standard normal by Box–Muller (the cosine branch; the sine branch is discarded for clarity).
fn normal(rng: &mut StdRng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln never sees 0
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Lognormal latencies in ms: median `median_ms`, log-scale σ 0.3.
fn latencies(rng: &mut StdRng, n: usize, median_ms: f64) -> Vec<f64> {
    (0..n)
        .map(|_| median_ms * (0.3 * normal(rng)).exp())
        .collect()
}

/// Fraction of `seeds` runs (base 1,000 samples at 20 ms, recent `recent_n` samples at
/// `20 · factor` ms) that `latency_shift` at `(alpha, min_effect)` classifies as `kind`.
fn rate(kind: ShiftKind, seeds: u64, recent_n: usize, factor: f64, gate: (f64, f64)) -> f64 {
    let hits = (0..seeds)
        .filter(|&seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            let base = latencies(&mut rng, 1_000, 20.0);
            let recent = latencies(&mut rng, recent_n, 20.0 * factor);
            latency_shift(&base, &recent, gate.0, gate.1).unwrap().kind == kind
        })
        .count();
    hits as f64 / seeds as f64
}

#[test]
fn injected_regression_is_detected() {
    // One minute at 10 requests/s = 600 samples.
    let slower = rate(ShiftKind::Regression, 100, 600, 1.3, (0.01, 0.10));
    let faster = rate(ShiftKind::Improvement, 100, 600, 0.7, (0.01, 0.10));
    let slower_100 = rate(ShiftKind::Regression, 100, 100, 1.3, (0.01, 0.10));
    let slower_20 = rate(ShiftKind::Regression, 100, 20, 1.3, (0.01, 0.10));
    println!("detection, 600-sample window: +30 % → {slower:.2}, −30 % → {faster:.2}");
    println!(
        "detection, +30 %: 100-sample window {slower_100:.2}, 20-sample window {slower_20:.2}"
    );
    assert!(slower >= 0.99, "regression detected in {slower}");
    assert!(faster >= 0.99, "improvement detected in {faster}");
}

#[test]
fn stationary_workload_false_positive_rate() {
    const SEEDS: u64 = 1_000;
    // (recent window, alpha, min_effect) → runs flagged. Any Regression or Improvement on a
    // stationary workload is a false positive. The ungated rows (min_effect 0) check that the
    // Mann–Whitney p-values are calibrated, not just conservative: at alpha 0.05, 1,000 runs
    // give 50 ± 7 expected flags (at 0.01 the 10 ± 3 would be too noisy to bound tightly).
    let mut gates = [
        (600, 0.01, 0.10, 0),
        (100, 0.01, 0.10, 0),
        (20, 0.01, 0.10, 0),
        (600, 0.01, 0.0, 0),
        (600, 0.05, 0.0, 0),
    ];
    for seed in 0..SEEDS {
        let mut rng = StdRng::seed_from_u64(seed);
        let base = latencies(&mut rng, 1_000, 20.0);
        let recent = latencies(&mut rng, 600, 20.0);
        for (n, alpha, min_effect, flagged) in &mut gates {
            let shift = latency_shift(&base, &recent[..*n], *alpha, *min_effect).unwrap();
            *flagged += usize::from(shift.kind != ShiftKind::NoChange);
        }
    }
    let fpr = |i: usize| gates[i].3 as f64 / SEEDS as f64;
    for (n, alpha, min_effect, flagged) in gates {
        let rate = flagged as f64 / SEEDS as f64;
        println!("FPR, {n}-sample window, alpha {alpha}, min_effect {min_effect}: {rate:.3}");
    }
    assert!(fpr(0) <= 0.01, "FPR {}", fpr(0));
    assert!(fpr(1) <= 0.01, "FPR {}", fpr(1));
    // At 20 samples the median is too noisy for the 10 % gate to add much: the rate is
    // bounded by alpha itself, so allow for the ±0.3 % noise of 1,000 runs.
    assert!(fpr(2) <= 0.02, "FPR {}", fpr(2));
    assert!(fpr(3) <= 0.02, "uncalibrated: {}", fpr(3));
    assert!((0.03..=0.075).contains(&fpr(4)), "uncalibrated: {}", fpr(4));
}

#[test]
fn error_rate_shifts() {
    let up = error_rate_shift(20, 1_000, 60, 1_000, 0.01).unwrap();
    assert_eq!(up.change, RateChange::Increase);
    close(up.z, 4.564_354_645_876_384, 1e-9); // 0.04 / √(0.04 · 0.96 · 2/1000)
    close(up.p_value, 5.010_331_956_390_454e-6, 1e-15);
    close(up.relative_change.unwrap(), 2.0, 1e-12);
    assert_eq!(
        error_rate_shift(60, 1_000, 20, 1_000, 0.01).unwrap().change,
        RateChange::Decrease
    );
    // 2 % → 2.2 %: not significant on 1,000 requests...
    let small = error_rate_shift(20, 1_000, 22, 1_000, 0.01).unwrap();
    assert_eq!(small.change, RateChange::NoChange);
    assert!(small.p_value > 0.5);
    // ...and highly significant on a million, but below the 1-point minimum: still quiet.
    let trivia = error_rate_shift(20_000, 1_000_000, 22_000, 1_000_000, 0.01).unwrap();
    assert!(trivia.p_value < 1e-10);
    assert_eq!(trivia.change, RateChange::NoChange);
}

#[test]
fn throughput_shifts() {
    // N = 1150, π₀ = 10/110: z = (150 − 104.545 − ½) / √95.04.
    let s = throughput_shift(1_000, 100.0, 150, 10.0, 0.01, 0.10).unwrap();
    close(s.z, 4.611_236_276_748_351, 1e-9);
    close(s.p_value, 4.002_812_488_174_067e-6, 1e-15);
    assert_eq!(s.change, RateChange::Increase);
    close(s.relative_change.unwrap(), 0.5, 1e-12);
    // 100 req/s for 10 minutes, then one minute at:
    let at = |recent| throughput_shift(60_000, 600.0, recent, 60.0, 0.01, 0.10).unwrap();
    assert_eq!(at(6_000).change, RateChange::NoChange);
    assert_eq!(at(7_800).change, RateChange::Increase);
    assert_eq!(at(4_200).change, RateChange::Decrease);
    let small = at(6_480); // +8 %: significant (z ≈ 6.5) but below the 10 % minimum
    assert!(small.p_value < 1e-6);
    assert_eq!(small.change, RateChange::NoChange);
    assert_eq!(bonferroni(0.01, 100), 0.0001);
}

#[test]
fn trend_recovers_exact_line() {
    let t0 = 1_760_000_000.0;
    let pts: Vec<(f64, f64)> = (0..48)
        .map(|i| (t0 + 1800.0 * f64::from(i), 500.0 + 1.5 * f64::from(i)))
        .collect();
    let t = fit(&pts).unwrap();
    close(t.slope_per_hour, 3.0, 1e-9);
    close(t.forecast(t0), 500.0, 1e-5);
    close(t.intercept, 500.0 - 3.0 * t0 / 3600.0, 1e-3);
    close(t.r_squared, 1.0, 1e-12);
    assert_eq!(t.points, 48);
    // Hand-computed: t̄ 1.5, Sxx 5, Sxy 5.5, Syy 8.75 → slope 1.1/s, r² = 30.25/43.75.
    let t = fit(&[(0.0, 1.0), (1.0, 3.0), (2.0, 2.0), (3.0, 5.0)]).unwrap();
    close(t.slope_per_hour, 1.1 * 3600.0, 1e-9);
    close(t.intercept, 1.1, 1e-12);
    close(t.r_squared, 0.691_428_571_428_571_4, 1e-12);
}

#[test]
fn time_to_threshold_and_text() {
    let mb = 1024.0 * 1024.0;
    let now = 1_760_000_000.0;
    let pts: Vec<(f64, f64)> = (0..=24)
        .map(|h| {
            (
                now - 3600.0 * f64::from(24 - h),
                (944.8 + 2.3 * f64::from(h)) * mb,
            )
        })
        .collect();
    let t = fit(&pts).unwrap();
    let d = t.time_to_threshold(now, 1000.0 * mb, 2048.0 * mb).unwrap();
    close(d.as_secs_f64() / 3600.0, 455.652_173_913, 1e-6); // 1048 / 2.3
    // From the fitted line (NaN current): the line is at 1000 MB now, too.
    let from_line = t.time_to_threshold(now, f64::NAN, 2048.0 * mb).unwrap();
    close(from_line.as_secs_f64() / 3600.0, 455.652_173_913, 1e-3);
    assert!(t.time_to_threshold(now, 1000.0 * mb, 512.0 * mb).is_none());
    assert_eq!(
        describe_growth("RSS", "bytes", &t, now, 1000.0 * mb, Some(2048.0 * mb)),
        "RSS grows 2.3 MB/h; reaches the 2 GB limit in ~19 d"
    );
    // Hand-made lines: (slope per hour, r²); the intercept does not enter the text.
    let line = |slope_per_hour, r_squared| Trend {
        slope_per_hour,
        intercept: 0.0,
        r_squared,
        points: 30,
    };
    let fast = line(50.0 * mb, 0.99);
    assert_eq!(
        describe_growth("RSS", "bytes", &fast, now, 1000.0 * mb, Some(2048.0 * mb)),
        "RSS grows 50 MB/h; reaches the 2 GB limit in ~21 h"
    );
    let latency = line(-0.75, 0.3);
    assert_eq!(
        describe_growth("p95 latency", "ms", &latency, now, 40.0, Some(250.0)),
        "p95 latency falls 0.75 ms/h (weak fit, r² 0.30); not heading toward the 250 ms limit"
    );
    let text = describe_growth("queue", "", &line(12.0, 0.9), now, 100.0, None);
    assert_eq!(text, "queue grows 12/h");
}

/// Sum of the "cost N" figures in reasons.
fn cost_sum(h: &Health) -> i64 {
    h.reasons
        .iter()
        .map(|r| {
            let after = r.split("cost ").nth(1).expect("reason names its cost");
            after.split(' ').next().unwrap().parse::<i64>().unwrap()
        })
        .sum()
}

#[test]
fn health_levels_from_constructed_inputs() {
    let inputs = |s, r, c, u| HealthInputs {
        success_rate: Some(s),
        speed_ratio: Some(r),
        cache_hit_rate: c,
        resource_headroom: Some(u),
        active_alerts: vec![],
    };
    let perfect = score(&inputs(1.0, 1.0, Some(1.0), 1.0));
    assert_eq!(
        (perfect.score, perfect.level),
        (100, HealthLevel::Excellent)
    );
    assert!(perfect.reasons.is_empty());
    // 3 % errors: 40·0.029/0.099 = 11.7 → 12; 2× slower: 12.5 → 13.
    let good = score(&inputs(0.97, 2.0, Some(0.9), 0.3));
    assert_eq!((good.score, good.level), (75, HealthLevel::Good));
    assert!(
        good.reasons[0].contains("cost 12 of 40 points"),
        "{:?}",
        good.reasons
    );
    assert!(good.reasons[1].contains("2.00× the baseline cost 13 of 25 points"));
    // 19.8→20 + 18.75→19 + 10 + 10 = 59 lost.
    let warning = score(&inputs(0.95, 3.5, Some(0.3), 0.15));
    assert_eq!((warning.score, warning.level), (41, HealthLevel::Warning));
    assert_eq!(cost_sum(&warning), 59);
    // Cache unknown: 85 points of weight become 100; success 47, speed 29 lost.
    let critical = score(&inputs(0.85, 6.0, None, 0.3));
    assert_eq!(
        (critical.score, critical.level),
        (24, HealthLevel::Critical)
    );
    assert!(
        critical
            .reasons
            .iter()
            .any(|r| r.starts_with("cache hit rate unknown"))
    );
    assert_eq!(cost_sum(&critical), 76);
}

#[test]
fn alerts_deduct_and_floor_at_zero() {
    let alert = |sev: &str| (sev.to_string(), format!("{sev} thing"));
    let mut inputs = HealthInputs {
        success_rate: Some(1.0),
        active_alerts: ["warning", "error", "critical", "emergency", "info"]
            .map(alert)
            .to_vec(),
        ..HealthInputs::default()
    };
    let h = score(&inputs);
    assert_eq!((h.score, h.level), (35, HealthLevel::Critical));
    // info costs nothing and is not listed.
    assert_eq!(
        h.reasons.iter().filter(|r| r.contains(" alert ")).count(),
        4
    );
    assert_eq!(cost_sum(&h), 65);
    let emergency = "emergency alert \"emergency thing\" cost 30 points";
    assert!(h.reasons.iter().any(|r| r == emergency));
    inputs
        .active_alerts
        .extend(["emergency", "emergency"].map(alert));
    assert_eq!(score(&inputs).score, 0);
}
