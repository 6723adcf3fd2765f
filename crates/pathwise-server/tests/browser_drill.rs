//! Drill-down from the Analysis page's tables in a real headless Chromium (the harness of
//! `tests/common/browser.rs`): a node's failed calls and the exemplars of its p50 over spans
//! whose durations are known by construction (`tests/common/latency_grid.rs`), and an error
//! pattern's value and an error type over the fixture database (30 searches, one `query`
//! value each, three failed with a `RateLimitError`).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_nodes_failures_and_p50_exemplars() {
    let (_, base, _) = common::latency_grid::server();
    let url = format!("{base}/#/analysis?range=1h");
    in_browser("drill_node_cells", move |client| async move {
        open_analysis_settled(&client, &url).await;
        // fetch failed once (the 1000 ms call).
        click(
            &client,
            "#node-table tr[data-node='fetch'] [data-drill='errors']",
        )
        .await;
        let failed = listed_traces(&client).await;
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].1, "failed");
        // fetch's calls: 1, 1, 3, 30, 30, 30, 300 and 1000 ms; the p50 is 30 ms, and three
        // traces hold a call within 2 % of it.
        open(&client, &url, "analysis").await;
        click(
            &client,
            "#node-table tr[data-node='fetch'] [data-drill='p50_ms']",
        )
        .await;
        assert_eq!(listed_traces(&client).await.len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_patterns_value_opens_its_traces() {
    let base = format!("http://{}", common::fixture_server());
    let url = format!("{base}/#/analysis?range=24h&attr=query");
    in_browser("drill_pattern_value", move |client| async move {
        open(&client, &url, "analysis").await;
        element(&client, "#pattern-table tr[data-value='q7'] a.drill").await;
        click(&client, "#pattern-table tr[data-value='q7'] a.drill").await;
        let rows = listed_traces(&client).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        let hash = js(
            &client,
            "return decodeURIComponent(location.hash.replaceAll('+', ' '));",
        )
        .await;
        assert!(
            hash.as_str().unwrap().contains("attr.query == \"q7\""),
            "{hash}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_that_moved_since_the_window_before() {
    let (_, base, _) = common::window_shifts::server();
    let url = format!("{base}/#/analysis?range=1h");
    in_browser("drill_window_compare", move |client| async move {
        open(&client, &url, "analysis").await;
        element(&client, "#window-compare-table").await;
        let rows = js(
            &client,
            "return [...document.querySelectorAll('#window-compare-table tbody tr')].map((r) => [r.dataset.path, r.dataset.change]);",
        )
        .await;
        assert_eq!(
            rows,
            serde_json::json!([
                ["launched", "new"],
                ["retired", "gone"],
                ["failing", "errors_up"],
                ["slowing", "slower"]
            ])
        );
        click(&client, "#window-compare-table tr[data-path='failing'] a.drill").await;
        let failed = listed_traces(&client).await;
        assert_eq!(failed.len(), 4, "{failed:?}");
        assert!(failed.iter().all(|(_, status)| status == "failed"), "{failed:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_type_opens_its_traces() {
    // The fixture's searches 0, 10 and 20 each failed once in PubMedClient.search with a
    // RateLimitError.
    let base = format!("http://{}", common::fixture_server());
    let url = format!("{base}/#/analysis?range=24h");
    in_browser("drill_error_type", move |client| async move {
        open(&client, &url, "analysis").await;
        let row = "#error-type-table tr[data-type='RateLimitError']";
        element(&client, row).await;
        assert_eq!(
            texts(&client, &format!("{row} td")).await,
            vec!["RateLimitError", "3", "PubMedClient.search ×3"]
        );
        click(&client, &format!("{row} a[data-drill='type']")).await;
        let rows = listed_traces(&client).await;
        assert_eq!(rows.len(), 3, "{rows:?}");
        // The node's link: the same three, through its name.
        open(&client, &url, "analysis").await;
        click(
            &client,
            &format!("{row} a[data-node='PubMedClient.search']"),
        )
        .await;
        assert_eq!(listed_traces(&client).await.len(), 3);
    })
    .await;
}
