//! Monitoring end to end through the real store: an operation made 30 % slower at a known time
//! is flagged from one minute of traffic; an unchanged one is not.

use pathwise_analysis::monitoring::{MonitorConfig, evaluate};
use pathwise_analysis::perf::regression::ShiftKind;
use pathwise_store::PathList;
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

mod support;
use support::{Call, Rng, write_calls};

/// Two root paths: 1 `checkout.pay`, 2 `catalog.get`.
fn paths() -> PathList {
    PathList(vec![(0, "checkout.pay".into()), (0, "catalog.get".into())])
}

const NOW_MS: u64 = 1_790_000_040_000;

/// Two hours of 10 requests/s per operation; `slowdown` applies to checkout.pay in the last minute.
fn record(db: &std::path::Path, slowdown: f64, seed: u64) {
    let mut store = SqliteStore::open(db).unwrap();
    let mut rng = Rng(seed);
    let start_ms = NOW_MS - 2 * 3600 * 1000;
    let calls = (0..(2 * 3600 * 10)).flat_map(|tick| {
        let at_ms = start_ms + tick * 100;
        [
            (1u32, "checkout.pay", "payments"),
            (2, "catalog.get", "catalog"),
        ]
        .map(|(path, name, group)| {
            let mut ms = rng.lognormal(20.0, 0.3);
            if path == 1 && at_ms >= NOW_MS - 60_000 {
                ms *= slowdown;
            }
            Call {
                at_ms,
                path,
                name,
                group,
                ms,
                failed: false,
            }
        })
    });
    let calls: Vec<Call> = calls.collect();
    write_calls(&mut store, &paths(), calls);
}

/// Records the workload into a temporary database and evaluates it as of `NOW_MS`.
fn evaluate_recorded(
    slowdown: f64,
    seed: u64,
) -> Vec<pathwise_analysis::monitoring::OperationReport> {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("monitoring.db");
    record(&db, slowdown, seed);
    let reader = SqliteReader::open(&db).unwrap();
    evaluate(
        &reader,
        NOW_MS as i64 * 1_000_000,
        &MonitorConfig::default(),
        &[],
    )
    .unwrap()
}

#[test]
fn a_thirty_percent_slowdown_is_flagged_within_one_minute() {
    let reports = evaluate_recorded(1.3, 7);
    let pay = reports.iter().find(|r| r.name == "checkout.pay").unwrap();
    let shift = pay.latency.as_ref().expect("enough samples on both sides");
    assert_eq!(shift.kind, ShiftKind::Regression, "{shift:?}");
    assert!((shift.effect - 0.3).abs() < 0.08, "effect {}", shift.effect);
    assert_eq!(pay.recent.calls, 600);
    let baseline = pay.baseline.as_ref().unwrap();
    assert!(
        (baseline.p50 - 20.0).abs() < 1.5,
        "baseline p50 {}",
        baseline.p50
    );
    let catalog = reports.iter().find(|r| r.name == "catalog.get").unwrap();
    assert_eq!(catalog.latency.as_ref().unwrap().kind, ShiftKind::NoChange);
    assert!(catalog.p95_trend.trend().is_some());
}

#[test]
fn a_stationary_workload_is_not_flagged() {
    let reports = evaluate_recorded(1.0, 11);
    for report in &reports {
        assert_eq!(
            report.latency.as_ref().unwrap().kind,
            ShiftKind::NoChange,
            "{}",
            report.name
        );
        assert_eq!(report.recent.criticals, 0);
        let throughput = report.throughput.as_ref().unwrap();
        assert_eq!(
            throughput.change,
            pathwise_analysis::perf::regression::RateChange::NoChange,
            "{throughput:?}"
        );
        assert_eq!(report.recent.calls, 600, "exactly one minute at 10/s");
    }
}

#[test]
fn the_snapshot_names_the_regression_and_scores_each_component() {
    use pathwise_analysis::snapshot::snapshot;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("snapshot.db");
    record(&db, 1.3, 5);
    let reader = SqliteReader::open(&db).unwrap();
    let snap = snapshot(
        &reader,
        NOW_MS as i64 * 1_000_000,
        &MonitorConfig::default(),
        &[],
        Some(0.9),
        &[],
    )
    .unwrap();
    assert_eq!(snap.regressions, vec!["checkout.pay".to_string()]);
    let components: Vec<&str> = snap
        .components
        .iter()
        .map(|c| c.component.as_str())
        .collect();
    assert_eq!(components, vec!["catalog", "payments"]);
    let payments = &snap.components[1];
    assert_eq!(payments.calls, 3000, "5 minutes at 10/s");
    let speed = payments.speed_ratio.unwrap();
    assert!(speed > 1.1, "the last minute is 30 % slower: {speed}");
    assert!(payments.health.score < snap.components[0].health.score);
    assert!(snap.overall.score <= 100);
}
