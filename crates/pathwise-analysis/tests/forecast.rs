//! Forecasts are refused on too little data and on a source that stopped, and made with a
//! confidence band on enough of a known linear series.

use pathwise_analysis::perf::forecast::{ForecastRules, Outlook, outlook};

const T0: f64 = 1_790_000_000.0;

#[test]
fn twelve_samples_over_eleven_seconds_are_not_enough() {
    // The case: an exited process sampled 12 times in 11 s, RSS climbing fast.
    let pts: Vec<(f64, f64)> = (0..12)
        .map(|i| (T0 + i as f64, 4.0e9 + 2.0e7 * i as f64))
        .collect();
    match outlook(&pts, T0 + 11.0, &ForecastRules::default()) {
        Outlook::NotEnoughData {
            samples,
            span_s,
            need_samples,
            need_span_s,
            reason,
        } => {
            assert_eq!((samples, span_s), (12, 11.0));
            assert_eq!((need_samples, need_span_s), (30, 600.0));
            assert!(reason.starts_with("not enough data"), "{reason}");
        }
        other => panic!("forecast made from 11 s of data: {other:?}"),
    }
}

#[test]
fn a_source_that_stopped_five_minutes_ago_is_stale() {
    // An hour of samples every 10 s, the last one 300 s before now.
    let pts: Vec<(f64, f64)> = (0..360)
        .map(|i| (T0 + 10.0 * i as f64, 1.0e9 + 1.0e5 * i as f64))
        .collect();
    let last = T0 + 3590.0;
    match outlook(&pts, last + 300.0, &ForecastRules::default()) {
        Outlook::Stale {
            last_unix_s, age_s, ..
        } => {
            assert_eq!(last_unix_s, last);
            assert_eq!(age_s, 300.0);
        }
        other => panic!("a stopped source was forecast: {other:?}"),
    }
    // The same samples judged right after the last one: a forecast.
    assert!(
        outlook(&pts, last + 5.0, &ForecastRules::default())
            .trend()
            .is_some()
    );
}

#[test]
fn a_known_linear_series_gives_its_slope_within_the_band() {
    // 40 samples 30 s apart (19.5 min), on 512 MB + 2 MB per minute, with a deterministic
    // zero-mean wobble of ±3 MB: the true slope is 120 MB/h.
    let mb = 1024.0 * 1024.0;
    let pts: Vec<(f64, f64)> = (0..40)
        .map(|i| {
            let t = 30.0 * i as f64;
            let wobble = [3.0, -3.0, -3.0, 3.0][i % 4] * mb;
            (T0 + t, 512.0 * mb + 2.0 * mb * t / 60.0 + wobble)
        })
        .collect();
    let Outlook::Forecast {
        trend,
        slope_low_per_hour,
        slope_high_per_hour,
        span_s,
    } = outlook(&pts, T0 + 1200.0, &ForecastRules::default())
    else {
        panic!("enough data was refused");
    };
    let truth = 120.0 * mb;
    assert_eq!(span_s, 1170.0);
    assert!(slope_low_per_hour <= truth && truth <= slope_high_per_hour);
    assert!((trend.slope_per_hour - truth).abs() / truth < 0.05);
    // The band is a band: positive width, but not wider than the slope itself here.
    let width = slope_high_per_hour - slope_low_per_hour;
    assert!(width > 0.0 && width < truth, "band {width}");
}

#[test]
fn the_rules_are_configurable() {
    let pts: Vec<(f64, f64)> = (0..12).map(|i| (T0 + i as f64, i as f64)).collect();
    let loose = ForecastRules {
        min_samples: 10,
        min_span: std::time::Duration::from_secs(10),
        ..ForecastRules::default()
    };
    let trend = outlook(&pts, T0 + 11.0, &loose).trend().cloned().unwrap();
    assert!((trend.slope_per_hour - 3600.0).abs() < 1e-6);
}
