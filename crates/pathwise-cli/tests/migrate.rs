//! `pathwise migrate`: a demo database, seeded with alert history, active alerts, silences,
//! cache and pipeline statistics at known times and API keys, copied into a new SQLite file and
//! into a real two-shard ClickHouse cluster. The copies answer the report exactly as the
//! original does, hold the same rows of every kind, accept the same keys, and a second run
//! (or one completing an interrupted copy) writes nothing twice.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use common::pathwise;
use pathwise_model::ResourceSample;
use pathwise_server::keys::KeyRing;
use pathwise_store::alerts::{AlertStateRow, AlertWrite, HistoryFilter, HistoryRow, Matcher};
use pathwise_store::keys::{ApiKey, Scope};
use pathwise_store::{Backend, BaselineRow, CacheRow, CacheTotals, PipelineStats};
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;
use pathwise_store_sqlite::SqliteBackend;

/// Where the seeded rows are stamped: 2020, long before the demo's own rows.
const T0: i64 = 1_600_000_000_000_000_000;
const SECOND: i64 = 1_000_000_000;
/// When the seeded silences end: 2096, in force whenever the test runs.
const SILENCED_UNTIL: i64 = 4_000_000_000 * SECOND;

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The parts of `report --format json` that depend on the data only (not on the clock).
fn report(store: &str) -> serde_json::Value {
    let text = ok(pathwise(&["report", "--format", "json", "--store", store]));
    let full: serde_json::Value = serde_json::from_str(&text).unwrap();
    let keys = [
        "summary",
        "hot_paths",
        "slow_paths",
        "error_prone_paths",
        "time_consumers",
        "never_executed",
    ];
    keys.iter()
        .map(|k| (k.to_string(), full[k].clone()))
        .collect()
}

fn demo(dir: &Path) -> String {
    let db = dir.join("source.db").to_str().unwrap().to_string();
    ok(pathwise(&[
        "demo",
        "--iterations",
        "150",
        "--seed",
        "7",
        "--no-serve",
        "--db",
        &db,
    ]));
    db
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// Twelve history rows, three to a timestamp (the copy compares them a timestamp at a time).
fn history() -> Vec<HistoryRow> {
    (0..12)
        .map(|i| HistoryRow {
            ts_ns: T0 + (i / 3) * SECOND,
            fingerprint: format!("fp{}", i % 3),
            rule: if i % 2 == 0 { "slow" } else { "errors" }.into(),
            state: ["pending", "firing", "resolved"][i as usize % 3].into(),
            severity: "critical".into(),
            value: (i % 4 != 0).then_some(i as f64 * 0.25),
            labels: [("team".to_string(), format!("t{i}"))].into(),
            annotations: [("summary".to_string(), "p95 above 2 s".to_string())].into(),
            actor: if i == 5 {
                "engine (silenced)"
            } else {
                "engine"
            }
            .into(),
        })
        .collect()
}

fn states() -> Vec<AlertStateRow> {
    ["fp0", "fp1"]
        .iter()
        .enumerate()
        .map(|(i, fp)| AlertStateRow {
            fingerprint: fp.to_string(),
            rule: "slow".into(),
            state: ["firing", "pending"][i].into(),
            severity: "warning".into(),
            value: Some(2.5 + i as f64),
            labels: [("team".to_string(), "search".to_string())].into(),
            annotations: Default::default(),
            since_ns: T0,
            fired_ns: (i == 0).then_some(T0 + SECOND),
            last_notified_ns: (i == 0).then_some(T0 + 2 * SECOND),
            clear_since_ns: None,
            acked_by: (i == 0).then(|| "ana".to_string()),
        })
        .collect()
}

/// Two components, one row each per second for ten seconds (both rows of a second share its
/// timestamp).
fn cache_rows() -> Vec<CacheRow> {
    (0..20)
        .map(|i| CacheRow {
            ts_ns: T0 + (i / 2) * SECOND,
            component: ["geo.cache", "openalex.cache"][i as usize % 2].into(),
            hits: 10 + i as u64,
            misses: (i % 3) as u64,
        })
        .collect()
}

fn stats_rows() -> Vec<PipelineStats> {
    (0..5)
        .map(|i| PipelineStats {
            ts_ns: T0 + i * SECOND,
            recorded: 100 * i as u64,
            written: 90 * i as u64,
            queue_depth: i as u64,
            ..PipelineStats::default()
        })
        .collect()
}

/// Keys made with `pathwise keys create` (one revoked): their text, for authenticating.
struct Keys {
    reader: String,
    revoked: String,
}

/// Seeds `db` (through the store traits and `pathwise keys`) with what the demo does not
/// record.
fn seed(db: &str) -> Keys {
    let backend = SqliteBackend::open(db).unwrap();
    let mut alerts = backend.alert_store().unwrap();
    let rows = history();
    let mut writes: Vec<AlertWrite<'_>> = rows.iter().map(AlertWrite::History).collect();
    let states = states();
    writes.extend(states.iter().map(AlertWrite::SaveState));
    alerts.apply(&writes).unwrap();
    alerts
        .add_silence(&Matcher::Rule("slow".into()), SILENCED_UNTIL, T0, "deploy")
        .unwrap();
    alerts
        .add_silence(
            &Matcher::Fingerprint("fp1".into()),
            SILENCED_UNTIL + 3600 * SECOND,
            T0,
            "",
        )
        .unwrap();
    // Over already: not in force, not copied.
    alerts
        .add_silence(&Matcher::Rule("old".into()), T0 + SECOND, T0, "past")
        .unwrap();
    let mut writer = backend.writer().unwrap();
    writer.write_cache_rows(&cache_rows()).unwrap();
    writer.write_pipeline_stats(&stats_rows()).unwrap();
    let key = |name: &str, scope: &str| {
        let out = ok(pathwise(&[
            "keys", "create", "--name", name, "--scope", scope, "--db", db,
        ]));
        out.lines().next().unwrap().to_string()
    };
    let keys = Keys {
        reader: key("grafana", "read"),
        revoked: key("old-sender", "ingest"),
    };
    let id = keys.revoked.split('_').nth(1).unwrap();
    ok(pathwise(&["keys", "revoke", id, "--db", db]));
    keys
}

/// Everything a store holds, comparable field by field (ids the target assigns itself left
/// out: silence ids, baseline versions).
#[derive(Debug, PartialEq)]
struct Contents {
    traces: u64,
    spans: u64,
    history: Vec<HistoryRow>,
    states: Vec<AlertStateRow>,
    silences: Vec<(String, i64, i64, String)>,
    cache: Vec<CacheRow>,
    stats: Vec<PipelineStats>,
    resources: Vec<ResourceSample>,
    keys: Vec<ApiKey>,
    baselines: Vec<BaselineRow>,
}

fn contents(backend: &dyn Backend, now_ns: i64) -> Contents {
    let reader = backend.reader().unwrap();
    let alerts = backend.alert_store().unwrap();
    let mut states = alerts.load_states().unwrap();
    states.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    let mut silences: Vec<_> = alerts
        .silences(now_ns)
        .unwrap()
        .into_iter()
        .map(|s| (s.matcher.to_text(), s.until_ns, s.created_ns, s.comment))
        .collect();
    silences.sort();
    // Rows of one timestamp come back in an order of the backend's choosing.
    let mut cache = reader.cache_rows(i64::MIN, i64::MAX, 1_000_000).unwrap();
    cache.sort_by_key(|r| (r.ts_ns, r.component.clone(), r.hits, r.misses));
    let mut baselines = reader.baselines().unwrap();
    for b in &mut baselines {
        b.version = 0;
    }
    Contents {
        traces: reader
            .trace_stats(&pathwise_store::TraceFilter::default())
            .unwrap()
            .total,
        spans: reader.error_rate_since(0).unwrap().spans,
        history: alerts
            .history(&HistoryFilter {
                limit: Some(1_000_000),
                oldest_first: true,
                ..HistoryFilter::default()
            })
            .unwrap(),
        states,
        silences,
        cache,
        stats: reader
            .pipeline_stats_rows(i64::MIN, i64::MAX, 1_000_000)
            .unwrap(),
        resources: reader.resource_samples(i64::MIN, None, 1_000_000).unwrap(),
        keys: backend.key_store().unwrap().keys().unwrap(),
        baselines,
    }
}

/// The target holds exactly what the source does, the seeded rows among it, and accepts the
/// same keys.
fn assert_copied(source: &dyn Backend, target: Arc<dyn Backend>, keys: &Keys, now: i64) {
    let (from, to) = (contents(source, now), contents(target.as_ref(), now));
    assert_eq!(from, to);
    assert_eq!(to.history, history(), "field by field, in order");
    assert_eq!(to.states, states());
    assert_eq!(to.silences.len(), 2);
    assert_eq!(to.keys.len(), 2);
    assert!(to.spans > 0 && !to.resources.is_empty() && to.stats.len() > 5);
    // The seeded window: known totals per component, on both stores.
    let window = (T0 - 1, T0 + 10 * SECOND);
    let expected = |c: usize| {
        let rows: Vec<_> = cache_rows().into_iter().skip(c).step_by(2).collect();
        CacheTotals {
            component: rows[0].component.clone(),
            hits: rows.iter().map(|r| r.hits).sum(),
            misses: rows.iter().map(|r| r.misses).sum(),
        }
    };
    for store in [source, target.as_ref()] {
        let totals = store
            .reader()
            .unwrap()
            .cache_totals(window.0, window.1)
            .unwrap();
        assert_eq!(
            totals,
            vec![expected(0), expected(1)],
            "{}",
            store.describe()
        );
    }
    let ring = KeyRing::load(target).expect("the target keeps keys");
    assert_eq!(ring.scopes_of(&keys.reader), Some(vec![Scope::Read]));
    assert_eq!(ring.scopes_of(&keys.revoked), None, "revoked stays revoked");
}

fn migrate(source: &str, target: &str, checkpoint: &str, batch: &str) -> String {
    let out = ok(pathwise(&[
        "migrate",
        "--from",
        source,
        "--to",
        target,
        "--checkpoint",
        checkpoint,
        "--batch",
        batch,
    ]));
    assert!(out.contains("verified"), "{out}");
    assert!(
        !Path::new(checkpoint).exists(),
        "the checkpoint is removed when done"
    );
    out
}

/// Nothing is written again.
fn assert_nothing_written(out: &str) {
    let written: Vec<&str> = out.lines().filter(|l| l.contains(" written)")).collect();
    assert_eq!(written.len(), 9, "{out}");
    assert!(written.iter().all(|l| l.ends_with("(0 written)")), "{out}");
}

#[test]
fn a_copy_into_sqlite_is_exact_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = demo(dir.path());
    let keys = seed(&source);
    let copy = dir.path().join("copy.db");
    let target = format!("sqlite:{}", copy.display());
    let checkpoint = dir.path().join("cp").to_str().unwrap().to_string();
    // As an interrupted copy left it: part of the history (one timestamp half written), of
    // the cache rows and of the silences.
    let half = SqliteBackend::create(&copy).unwrap();
    let rows = history();
    let writes: Vec<AlertWrite<'_>> = rows[..4].iter().map(AlertWrite::History).collect();
    let mut alerts = half.alert_store().unwrap();
    alerts.apply(&writes).unwrap();
    let now = now_ns();
    alerts
        .add_silence(&Matcher::Rule("slow".into()), SILENCED_UNTIL, T0, "deploy")
        .unwrap();
    half.writer()
        .unwrap()
        .write_cache_rows(&cache_rows()[..3])
        .unwrap();
    drop(alerts);

    let out = migrate(&source, &target, &checkpoint, "7");
    assert!(out.contains("alert history"), "{out}");
    let source_backend = SqliteBackend::open(&source).unwrap();
    assert_eq!(report(&source), report(&target));
    let target_backend: Arc<dyn Backend> = Arc::new(SqliteBackend::open(&copy).unwrap());
    assert_copied(&source_backend, target_backend.clone(), &keys, now);

    // Copying again changes nothing.
    let before = contents(target_backend.as_ref(), now);
    let again = migrate(&source, &target, &checkpoint, "7");
    assert_nothing_written(&again);
    assert_eq!(contents(target_backend.as_ref(), now), before);
    assert_eq!(report(&source), report(&target));
}

#[test]
fn bad_stores_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let source = demo(dir.path());
    let same = pathwise(&["migrate", "--from", &source, "--to", &source]);
    assert_eq!(same.status.code(), Some(2));
    let missing = pathwise(&["migrate", "--from", "/nonexistent/x.db", "--to", &source]);
    assert_eq!(missing.status.code(), Some(2));
    let unreachable = pathwise(&[
        "migrate",
        "--from",
        &source,
        "--to",
        "clickhouse://127.0.0.1:1/pw",
    ]);
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unreachable.stderr).contains("127.0.0.1:1"));
}

#[test]
fn a_copy_into_a_two_shard_cluster_answers_the_same() {
    let Some(cluster) = Cluster::start(18143) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let source = demo(dir.path());
    let keys = seed(&source);
    let target = cluster.url("pw_migrate");
    let checkpoint = dir.path().join("cp").to_str().unwrap().to_string();
    let now = now_ns();
    migrate(&source, &target, &checkpoint, "200");
    assert_eq!(report(&source), report(&target));
    let traces = ok(pathwise(&["traces", "--store", &target]));
    assert!(traces.contains("competitor-selection"), "{traces}");
    let source_backend = SqliteBackend::open(&source).unwrap();
    let target_backend: Arc<dyn Backend> = Arc::new(ClickHouseBackend::connect(&target).unwrap());
    assert_copied(&source_backend, target_backend.clone(), &keys, now);

    // Nothing in the cluster's tables replaces a row written twice but the traces': a second
    // run must write none of the rest.
    let before = contents(target_backend.as_ref(), now);
    let again = migrate(&source, &target, &checkpoint, "200");
    assert_nothing_written(&again);
    assert_eq!(contents(target_backend.as_ref(), now), before);
    assert_eq!(report(&source), report(&target), "no span counted twice");
}
