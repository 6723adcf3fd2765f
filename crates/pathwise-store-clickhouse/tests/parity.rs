//! The same workload written to SQLite and to a real two-shard ClickHouse cluster (started on
//! loopback by `scripts/clickhouse-cluster`): every answer the API gives must agree.

use std::time::Duration;

use pathwise_analysis::funnel::decision_funnel;
use pathwise_analysis::{Analysis, Window, critical_path, error_patterns};
use pathwise_model::{
    AttrValue, ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceEvent, TraceId,
};
use pathwise_store::alerts::{
    AlertStateRow, AlertWrite, HistoryFilter, HistoryRow, Matcher, SqlGuardError,
};
use pathwise_store::{
    Backend, BaselineRow, CacheDelta, CacheRow, FunctionInfo, PathList, PipelineStats, Reader,
    RollupKey, TraceFilter, WriteBatch,
};
use pathwise_store_clickhouse::testing::Cluster;
use pathwise_store_clickhouse::{ClickHouseBackend, Variant};
use pathwise_store_sqlite::SqliteBackend;

fn paths() -> PathList {
    PathList(vec![
        (0, "SearchService.search".into()),
        (1, "GEOClient.search".into()),
        (1, "ArrayExpressClient.search".into()),
        (1, "OpenAlexClient.search".into()),
        (1, "SearchService.rank".into()),
        (0, "competitor-selection".into()),
        (6, "apply_filters".into()),
    ])
}

const MS: i64 = 1_000_000;
const BASE_MS: u64 = 1_780_000_000_000;

fn error(kind: &str) -> ErrorInfo {
    ErrorInfo {
        error_type: kind.to_string().into(),
        message: format!("{kind} happened"),
        chain: vec!["cause".into()],
    }
}

/// 300 search traces over ten minutes (three sources in parallel; every 7th OpenAlex call is
/// rate limited, every 11th GEO call times out and fails its search), and 30 decision traces
/// (started events, a step with input and reasoning).
fn workload() -> Vec<Vec<Record>> {
    let mut batches = Vec::new();
    for t in 0..300u64 {
        let at_ms = BASE_MS + t * 2_000;
        let trace = TraceId::from_parts(at_ms, t as u128 + 1);
        let start = at_ms as i64 * MS;
        let span = |id: u64, parent: u64, path: u32, name: &str, from: i64, to: i64| {
            let mut s = SpanRecord::new(
                trace,
                id,
                parent,
                name.to_string().into(),
                SpanKind::Function,
            );
            s.path = path;
            s.start_ns = start + from * 1000;
            s.duration_ns = ((to - from) * 1000) as u64;
            s.group = Some("search".into());
            s
        };
        let jitter = (t % 13) as i64 * 17;
        let mut geo = span(2, 1, 2, "GEOClient.search", 10, 2_000 + jitter);
        let mut openalex = span(4, 1, 4, "OpenAlexClient.search", 10, 3_000 + 3 * jitter);
        let array = span(3, 1, 3, "ArrayExpressClient.search", 10, 5_000 + 5 * jitter);
        let rank = span(
            5,
            1,
            5,
            "SearchService.rank",
            5_000 + 5 * jitter,
            5_100 + 5 * jitter,
        );
        let mut root = span(1, 0, 1, "SearchService.search", 0, 5_200 + 5 * jitter);
        root.details_mut().attrs.push((
            "organism".into(),
            AttrValue::Str(["human", "mouse", "yeast"][t as usize % 3].into()),
        ));
        root.details_mut()
            .attrs
            .push(("limit".into(), AttrValue::I64(10 + (t % 4) as i64 * 30)));
        if t % 7 == 0 {
            openalex.status = Status::Error;
            openalex.details_mut().error = Some(error("RateLimitError"));
        }
        let mut failed_root = false;
        if t % 11 == 0 {
            geo.status = Status::Error;
            geo.details_mut().error = Some(error("TimeoutError"));
            root.status = Status::Error;
            root.details_mut().error = Some(error("SearchError"));
            failed_root = true;
        }
        if failed_root {
            // The error lane delivers the failed root first, and the buffer delivers it again.
            batches.push(vec![Record::Span(root.clone())]);
        }
        // Ten traces to a batch, as a busy writer sees them.
        if t % 10 == 0 {
            batches.push(Vec::new());
        }
        let open = batches.len() - 1;
        let spans = [geo, array, openalex, rank, root];
        batches[open].extend(spans.into_iter().map(Record::Span));
    }
    for d in 0..30u64 {
        let at_ms = BASE_MS + 1_000 + d * 20_000;
        let trace = TraceId::from_parts(at_ms, 10_000 + d as u128);
        let start = at_ms as i64 * MS;
        let mut step = SpanRecord::new(trace, 2, 1, "apply_filters".into(), SpanKind::Step);
        step.path = 7;
        step.start_ns = start + MS;
        step.duration_ns = (2 * MS + d as i64 * 1000) as u64;
        step.details_mut().input = Some(r#"{"candidates":50}"#.into());
        step.details_mut().reasoning = Some(format!("{} of 50 passed", 10 + d));
        let mut root = SpanRecord::new(trace, 1, 0, "competitor-selection".into(), SpanKind::Trace);
        root.path = 6;
        root.start_ns = start;
        root.duration_ns = (4 * MS) as u64;
        root.details_mut().metadata = Some(format!(r#"{{"user":"u{d}"}}"#));
        batches.push(vec![Record::Trace(TraceEvent::Started {
            trace_id: trace,
            name: "competitor-selection".into(),
            start_ns: start,
            metadata: Some(format!(r#"{{"user":"u{d}"}}"#)),
        })]);
        batches.push(vec![Record::Span(step), Record::Span(root)]);
    }
    batches
}

fn functions() -> Vec<FunctionInfo> {
    [
        "SearchService.search",
        "SearchService.rank",
        "SearchService.never_called",
    ]
    .into_iter()
    .map(|name| FunctionInfo {
        name: name.into(),
        group: Some("search".into()),
        module_path: "search".into(),
        file: "search.rs".into(),
        line: 1,
        is_async: true,
    })
    .collect()
}

fn record_into(backend: &dyn Backend) {
    let mut store = backend.writer().unwrap();
    store.register_functions(&functions()).unwrap();
    let paths = paths();
    for (i, batch) in workload().iter().enumerate() {
        let cache = [CacheDelta {
            component: "geo.cache".into(),
            hits: 3,
            misses: (i % 2) as u64,
        }];
        let stats = PipelineStats {
            ts_ns: BASE_MS as i64 * MS + i as i64,
            recorded: i as u64,
            written: i as u64,
            ..PipelineStats::default()
        };
        store
            .write_batch(
                &WriteBatch {
                    records: batch,
                    cache: &cache,
                    stats: Some(&stats),
                },
                &paths,
            )
            .unwrap();
    }
}

fn all_traces(reader: &dyn Reader) -> Vec<pathwise_store::TraceSummary> {
    all_traces_by(reader, pathwise_store::TraceOrder::Newest)
}

/// Every trace, 47 to a page, in `order`.
fn all_traces_by(
    reader: &dyn Reader,
    order: pathwise_store::TraceOrder,
) -> Vec<pathwise_store::TraceSummary> {
    let mut out = Vec::new();
    let mut filter = TraceFilter {
        limit: 47,
        order,
        ..TraceFilter::default()
    };
    loop {
        let page = reader.list_traces(&filter).unwrap();
        out.extend(page.traces);
        match page
            .next_cursor
            .as_deref()
            .and_then(pathwise_store::Cursor::decode)
        {
            Some(c) => filter.cursor = Some(c),
            None => return out,
        }
    }
}

#[test]
fn sqlite_and_a_two_shard_cluster_give_the_same_answers() {
    let Some(cluster) = Cluster::start(18123) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteBackend::create(dir.path().join("parity.db")).unwrap();
    let clickhouse = ClickHouseBackend::connect(&cluster.url("pw_parity")).unwrap();
    assert_eq!(clickhouse.variant(), Variant::Legacy, "Debian's 18.16");
    record_into(&sqlite);
    record_into(&clickhouse);
    let (s, c) = (sqlite.reader().unwrap(), clickhouse.reader().unwrap());

    // Trace list and details, across pages.
    let (ts, tc) = (all_traces(s.as_ref()), all_traces(c.as_ref()));
    assert_eq!(ts.len(), 330);
    assert_eq!(ts, tc, "trace lists");
    // By duration (many ties: the jitter repeats every 13 traces) and oldest first.
    for (_, order) in pathwise_store::TraceOrder::NAMES {
        let (a, b) = (
            all_traces_by(s.as_ref(), order),
            all_traces_by(c.as_ref(), order),
        );
        assert_eq!(a.len(), 330, "{order:?}");
        assert_eq!(a, b, "{order:?}");
    }
    let failed = TraceFilter {
        status: Some(pathwise_model::TraceStatus::Failed),
        limit: 100,
        ..TraceFilter::default()
    };
    assert_eq!(
        s.list_traces(&failed).unwrap(),
        c.list_traces(&failed).unwrap()
    );
    assert_eq!(s.list_traces(&failed).unwrap().traces.len(), 28); // t % 11 == 0 for t < 300
    let questioned = TraceFilter {
        name_contains: Some("competitor?".into()),
        ..TraceFilter::default()
    };
    assert_eq!(
        c.list_traces(&questioned).unwrap().traces.len(),
        0,
        "a ? is text"
    );
    let named = TraceFilter {
        name_contains: Some("COMPETITOR".into()),
        limit: 100,
        ..TraceFilter::default()
    };
    assert_eq!(c.list_traces(&named).unwrap().traces.len(), 30);
    for t in [&ts[0], &ts[17], &ts[329]] {
        assert_eq!(s.trace(t.trace_id).unwrap(), c.trace(t.trace_id).unwrap());
        assert_eq!(
            s.spans(t.trace_id, None, 1000).unwrap(),
            c.spans(t.trace_id, None, 1000).unwrap(),
            "spans of {}",
            t.trace_id
        );
        assert_eq!(
            s.span_skeleton(t.trace_id).unwrap(),
            c.span_skeleton(t.trace_id).unwrap()
        );
        // Search inside the trace: by name, group, error type (any case); quotes are text.
        for text in [
            "client",
            "SEARCH",
            "timeouterror",
            "ratelimit",
            "it's",
            "%",
            "what?",
            "a??b",
        ] {
            assert_eq!(
                s.find_spans(t.trace_id, text).unwrap(),
                c.find_spans(t.trace_id, text).unwrap(),
                "{text:?} in {}",
                t.trace_id
            );
        }
        assert_eq!(
            critical_path(s.as_ref(), t.trace_id).unwrap(),
            critical_path(c.as_ref(), t.trace_id).unwrap()
        );
    }
    // A search trace's three clients, found by name on both stores.
    let search_trace = ts
        .iter()
        .find(|t| t.name == "SearchService.search")
        .unwrap();
    assert_eq!(
        c.find_spans(search_trace.trace_id, "Client.").unwrap(),
        vec![2, 3, 4]
    );
    assert_eq!(
        c.find_spans(search_trace.trace_id, "search").unwrap().len(),
        5
    );
    // The list's figures under its filters, as well as over everything.
    for filter in [
        pathwise_store::TraceFilter::default(),
        pathwise_store::TraceFilter {
            status: Some(pathwise_model::TraceStatus::Failed),
            ..Default::default()
        },
        pathwise_store::TraceFilter {
            min_duration_ns: Some(1_000_000),
            name_contains: Some("a".into()),
            ..Default::default()
        },
    ] {
        assert_eq!(
            s.trace_stats(&filter).unwrap(),
            c.trace_stats(&filter).unwrap(),
            "{filter:?}"
        );
    }
    assert_eq!(
        s.error_rate_since(0).unwrap(),
        c.error_rate_since(0).unwrap()
    );
    assert_eq!(s.functions().unwrap(), c.functions().unwrap());
    assert_eq!(
        s.latest_pipeline_stats().unwrap(),
        c.latest_pipeline_stats().unwrap()
    );

    // Analytics: node and path metrics, rankings, never executed, error patterns.
    let (a_s, a_c) = (
        Analysis::load(s.as_ref(), Window::all()).unwrap(),
        Analysis::load(c.as_ref(), Window::all()).unwrap(),
    );
    assert_eq!(a_s.nodes.len(), 7);
    for (x, y) in a_s.nodes.iter().zip(&a_c.nodes) {
        assert_eq!((&x.key, x.calls, x.errors), (&y.key, y.calls, y.errors));
        assert_eq!(x.errors_by_type, y.errors_by_type, "{}", x.key);
        assert!(
            (x.total_ms - y.total_ms).abs() < 1e-9 && (x.self_ms - y.self_ms).abs() < 1e-9,
            "{}",
            x.key
        );
        assert!(
            (x.p95_ms - y.p95_ms).abs() <= 0.01 * x.p95_ms,
            "{}: p95 {} vs {}",
            x.key,
            x.p95_ms,
            y.p95_ms
        );
    }
    assert_eq!(a_s.paths.len(), a_c.paths.len());
    let keys = |ms: Vec<&pathwise_analysis::Metrics>| {
        ms.into_iter().map(|m| m.key.clone()).collect::<Vec<_>>()
    };
    assert_eq!(keys(a_s.hot_paths(5)), keys(a_c.hot_paths(5)));
    assert_eq!(keys(a_s.slow_paths(5, 1)), keys(a_c.slow_paths(5, 1)));
    assert_eq!(a_s.never_executed(), ["SearchService.never_called"]);
    assert_eq!(a_s.never_executed(), a_c.never_executed());
    let root = a_c.node("SearchService.search").unwrap();
    assert_eq!(
        (root.calls, root.errors),
        (300, 28),
        "the doubly delivered failed roots count once"
    );
    // A node's and a path's minute series (the heatmap's source), and the decision funnel.
    for of in [
        RollupKey::Node("GEOClient.search"),
        RollupKey::Path("SearchService.search → GEOClient.search"),
    ] {
        let figures = |r: &dyn Reader| -> Vec<(i64, i64, i64, i64, i64)> {
            r.minutes_of(Window::all(), of)
                .unwrap()
                .iter()
                .map(|(m, b)| (*m, b.calls, b.errors, b.min_ns, b.max_ns))
                .collect()
        };
        let on_sqlite = figures(s.as_ref());
        assert_eq!(on_sqlite.iter().map(|f| f.1).sum::<i64>(), 300, "{of:?}");
        assert_eq!(on_sqlite, figures(c.as_ref()), "{of:?}");
    }
    assert_eq!(
        decision_funnel(s.as_ref(), "competitor-selection", Window::all()).unwrap(),
        decision_funnel(c.as_ref(), "competitor-selection", Window::all()).unwrap()
    );
    for attr in ["organism", "limit"] {
        assert_eq!(
            error_patterns(s.as_ref(), Window::all(), attr).unwrap(),
            error_patterns(c.as_ref(), Window::all(), attr).unwrap(),
            "{attr}"
        );
    }
    let window = Window {
        since_ns: BASE_MS as i64 * MS,
        until_ns: (BASE_MS as i64 + 300_000) * MS,
    };
    let (w_s, w_c) = (
        Analysis::load(s.as_ref(), window).unwrap(),
        Analysis::load(c.as_ref(), window).unwrap(),
    );
    assert_eq!(
        keys(w_s.nodes.iter().collect()),
        keys(w_c.nodes.iter().collect())
    );
    assert_eq!(
        s.cache_totals(0, i64::MAX).unwrap(),
        c.cache_totals(0, i64::MAX).unwrap()
    );
    assert_eq!(
        s.node_groups(Window::all()).unwrap(),
        c.node_groups(Window::all()).unwrap()
    );

    // Baselines: saved, versioned, pinned.
    let row = BaselineRow {
        name: "SearchService.search".into(),
        version: 0,
        learned_ns: 5,
        pinned: false,
        samples: 300,
        kept: 290,
        outliers: 10,
        p50: 5.2,
        p95: 5.4,
        p99: 5.5,
        mean: 5.25,
        std_dev: 0.1,
        confidence: 0.9,
    };
    for backend in [&sqlite as &dyn Backend, &clickhouse] {
        let mut w = backend.writer().unwrap();
        assert_eq!(w.save_baseline(&row).unwrap(), 1);
        assert_eq!(
            w.save_baseline(&BaselineRow {
                p95: 6.0,
                ..row.clone()
            })
            .unwrap(),
            2
        );
        assert_eq!(
            w.pin_baseline("SearchService.search", true).unwrap(),
            Some(2)
        );
        assert_eq!(w.pin_baseline("nothing", true).unwrap(), None);
    }
    assert_eq!(s.baselines().unwrap(), c.baselines().unwrap());
    assert!(c.baselines().unwrap()[0].pinned);
}

/// Create, count uses, revoke: the same answers from every backend.
fn check_key_store(backend: &dyn Backend) {
    use pathwise_store::keys::{ApiKey, Scope};
    let mut keys = backend.key_store().unwrap();
    let key = ApiKey {
        id: "k1".into(),
        name: "checkout".into(),
        scopes: vec![Scope::Ingest, Scope::Read],
        projects: vec!["checkout".into()],
        secret_sha256: "ab".repeat(32),
        created_ns: 100,
        revoked_ns: None,
        last_used_ns: None,
        uses: 0,
    };
    keys.create_key(&key).unwrap();
    assert!(keys.create_key(&key).is_err(), "ids are unique");
    keys.record_use("k1", 500, 3).unwrap();
    keys.record_use("k1", 400, 2).unwrap();
    assert!(keys.revoke_key("k1", 900).unwrap());
    assert!(!keys.revoke_key("k1", 950).unwrap());
    assert!(!keys.revoke_key("nope'; DROP", 950).unwrap());
    let stored = keys.keys().unwrap();
    assert_eq!(
        stored,
        vec![ApiKey {
            uses: 5,
            last_used_ns: Some(500),
            revoked_ns: Some(900),
            ..key
        }],
        "{}",
        backend.describe()
    );
}

#[test]
fn alert_state_and_sql_rules_on_the_cluster() {
    let Some(cluster) = Cluster::start(18133) else {
        return;
    };
    let backend = ClickHouseBackend::connect(&cluster.url("pw_alerts")).unwrap();
    record_into(&backend);
    let dir = tempfile::tempdir().unwrap();
    check_key_store(&SqliteBackend::create(dir.path().join("keys.db")).unwrap());
    check_key_store(&backend);
    let mut alerts = backend.alert_store().unwrap();
    let state = AlertStateRow {
        fingerprint: "fp1".into(),
        rule: "slow".into(),
        state: "firing".into(),
        severity: "critical".into(),
        value: Some(2.5),
        labels: [("alertname".to_string(), "slow".to_string())].into(),
        annotations: Default::default(),
        since_ns: 10,
        fired_ns: Some(20),
        last_notified_ns: None,
        clear_since_ns: None,
        acked_by: None,
    };
    let history = HistoryRow {
        ts_ns: 20,
        fingerprint: "fp1".into(),
        rule: "slow".into(),
        state: "firing".into(),
        severity: "critical".into(),
        value: Some(2.5),
        labels: state.labels.clone(),
        annotations: Default::default(),
        actor: "engine".into(),
    };
    alerts
        .apply(&[AlertWrite::History(&history), AlertWrite::SaveState(&state)])
        .unwrap();
    assert_eq!(alerts.load_states().unwrap(), std::slice::from_ref(&state));
    assert_eq!(
        alerts.history(&HistoryFilter::default()).unwrap(),
        std::slice::from_ref(&history)
    );
    let by_rule = HistoryFilter {
        rule: Some("other".into()),
        ..HistoryFilter::default()
    };
    assert!(alerts.history(&by_rule).unwrap().is_empty());
    alerts.apply(&[AlertWrite::DeleteState("fp1")]).unwrap();
    assert!(alerts.load_states().unwrap().is_empty());
    let id = alerts
        .add_silence(&Matcher::Rule("slow".into()), 1_000, 5, "deploy")
        .unwrap();
    assert_eq!(alerts.silences(500).unwrap()[0].id, id);
    assert!(alerts.expire_silence(id, 600).unwrap());
    assert!(alerts.silences(700).unwrap().is_empty());
    assert!(!alerts.expire_silence(12345, 600).unwrap());

    let mut sql = backend.sql_rules().unwrap();
    let limit = Duration::from_secs(1);
    assert_eq!(sql.dialect(), "ClickHouse");
    assert_eq!(
        sql.query_number("SELECT count() FROM spans", limit),
        Ok(Some(1560.0))
    );
    assert_eq!(
        sql.query_number("SELECT countIf(status = 1) FROM spans", limit),
        Ok(Some(99.0))
    );
    assert_eq!(
        sql.query_number("DROP TABLE spans", limit),
        Err(SqlGuardError::Writes)
    );
    assert_eq!(
        sql.query_number("SELECT 1; SELECT 2", limit),
        Err(SqlGuardError::MultipleStatements)
    );
    assert_eq!(
        sql.query_number("SELECT name, 1 FROM spans", limit),
        Err(SqlGuardError::NotANumber)
    );
    assert_eq!(sql.query_number("SELECT NULL", limit), Ok(None));
    let slow = sql.query_number(
        "SELECT count() FROM numbers(100000000000) WHERE sleepEachRow(0.001) = 0",
        limit,
    );
    assert!(
        matches!(
            slow,
            Err(SqlGuardError::Timeout(_)) | Err(SqlGuardError::Failed(_))
        ),
        "{slow:?}"
    );
    let hungry = sql.query_number(
        "SELECT length(groupArray(number)) FROM numbers(200000000)",
        limit,
    );
    assert!(
        matches!(
            hungry,
            Err(SqlGuardError::Memory(_)) | Err(SqlGuardError::Timeout(_))
        ),
        "{hungry:?}"
    );
}

/// What `pathwise migrate` reads and writes besides spans: raw cache and pipeline rows with
/// their own timestamps, and alert history paged oldest first within bounds.
fn timestamped_rows(backend: &dyn Backend) -> Vec<String> {
    let mut writer = backend.writer().unwrap();
    // Two components per instant, one instant written twice: rows, not keys.
    let cache: Vec<CacheRow> = (0..9)
        .map(|i| CacheRow {
            ts_ns: 1_000 + (i / 2) * 10,
            component: ["geo.cache", "array.cache"][i as usize % 2].into(),
            hits: 5 + i as u64,
            misses: (i % 3) as u64,
        })
        .collect();
    writer.write_cache_rows(&cache).unwrap();
    writer.write_cache_rows(&cache[..1]).unwrap();
    let stats: Vec<PipelineStats> = (0..4)
        .map(|i| PipelineStats {
            ts_ns: 1_000 + i * 10,
            recorded: i as u64 * 7,
            dropped: 0,
            write_lag_ns: u64::MAX,
            ..PipelineStats::default()
        })
        .collect();
    writer.write_pipeline_stats(&stats).unwrap();
    let history: Vec<HistoryRow> = (0..6)
        .map(|i| HistoryRow {
            ts_ns: 100 + (i / 2) * 10,
            fingerprint: format!("fp{i}"),
            rule: "slow".into(),
            state: "firing".into(),
            severity: "warning".into(),
            value: (i % 2 == 0).then_some(i as f64),
            labels: Default::default(),
            annotations: [("summary".to_string(), format!("#{i}"))].into(),
            actor: "engine".into(),
        })
        .collect();
    let mut alerts = backend.alert_store().unwrap();
    let writes: Vec<AlertWrite<'_>> = history.iter().map(AlertWrite::History).collect();
    alerts.apply(&writes).unwrap();

    let reader = backend.reader().unwrap();
    let sorted = |mut rows: Vec<CacheRow>| {
        // Rows of one instant have no order of their own.
        rows.sort_by_key(|r| (r.ts_ns, r.component.clone(), r.hits, r.misses));
        rows
    };
    let all = sorted(reader.cache_rows(i64::MIN, i64::MAX, 100).unwrap());
    let mut expected = cache.clone();
    expected.push(cache[0].clone());
    assert_eq!(all, sorted(expected), "{}", backend.describe());
    // `(since, until]`, oldest first, limited.
    let window = sorted(reader.cache_rows(1_000, 1_020, 100).unwrap());
    assert_eq!(window.len(), 4);
    assert!(window.iter().all(|r| r.ts_ns == 1_010 || r.ts_ns == 1_020));
    let first = reader.cache_rows(i64::MIN, i64::MAX, 3).unwrap();
    assert_eq!(
        first.iter().map(|r| r.ts_ns).collect::<Vec<_>>(),
        [1_000; 3]
    );
    let stats_read = reader.pipeline_stats_rows(i64::MIN, i64::MAX, 100).unwrap();
    assert_eq!(stats_read.len(), 4);
    assert_eq!(stats_read[0].write_lag_ns, i64::MAX as u64, "clamped alike");
    assert_eq!(
        reader.pipeline_stats_rows(1_000, 1_020, 1).unwrap(),
        [PipelineStats {
            write_lag_ns: i64::MAX as u64,
            ..stats[1]
        }]
    );
    let filter = |since, until, oldest_first| HistoryFilter {
        since_ns: Some(since),
        until_ns: until,
        oldest_first,
        ..HistoryFilter::default()
    };
    assert_eq!(alerts.history(&filter(0, None, true)).unwrap(), history);
    let mut newest = history.clone();
    newest.reverse();
    assert_eq!(alerts.history(&filter(0, None, false)).unwrap(), newest);
    assert_eq!(
        alerts.history(&filter(110, Some(120), true)).unwrap(),
        history[2..4]
    );
    vec![
        format!("{all:?}"),
        format!("{window:?}"),
        format!("{stats_read:?}"),
        format!("{:?}", reader.cache_totals(1_000, 1_020).unwrap()),
    ]
}

#[test]
fn timestamped_rows_read_back_alike() {
    let Some(cluster) = Cluster::start(18153) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteBackend::create(dir.path().join("rows.db")).unwrap();
    let clickhouse = ClickHouseBackend::connect(&cluster.url("pw_rows")).unwrap();
    assert_eq!(timestamped_rows(&sqlite), timestamped_rows(&clickhouse));
}

#[test]
fn unreachable_servers_and_bad_addresses_are_clear_errors() {
    let e = ClickHouseBackend::connect("clickhouse://127.0.0.1:1/pw")
        .err()
        .unwrap();
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
    for bad in [
        "sqlite:x.db",
        "clickhouse:///pw",
        "clickhouse://h:1/pw?shards=2",
        "clickhouse://h:1/p-w",
    ] {
        assert!(ClickHouseBackend::connect(bad).is_err(), "{bad}");
    }
}
