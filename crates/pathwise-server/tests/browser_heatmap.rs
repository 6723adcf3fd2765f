//! Latency heatmaps in a real headless Chromium (the harness of `tests/common/browser.rs`):
//! a node's grid over spans whose cells are known by construction
//! (`tests/common/latency_grid.rs`), a cell opening exactly its traces, the Analysis page's
//! way in, and the Decisions page's slowest steps (`tests/common/decision_funnel.rs`).
//! Screenshots go to `target/browser-artifacts/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_nodes_cells_and_the_traces_behind_one() {
    let (_, base, _) = common::latency_grid::server();
    let url = format!("{base}/#/heatmap?node=fetch&range=1h");
    in_browser("heatmap_node", move |client| async move {
        open(&client, &url, "heatmap").await;
        // Eight calls of fetch in six cells: (1 ms ×2, 3 ms, 300 ms), (30 ms ×2, 1000 ms), (30 ms).
        let cells = js(
            &client,
            "return [...document.querySelectorAll('#heatmap-panel .heat-cell')].map((c) => Number(c.dataset.value));",
        )
        .await;
        let mut values: Vec<u64> = cells
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        values.sort_unstable();
        assert_eq!(values, [1, 1, 1, 1, 2, 2]);
        assert_eq!(
            js(&client, "return document.querySelector('.heat-summary').dataset.calls;").await,
            json!("8")
        );
        screenshot(&client, "heatmap").await;
        // The top row holds the slowest calls: the one 1000 ms call, which failed.
        click(&client, "#heatmap-panel .heat-cell[data-row='0']").await;
        let rows = listed_traces(&client).await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].1, "failed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_analysis_node_table_opens_a_nodes_heatmap() {
    let (_, base, _) = common::latency_grid::server();
    let url = format!("{base}/#/analysis?range=1h");
    in_browser("heatmap_from_analysis", move |client| async move {
        open_analysis_settled(&client, &url).await;
        click(&client, "#node-table tr[data-node='fetch'] .heatmap-link").await;
        until(
            &client,
            "the heatmap of fetch",
            "document.body.dataset.view === 'heatmap' && document.querySelectorAll('.heat-cell').length === 6",
        )
        .await;
        assert_eq!(
            js(&client, "return location.hash;").await,
            json!("#/heatmap?node=fetch&range=1h")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_slowest_steps_of_a_decision_and_their_slow_runs() {
    let (_, base, ids) = common::decision_funnel::server();
    let url = format!("{base}/#/funnel?name=pick&range=1h");
    let complete = ids.complete.clone();
    in_browser("heatmap_steps", move |client| async move {
        open(&client, &url, "funnel").await;
        until(
            &client,
            "the slowest steps",
            "document.querySelectorAll('#step-heatmap .heat-cell').length > 0",
        )
        .await;
        let labels = texts(&client, "#step-heatmap .heat-label").await;
        assert_eq!(labels[..3], ["search", "filter", "rank"]);
        // rank (row 2) ran only in the complete traces.
        click(&client, "#step-heatmap .heat-cell[data-row='2']").await;
        for (id, _) in listed_traces(&client).await {
            assert!(complete.contains(&id), "{id}");
        }
    })
    .await;
}
