//! The alert engines' election table on a real two-shard cluster, answering as SQLite does:
//! the newest heartbeat of each engine wins, stale and resigned engines are left out.

use pathwise_store::Backend;
use pathwise_store::alerts::Evaluator;
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;
use pathwise_store_sqlite::SqliteBackend;

fn evaluator(holder: &str, heartbeat_ns: i64) -> Evaluator {
    Evaluator {
        holder: holder.into(),
        heartbeat_ns,
    }
}

fn check(backend: &dyn Backend) {
    let mut store = backend.alert_store().unwrap();
    let name = backend.describe();
    assert!(store.evaluators(0).unwrap().is_empty(), "{name}");
    store.heartbeat("b-engine", 1_000).unwrap();
    store.heartbeat("a-engine", 1_500).unwrap();
    store.heartbeat("b-engine", 2_000).unwrap();
    // Beats of several engines land on different shards; all are read, ordered by holder.
    assert_eq!(
        store.evaluators(0).unwrap(),
        [evaluator("a-engine", 1_500), evaluator("b-engine", 2_000)],
        "{name}"
    );
    // A stale engine is left out by its newest beat, not by an older one.
    assert_eq!(
        store.evaluators(1_800).unwrap(),
        [evaluator("b-engine", 2_000)],
        "{name}"
    );
    store.resign("b-engine", 2_100).unwrap();
    assert_eq!(
        store.evaluators(0).unwrap(),
        [evaluator("a-engine", 1_500)],
        "{name}"
    );
    // An engine that beats again after resigning is back.
    store.heartbeat("b-engine", 3_000).unwrap();
    assert_eq!(
        store.evaluators(2_500).unwrap(),
        [evaluator("b-engine", 3_000)],
        "{name}"
    );
}

#[test]
fn heartbeats_resignations_and_staleness_agree_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    check(&SqliteBackend::create(dir.path().join("p.db")).unwrap());
    let Some(cluster) = Cluster::start(18163) else {
        return;
    };
    check(&ClickHouseBackend::connect(&cluster.url("pw_evaluators")).unwrap());
}
