//! Analytics against known truth: a generated workload with an exactly known distribution of
//! paths, latencies and errors, written through the real store (so the real rollups are used).

use std::collections::HashMap;

use pathwise_analysis::{
    Analysis, SKETCH_RELATIVE_ERROR, Window, dependency_graph, error_patterns,
};
use pathwise_model::{AttrValue, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{FunctionInfo, PathList, Store, WriteBatch};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const REQUESTS: usize = 20_000;
const BASE_MS: u64 = 1_750_000_000_000;

/// What the generator did, to compare the analytics with.
#[derive(Default)]
struct Truth {
    durations: HashMap<&'static str, Vec<i64>>,
    calls: HashMap<&'static str, i64>,
    errors: HashMap<&'static str, i64>,
}

const ROOT: &str = "api.handle";
const CACHE: &str = "api.handle → cache.get";
const DB: &str = "api.handle → db.query";
const ROWS: &str = "api.handle → db.query → db.fetch_rows";
const CRAWL: &str = "api.handle → crawler.fetch";

fn generate(db: &std::path::Path) -> Truth {
    let paths = PathList(vec![
        (0, "api.handle".into()),
        (1, "cache.get".into()),
        (1, "db.query".into()),
        (3, "db.fetch_rows".into()),
        (1, "crawler.fetch".into()),
    ]);
    let mut store = SqliteStore::open(db).unwrap();
    store
        .register_functions(
            &[
                "api.handle",
                "cache.get",
                "db.query",
                "db.fetch_rows",
                "crawler.fetch",
                "legacy.export",
                "admin.reindex",
            ]
            .map(|n| FunctionInfo {
                name: n.into(),
                group: None,
                module_path: "app".into(),
                file: "app.rs".into(),
                line: 1,
                is_async: false,
            }),
        )
        .unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut truth = Truth::default();
    let mut batch = Vec::new();
    for i in 0..REQUESTS {
        let trace = TraceId::from_parts(BASE_MS + i as u64 * 10, i as u128);
        let start = (BASE_MS + i as u64 * 10) as i64 * 1_000_000;
        let mut span = |id: u64,
                        parent: u64,
                        path: u32,
                        name: &'static str,
                        text: &'static str,
                        dur_ns: i64,
                        failed: bool,
                        truth: &mut Truth| {
            let mut s = SpanRecord::new(trace, id, parent, name.into(), SpanKind::Function);
            s.path = path;
            s.start_ns = start + id as i64 * 1000;
            s.duration_ns = dur_ns as u64;
            s.details_mut().attrs.push((
                "region".into(),
                AttrValue::from(if i % 4 == 0 { "eu" } else { "us" }),
            ));
            if failed {
                s.status = Status::Error;
                s.details_mut().error = Some(pathwise_model::ErrorInfo {
                    error_type: "DbTimeout".into(),
                    message: "timeout".into(),
                    chain: vec![],
                });
            }
            truth.durations.entry(text).or_default().push(dur_ns);
            *truth.calls.entry(text).or_default() += 1;
            *truth.errors.entry(text).or_default() += failed as i64;
            batch.push(Record::Span(s));
        };
        let roll = rng.next();
        let mut child_total = 0;
        if roll < 0.70 {
            let d = (200_000.0 + rng.next() * 800_000.0) as i64; // 0.2–1 ms
            span(2, 1, 2, "cache.get", CACHE, d, false, &mut truth);
            child_total += d;
        } else if roll < 0.95 {
            let rows = (2_000_000.0 + rng.next() * 8_000_000.0) as i64; // 2–10 ms
            // Exactly every 20th DB call from the eu region fails: error rate known exactly.
            let failed = i % 4 == 0 && (i / 4) % 5 == 0;
            span(4, 3, 4, "db.fetch_rows", ROWS, rows, false, &mut truth);
            span(
                3,
                1,
                3,
                "db.query",
                DB,
                rows + 1_000_000,
                failed,
                &mut truth,
            );
            child_total += rows + 1_000_000;
        } else {
            let d = (100_000_000.0 + rng.next() * 200_000_000.0) as i64; // 100–300 ms
            span(5, 1, 5, "crawler.fetch", CRAWL, d, false, &mut truth);
            child_total += d;
        }
        span(
            1,
            0,
            1,
            "api.handle",
            ROOT,
            child_total + 500_000,
            false,
            &mut truth,
        );
        if batch.len() >= 5_000 {
            store
                .write_batch(
                    &WriteBatch {
                        records: &batch,
                        ..WriteBatch::EMPTY
                    },
                    &paths,
                )
                .unwrap();
            batch.clear();
        }
    }
    store
        .write_batch(
            &WriteBatch {
                records: &batch,
                ..WriteBatch::EMPTY
            },
            &paths,
        )
        .unwrap();
    truth
}

fn exact_quantile(values: &mut [i64], q: f64) -> f64 {
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
    values[rank] as f64 / 1e6
}

#[test]
fn analytics_match_the_known_workload() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("truth.db");
    let mut truth = generate(&db);
    let reader = SqliteReader::open(&db).unwrap();
    let analysis = Analysis::load(&reader, Window::all()).unwrap();
    assert_eq!(analysis.requests, REQUESTS as i64);

    for text in [ROOT, CACHE, DB, ROWS, CRAWL] {
        let m = analysis
            .path(text)
            .unwrap_or_else(|| panic!("no path {text}"));
        let calls = truth.calls[text];
        assert_eq!(m.calls, calls, "{text}");
        // Frequencies: share of requests within ±0.5 percentage points (here: exact counts).
        let expected_share = calls as f64 / REQUESTS as f64;
        assert!(
            (m.share_of_requests - expected_share).abs() <= 0.005,
            "{text}: {} vs {expected_share}",
            m.share_of_requests
        );
        // Error rates: exact.
        assert_eq!(m.errors, truth.errors[text], "{text}");
        assert_eq!(m.error_rate, truth.errors[text] as f64 / calls as f64);
        // Percentiles: within the sketch's relative error of the exact order statistic.
        let durations = truth.durations.get_mut(text).unwrap();
        for (q, got) in [(0.5, m.p50_ms), (0.95, m.p95_ms), (0.99, m.p99_ms)] {
            let exact = exact_quantile(durations, q);
            let bound = exact * SKETCH_RELATIVE_ERROR * 1.0001;
            assert!(
                (got - exact).abs() <= bound,
                "{text} p{}: {got} vs exact {exact}",
                q * 100.0
            );
        }
        let exact_total: i64 = durations.iter().sum();
        assert!(
            (m.total_ms - exact_total as f64 / 1e6).abs() < 1e-6,
            "{text} total"
        );
    }
    // Self time of the DB query is its own millisecond per call.
    let db_query = analysis.path(DB).unwrap();
    assert!((db_query.self_ms - db_query.calls as f64).abs() < 1e-6);

    // Rankings.
    assert_eq!(analysis.hot_paths(1)[0].key, ROOT);
    assert_eq!(analysis.hot_paths(2)[1].key, CACHE);
    let slow: Vec<&str> = analysis
        .slow_paths(5, 1)
        .iter()
        .map(|m| m.key.as_str())
        .collect();
    assert_eq!(
        slow[0], CRAWL,
        "the deliberately slow path ranks first: {slow:?}"
    );
    assert_eq!(analysis.error_paths(5)[0].key, DB);
    assert_eq!(
        analysis.error_paths(5)[0].errors_by_type,
        vec![("DbTimeout".to_string(), truth.errors[DB])]
    );
    assert_eq!(analysis.time_consumers(1)[0].key, "crawler.fetch");
    // Never executed: exactly the two registered functions that never ran.
    assert_eq!(
        analysis.never_executed(),
        vec!["admin.reindex", "legacy.export"]
    );
    assert!(
        analysis
            .opportunities()
            .iter()
            .any(|o| o.starts_with("crawler.fetch:"))
    );

    let graph = dependency_graph(&analysis);
    let edge = graph
        .iter()
        .find(|e| e.caller == "db.query" && e.callee == "db.fetch_rows")
        .unwrap();
    assert_eq!(edge.calls, truth.calls[ROWS]);

    // Error patterns: every DB failure is in the eu region.
    let patterns = error_patterns(&reader, Window::all(), "region").unwrap();
    let eu = patterns.values.iter().find(|v| v.value == "eu").unwrap();
    let us = patterns.values.iter().find(|v| v.value == "us").unwrap();
    assert_eq!((eu.errors, us.errors), (truth.errors[DB], 0));
    assert!(eu.flagged && !us.flagged);
}

#[test]
fn windows_select_the_right_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("window.db");
    generate(&db);
    let reader = SqliteReader::open(&db).unwrap();
    // Requests are 10 ms apart: the first minute holds 6,000 of them.
    let first_minute_ns = (BASE_MS as i64).div_euclid(60_000) * 60_000 * 1_000_000;
    let window = Window {
        since_ns: first_minute_ns,
        until_ns: first_minute_ns + 60_000_000_000,
    };
    let analysis = Analysis::load(&reader, window).unwrap();
    let in_first_minute = (0..REQUESTS)
        .filter(|i| (BASE_MS + *i as u64 * 10) as i64 * 1_000_000 < window.until_ns)
        .count();
    assert_eq!(analysis.requests, in_first_minute as i64);
    let none = Analysis::load(
        &reader,
        Window {
            since_ns: 0,
            until_ns: 1_000_000,
        },
    )
    .unwrap();
    assert!(none.paths.is_empty());
}

#[test]
fn flame_graphs_and_critical_paths_are_drawn_from_real_data() {
    use pathwise_analysis::{
        critical_path, diff_flamegraph_svg, trace_flamegraph_svg, window_flamegraph_svg,
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("flame.db");
    generate(&db);
    let reader = SqliteReader::open(&db).unwrap();
    let all = Analysis::load(&reader, Window::all()).unwrap();
    let svg = window_flamegraph_svg(&all).unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.contains("crawler.fetch") && svg.contains("db.fetch_rows")
    );

    let first_minute_ns = (BASE_MS as i64).div_euclid(60_000) * 60_000 * 1_000_000;
    let early = Analysis::load(
        &reader,
        Window {
            since_ns: 0,
            until_ns: first_minute_ns + 60_000_000_000,
        },
    )
    .unwrap();
    let late = Analysis::load(
        &reader,
        Window {
            since_ns: first_minute_ns + 60_000_000_000,
            until_ns: i64::MAX,
        },
    )
    .unwrap();
    assert!(diff_flamegraph_svg(&early, &late).unwrap().contains("<svg"));

    // Trace 0's request: which child it ran decides its critical path.
    let trace = TraceId::from_parts(BASE_MS, 0);
    let svg = trace_flamegraph_svg(&reader, trace).unwrap();
    assert!(svg.contains("api.handle"));
    let path = critical_path(&reader, trace).unwrap();
    assert_eq!(path[0].name, "api.handle");
    assert!(path.len() >= 2, "the root and the child that finished last");
    assert!(
        (path[0].self_ms - 0.5).abs() < 1e-9,
        "0.5 ms of the root is its own"
    );
}
