//! Scaling analysis through a real SQLite store, with growth known by construction:
//!
//! - `Catalog.dedupe` lasts 2 µs · n² (log-normal noise, σ = 0.3) for its attribute
//!   `dataset_count` = n;
//! - `Catalog.index` lasts 40 µs · n (same noise) for its captured argument `items`, an array
//!   of n ids summarised as capture writes it (the first ten, then `"+N more"`), stored as
//!   compressed payloads once a dictionary is trained;
//!
//! and the SDK path: a `#[monitor]`ed function's captured vector argument read back as sizes.

mod support;

use pathwise_analysis::Window;
use pathwise_analysis::perf::scaling::Growth;
use pathwise_analysis::scaling::{SizeField, scaling, size_fields};
use pathwise_model::{AttrValue, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};
use support::Rng;

const SIZES: [u64; 6] = [10, 20, 40, 80, 160, 320];
const PER_SIZE: u64 = 50;
const BASE_MS: u64 = 1_780_000_000_000;

/// The input of a monitored call taking `items` of length `n`, as capture summarises it.
fn captured_items(n: u64) -> String {
    let shown: Vec<String> = (0..n.min(10)).map(|i| i.to_string()).collect();
    let more = if n > 10 {
        format!(",\"+{} more\"", n - 10)
    } else {
        String::new()
    };
    format!(
        "{{\"items\":[{}{more}],\"verbose\":false}}",
        shown.join(",")
    )
}

/// 300 traces `api.merge` → `Catalog.dedupe` + `Catalog.index`, one a second; every 25th
/// dedupe fails fast (left out of the fit).
fn record(db: &std::path::Path) {
    let mut store = SqliteStore::open(db).unwrap();
    let mut paths = PathList::default();
    let root = paths.push(0, "api.merge");
    let dedupe_path = paths.push(root, "Catalog.dedupe");
    let index_path = paths.push(root, "Catalog.index");
    let mut rng = Rng(0x5eed_cafe);
    let mut records = Vec::new();
    let mut t = 0u64;
    for _ in 0..PER_SIZE {
        for n in SIZES {
            t += 1;
            let at_ms = BASE_MS + t * 1000;
            let trace = TraceId::from_parts(at_ms, u128::from(t));
            let span = |id: u64, parent: u64, path: u32, name: &str, ms: f64| {
                let mut s = SpanRecord::new(
                    trace,
                    id,
                    parent,
                    name.to_string().into(),
                    SpanKind::Function,
                );
                s.path = path;
                s.group = Some("catalog".into());
                s.start_ns = at_ms as i64 * 1_000_000 + id as i64;
                s.duration_ns = (ms * 1e6) as u64;
                s
            };
            let n_f = n as f64;
            let mut dedupe = span(
                2,
                1,
                dedupe_path,
                "Catalog.dedupe",
                rng.lognormal(0.002 * n_f * n_f, 0.3),
            );
            dedupe
                .details_mut()
                .attrs
                .push(("dataset_count".into(), AttrValue::I64(n as i64)));
            if t.is_multiple_of(25) {
                dedupe.status = Status::Error;
                dedupe.duration_ns = 1_000;
            }
            let mut index = span(
                3,
                1,
                index_path,
                "Catalog.index",
                rng.lognormal(0.04 * n_f, 0.3),
            );
            index.details_mut().input = Some(captured_items(n));
            let total = dedupe.duration_ns + index.duration_ns + 1_000;
            let mut root_span = span(1, 0, root, "api.merge", 0.0);
            root_span.duration_ns = total;
            records.extend([dedupe, index, root_span].map(Record::Span));
        }
    }
    for batch in records.chunks(300) {
        store
            .write_batch(
                &WriteBatch {
                    records: batch,
                    ..WriteBatch::EMPTY
                },
                &paths,
            )
            .unwrap();
    }
}

#[test]
fn quadratic_and_linear_growth_are_found_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("scaling.db");
    record(&db);
    let reader = SqliteReader::open(&db).unwrap();

    let dedupe = scaling(
        &reader,
        "Catalog.dedupe",
        &SizeField::parse("dataset_count").unwrap(),
        Window::all(),
        5000,
    )
    .unwrap();
    assert_eq!((dedupe.calls, dedupe.failed, dedupe.used), (300, 12, 288));
    let fit = dedupe.fit.as_ref().expect("a fit");
    assert!((fit.exponent - 2.0).abs() < 0.1, "{}", fit.summary);
    assert!(fit.ci_low <= 2.0 && 2.0 <= fit.ci_high, "{}", fit.summary);
    assert_eq!(
        (fit.growth, fit.super_linear, fit.complexity.as_str()),
        (Growth::SuperLinear, true, "O(n^2)")
    );
    assert!(
        (fit.coefficient / 0.002 - 1.0).abs() < 0.3,
        "coefficient {}",
        fit.coefficient
    );
    assert_eq!(
        (fit.min_size, fit.max_size, fit.distinct_sizes),
        (10.0, 320.0, 6)
    );
    assert_eq!(dedupe.points.len(), 288);

    let index = scaling(
        &reader,
        "Catalog.index",
        &SizeField::parse("input.items").unwrap(),
        Window::all(),
        5000,
    )
    .unwrap();
    assert_eq!((index.calls, index.used, index.without_size), (300, 300, 0));
    let fit = index.fit.as_ref().expect("a fit");
    assert!((fit.exponent - 1.0).abs() < 0.1, "{}", fit.summary);
    assert!(fit.ci_low <= 1.0 && 1.0 <= fit.ci_high, "{}", fit.summary);
    assert_eq!(
        (fit.growth, fit.super_linear, fit.complexity.as_str()),
        (Growth::Linear, false, "O(n)")
    );
    assert_eq!(fit.max_size, 320.0, "the +N more of the capture counts");

    // The newest calls only: the last 60 traces hold every size ten times.
    let newest = scaling(
        &reader,
        "Catalog.index",
        &SizeField::parse("input.items").unwrap(),
        Window::all(),
        60,
    )
    .unwrap();
    assert_eq!(newest.used, 60);
    // A window with nothing in it, an unknown node, a field nobody has: reasons, not errors.
    let before = Window {
        since_ns: 0,
        until_ns: BASE_MS as i64 * 1_000_000,
    };
    let empty = scaling(
        &reader,
        "Catalog.index",
        &SizeField::parse("input.items").unwrap(),
        before,
        5000,
    )
    .unwrap();
    assert!(
        empty
            .refused
            .unwrap()
            .starts_with("no calls of Catalog.index")
    );
    let missing = scaling(
        &reader,
        "Catalog.dedupe",
        &SizeField::parse("rows").unwrap(),
        Window::all(),
        5000,
    )
    .unwrap();
    assert_eq!((missing.failed, missing.without_size), (12, 288));
    let reason = missing.refused.unwrap();
    assert!(
        reason.contains("none of the 288 calls has a size in rows"),
        "{reason}"
    );

    let fields = size_fields(&reader, "Catalog.index", Window::all()).unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f.size.as_str()).collect();
    assert_eq!(names, ["input.items"], "booleans are no size");
    assert!(fields[0].enough_range && fields[0].min == 10.0 && fields[0].max == 320.0);
    let fields = size_fields(&reader, "Catalog.dedupe", Window::all()).unwrap();
    assert_eq!(fields[0].size, "dataset_count");
    assert_eq!(fields[0].calls, 200, "a sample of the newest 200");
}

#[pathwise::monitor(name = "Catalog.load_rows", group = "catalog")]
fn load_rows(rows: Vec<u32>, ids: Vec<String>, batch: usize) -> usize {
    rows.len() + ids.len() + batch
}

#[test]
fn sizes_of_arguments_captured_by_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sdk.db");
    let recording = pathwise::init(pathwise::Config {
        db_path: db.clone(),
        data_dir: Some(dir.path().join("spool")),
        resource_interval: None,
        ..pathwise::Config::default()
    })
    .unwrap();
    for n in [3usize, 30, 300] {
        let ids = (0..n).map(|i| format!("id{i}")).collect();
        load_rows(vec![7; n], ids, n * 2);
    }
    recording.shutdown();
    let reader = SqliteReader::open(&db).unwrap();
    let mut fields = size_fields(&reader, "Catalog.load_rows", Window::all()).unwrap();
    fields.sort_by(|a, b| a.size.cmp(&b.size));
    let found: Vec<(&str, f64, f64)> = fields
        .iter()
        .map(|f| (f.size.as_str(), f.min, f.max))
        .collect();
    // A numeric vector (summarised as its length past 16 numbers), a list of strings (ten
    // shown, then "+N more") and a plain number.
    assert_eq!(
        found,
        [
            ("input.batch", 6.0, 600.0),
            ("input.ids", 3.0, 300.0),
            ("input.rows", 3.0, 300.0)
        ]
    );
    let rows = scaling(
        &reader,
        "Catalog.load_rows",
        &SizeField::parse("input.rows").unwrap(),
        Window::all(),
        100,
    )
    .unwrap();
    let mut sizes: Vec<f64> = rows.points.iter().map(|p| p.size).collect();
    sizes.sort_by(f64::total_cmp);
    assert_eq!(sizes, [3.0, 30.0, 300.0]);
    assert!(rows.refused.unwrap().contains("only 3 usable calls"));
}
