//! The Queries page (`#/queries`) in a real headless Chromium (the harness of
//! `tests/common/browser.rs`) against a real server over the queries fixture
//! (`tests/common/db_queries.rs`) with a slow-query threshold of 250 ms: the statements table,
//! its sorting, the links to a statement's traces and to one execution's trace, and the
//! slow-query log with its threshold. Screenshots go to `target/browser-artifacts/queries_*.png`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use common::db_queries::{SELECT_QUOTED, SELECT_USER, UPDATE_CART, UPDATE_CART_WRITTEN};
use fantoccini::Client;
use pathwise_server::ServerConfig;
use serde_json::{Value, json};

/// Opens the Queries page at `query` and waits until both panels have loaded.
async fn open_queries(client: &Client, base: &str, query: &str) {
    open(client, &format!("{base}/#/queries{query}"), "queries").await;
    element(client, "#query-statements[data-state=\"loaded\"]").await;
    element(client, "#slow-queries[data-state=\"loaded\"]").await;
}

/// The statements of the table, top to bottom.
async fn statement_order(client: &Client) -> Value {
    js(
        client,
        "return [...document.querySelectorAll('#query-table tbody tr')].map(r => r.dataset.statement);",
    )
    .await
}

/// The cell of column `col` in the row of `statement`.
async fn cell(client: &Client, statement: &str, col: &str) -> String {
    let script = format!(
        "const row = [...document.querySelectorAll('#query-table tbody tr')].find(r => r.dataset.statement === {statement:?});
         return row.querySelectorAll('td')[{col}].textContent.trim();"
    );
    js(client, &script).await.as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_statements_table_sorts_by_any_column_and_links_to_the_traces() {
    let base = common::db_queries::server();
    in_browser("queries_statements", move |client| async move {
        open_queries(&client, &base, "").await;
        assert_eq!(
            js(&client, "return document.querySelector('.topnav a[aria-current=\"page\"]').textContent;").await,
            json!("Queries")
        );
        assert_eq!(texts(&client, "[data-stat=statements] .card-value").await, ["3"]);
        assert_eq!(texts(&client, "[data-stat=calls] .card-value").await, ["17"]);
        assert_eq!(texts(&client, "[data-stat=errors] .card-value").await, ["1 (5.88%)"]);

        // Slowest first by default: p95 300 ms, 90 ms, 5 ms.
        assert_eq!(
            statement_order(&client).await,
            json!([UPDATE_CART, SELECT_USER, SELECT_QUOTED])
        );
        assert_eq!(
            js(&client, "return document.querySelector('#queries-order [aria-pressed=\"true\"]').textContent;").await,
            json!("Slowest")
        );
        // Columns: Statement, Database, Calls, Errors, Avg, p50, p95, p99, Max, Rows, Total.
        assert_eq!(cell(&client, SELECT_USER, "1").await, "sqlite");
        assert_eq!(cell(&client, SELECT_USER, "2").await, "10");
        assert_eq!(cell(&client, SELECT_USER, "3").await, "1 (10.0%)");
        assert_eq!(cell(&client, SELECT_USER, "4").await, "55.0 ms");
        assert_eq!(cell(&client, UPDATE_CART, "1").await, "postgresql");
        assert_eq!(cell(&client, UPDATE_CART, "9").await, "2");
        assert_eq!(cell(&client, UPDATE_CART, "10").await, "1.20 s");
        let failing_row = js(
            &client,
            "return [...document.querySelectorAll('#query-table tbody tr.has-error-row')].map(r => r.dataset.statement);",
        )
        .await;
        assert_eq!(failing_row, json!([SELECT_USER]));

        // A heading sorts by its column, a second click the other way round.
        click(&client, "#query-table th[data-sort=calls] button").await;
        assert_eq!(
            statement_order(&client).await,
            json!([SELECT_USER, UPDATE_CART, SELECT_QUOTED])
        );
        assert_eq!(
            js(&client, "return document.querySelector('#query-table th[data-sort=calls]').getAttribute('aria-sort');").await,
            json!("descending")
        );
        click(&client, "#query-table th[data-sort=calls] button").await;
        assert_eq!(
            statement_order(&client).await,
            json!([SELECT_QUOTED, UPDATE_CART, SELECT_USER])
        );
        until(&client, "the sort in the address", "location.hash.includes('sort=calls') && location.hash.includes('dir=asc')").await;
        click(&client, "#query-table th[data-sort=statement] button").await;
        assert_eq!(
            statement_order(&client).await,
            json!([SELECT_QUOTED, SELECT_USER, UPDATE_CART])
        );
        click(&client, "#queries-order [data-preset=total_ms]").await;
        assert_eq!(
            statement_order(&client).await,
            json!([UPDATE_CART, SELECT_USER, SELECT_QUOTED])
        );
        screenshot(&client, "queries_sorted_by_total").await;

        // The statement with quotes in it leads to exactly its three traces.
        let row = format!("#query-table tbody tr[data-statement='{}'] a.q-traces", SELECT_QUOTED.replace('"', "\\\""));
        click(&client, &row).await;
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        until(&client, "the statement's traces", "document.querySelectorAll('#trace-rows tr.trace-row').length === 3").await;
        assert_eq!(texts(&client, "#trace-rows .trace-name").await, ["api.search", "api.search", "api.search"]);
        let search = js(&client, "return document.querySelector('#trace-search').value;").await;
        assert!(search.as_str().unwrap().contains("name == \"SELECT \\\"name\\\""), "{search}");
    })
    .await;
}

#[tokio::test]
async fn the_slow_query_log_follows_its_threshold_and_opens_a_trace() {
    let base = common::db_queries::server();
    in_browser("queries_slow_log", move |client| async move {
        open_queries(&client, &base, "?range=1h").await;
        scroll_to(&client, "#slow-queries").await;
        // The server's threshold: the four 300 ms updates, newest first, the newest as written.
        assert_eq!(
            js(&client, "return document.querySelector('#slow-threshold').value;").await,
            json!("250")
        );
        let caption = texts(&client, "#slow-caption").await.remove(0);
        assert!(caption.contains("at least 250 ms"), "{caption}");
        assert_eq!(texts(&client, "[data-stat=slow] .card-value").await, ["4"]);
        let statements = texts(&client, "#slow-table tbody .q-sql").await;
        assert_eq!(statements, [UPDATE_CART; 4]);
        assert_eq!(texts(&client, "#slow-table tbody .q-duration").await, ["300 ms"; 4]);
        assert_eq!(texts(&client, "#slow-table tbody tr:first-child .q-full").await, [UPDATE_CART_WRITTEN]);
        assert_eq!(texts(&client, "#slow-table tbody tr:first-child .q-path").await, ["from api.cart"]);
        screenshot(&client, "queries_slow_log_panel").await;

        // A lower threshold brings in the failed 100 ms select.
        client
            .execute("const input = document.querySelector('#slow-threshold'); input.value = '95';", vec![])
            .await
            .unwrap();
        click(&client, "#slow-form button[type=submit]").await;
        until(&client, "five slow executions", "document.querySelectorAll('#slow-table tbody tr').length === 5").await;
        let failed = js(&client,
            "return [...document.querySelectorAll('#slow-table tbody tr.has-error-row')].map(r => [r.querySelector('.q-sql').textContent, r.querySelector('.badge').textContent, r.querySelector('.has-errors').textContent]);"
        ).await;
        assert_eq!(failed, json!([[SELECT_USER, "error", "DatabaseBusy"]]));
        until(&client, "the threshold in the address", "location.hash.includes('threshold_ms=95')").await;

        // An execution opens its trace.
        let trace_id = js(&client, "return document.querySelector('#slow-table tbody tr').dataset.traceId;").await;
        click(&client, "#slow-table tbody tr:first-child a.q-trace").await;
        element(&client, "body[data-ready=\"1\"][data-view=\"detail\"]").await;
        until(&client, "the trace's address", &format!("location.hash === '#/trace/{}'", trace_id.as_str().unwrap())).await;
    })
    .await;
}

#[tokio::test]
async fn a_store_without_queries_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let addr = common::start_server(ServerConfig::new(common::backend(
        dir.path().join("empty.db"),
    )));
    let base = format!("http://{addr}");
    in_browser("queries_empty", move |client| async move {
        let _dir = dir;
        open_queries(&client, &base, "?range=15m").await;
        let statements = texts(&client, "#query-statements .empty-state").await;
        assert!(
            statements[0].starts_with("No database queries in the last 15 min."),
            "{statements:?}"
        );
        let slow = texts(&client, "#slow-queries .empty-state").await;
        assert_eq!(
            slow,
            ["No execution took 100 ms or more in the last 15 min."]
        );
        assert_eq!(
            texts(&client, "[data-stat=statements] .card-value").await,
            ["0"]
        );
    })
    .await;
}
