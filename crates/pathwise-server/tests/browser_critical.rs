//! The critical path of a parallel trace in the dashboard, in a real headless Chromium (the
//! harness of `tests/common/browser.rs`): the planning documents' search fan-out, written with
//! exact times — search 0–716 ms; validate 0–1; GEO 1–300, ArrayExpress 1–715 and OpenAlex
//! 1–420 in parallel; rank 715–716. The path is search → validate → ArrayExpress → rank: the
//! two sources that finished first are off it, in the tab, in the waterfall's outline and in
//! the Analysis page's latency share. Needs `/usr/bin/chromium` and `/usr/bin/chromedriver`.

mod common;

use common::browser::*;
use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
use pathwise_server::ServerConfig;
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;
use serde_json::json;

const MS: i64 = 1_000_000;

fn record(db: &std::path::Path) -> String {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        - 60_000;
    let trace = TraceId::from_parts(now_ms, 42);
    let start = now_ms as i64 * MS;
    let span = |id: u64, parent: u64, path: u32, name: &str, from: i64, to: i64| {
        let mut s = SpanRecord::new(
            trace,
            id,
            parent,
            name.to_string().into(),
            SpanKind::Function,
        );
        s.path = path;
        s.start_ns = start + from * MS;
        s.duration_ns = ((to - from) * MS) as u64;
        Record::Span(s)
    };
    let records = vec![
        span(2, 1, 2, "SearchService.validate", 0, 1),
        span(3, 1, 3, "GEOClient.search", 1, 300),
        span(4, 1, 4, "ArrayExpressClient.search", 1, 715),
        span(5, 1, 5, "OpenAlexClient.search", 1, 420),
        span(6, 1, 6, "SearchService.rank", 715, 716),
        span(1, 0, 1, "SearchService.search", 0, 716),
    ];
    let paths = PathList(vec![
        (0, "SearchService.search".into()),
        (1, "SearchService.validate".into()),
        (1, "GEOClient.search".into()),
        (1, "ArrayExpressClient.search".into()),
        (1, "OpenAlexClient.search".into()),
        (1, "SearchService.rank".into()),
    ]);
    SqliteStore::open(db)
        .unwrap()
        .write_batch(
            &WriteBatch {
                records: &records,
                ..WriteBatch::EMPTY
            },
            &paths,
        )
        .unwrap();
    trace.to_string()
}

#[tokio::test]
async fn the_critical_path_of_a_parallel_fan_out_skips_the_branches_that_finished_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fan-out.db");
    let id = record(&db);
    let addr = common::start_server(ServerConfig::new(common::backend(&db)));
    let base = format!("http://{addr}");
    in_browser("critical_fan_out", |client| async move {
        open(&client, &format!("{base}/#/trace/{id}"), "detail").await;
        // The waterfall outlines the critical spans only.
        element(&client, ".wf-row.wf-critical[data-name=\"ArrayExpressClient.search\"]").await;
        let outlined = texts(&client, ".wf-row.wf-critical").await;
        assert!(
            js(&client, "return document.querySelectorAll('.wf-row.wf-critical[data-name=\"GEOClient.search\"], .wf-row.wf-critical[data-name=\"OpenAlexClient.search\"]').length;").await
                == json!(0),
            "{outlined:?}"
        );
        click(&client, "#tab-critical").await;
        element(&client, "#critical-path-table tbody tr").await;
        let names = texts(&client, "#critical-path-table tbody .cp-name").await;
        assert_eq!(
            names,
            [
                "SearchService.search",
                "SearchService.validate",
                "ArrayExpressClient.search",
                "SearchService.rank"
            ]
        );
        let rows = texts(&client, "#critical-path-table tbody tr").await;
        assert!(rows[2].contains("714"), "ArrayExpress owns 714 ms of the path: {rows:?}");

        // The Analysis page: GEO and OpenAlex have no share of the request's latency.
        open(&client, &format!("{base}/#/analysis?range=1h"), "analysis").await;
        element(&client, "#node-table tbody tr[data-node=\"GEOClient.search\"]").await;
        let share = |node: &str| {
            format!(
                "const row = document.querySelector('#node-table tbody tr[data-node=\"{node}\"]'); \
                 const col = [...document.querySelectorAll('#node-table thead th')].findIndex(th => th.dataset.sort === 'share_of_latency'); \
                 return row.children[col].textContent.trim();"
            )
        };
        let geo = js(&client, &share("GEOClient.search")).await;
        let array = js(&client, &share("ArrayExpressClient.search")).await;
        assert!(geo.as_str().unwrap().starts_with('0'), "GEO: {geo}");
        assert!(array.as_str().unwrap().starts_with("99"), "ArrayExpress: {array}");
    })
    .await;
}
