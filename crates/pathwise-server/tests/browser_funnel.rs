//! The decision funnel in a real headless Chromium (the harness of `tests/common/browser.rs`),
//! over decision traces whose funnel is known by construction
//! (`tests/common/decision_funnel.rs`): the steps' reach and failures, the Sankey's flows
//! (each equal to the fixture's count), the filter table, and the drill-down from a step's
//! failures to the trace list. Screenshots go to `target/browser-artifacts/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use common::decision_funnel::server;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn steps_and_the_sankey_show_the_fixtures_counts() {
    let (_, base, ids) = server();
    let url = format!("{base}/#/funnel?name=pick&range=24h");
    let failed_in_filter = ids.failed_in_filter.clone();
    in_browser("funnel_steps_and_sankey", move |client| async move {
        open(&client, &url, "funnel").await;
        let steps = js(
            &client,
            "return [...document.querySelectorAll('#funnel-steps .funnel-step')]\
             .map((s) => [s.dataset.step, s.dataset.traces, s.dataset.failed]);",
        )
        .await;
        assert_eq!(
            steps,
            json!([["search", "6", "1"], ["filter", "5", "1"], ["rank", "4", "0"]])
        );
        assert_eq!(
            texts(&client, ".funnel-summary").await,
            ["6 traces of pick: 4 completed, 2 failed, 0 running"]
        );
        // One candidates panel: the filter step's.
        let flows = js(
            &client,
            "return [...document.querySelectorAll('.funnel-candidates[data-step=filter] .sankey-flow')]\
             .map((f) => [f.dataset.flow, f.dataset.filter || '', Number(f.dataset.count)]);",
        )
        .await;
        assert_eq!(
            flows,
            json!([
                ["pass", "category", 16],
                ["reject", "category", 4],
                ["pass", "price", 12],
                ["reject", "price", 4],
                ["pass", "rating", 8],
                ["reject", "rating", 4],
                ["qualified", "", 8],
            ])
        );
        // The table ranks filters by what they reject: rating first.
        let table = js(
            &client,
            "return [...document.querySelectorAll('.funnel-filters tbody tr')]\
             .map((r) => [r.dataset.filter, r.querySelector('[data-col=rejected]').textContent, \
                          r.querySelector('[data-col=first]').textContent]);",
        )
        .await;
        assert_eq!(
            table,
            json!([["rating", "8", "4"], ["category", "4", "4"], ["price", "4", "4"]])
        );
        screenshot(&client, "funnel").await;
        // A step's failures drill down to the list: exactly the trace that failed there.
        click(&client, "[data-step=filter] .funnel-failed").await;
        let listed = listed_traces(&client).await;
        assert_eq!(listed, [(failed_in_filter, "failed".to_string())]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_is_chosen_from_the_decision_traces_seen() {
    let (_, base, _) = server();
    let url = format!("{base}/#/funnel");
    in_browser("funnel_pick_a_name", move |client| async move {
        open(&client, &url, "funnel").await;
        until(
            &client,
            "the names of decision traces",
            "document.querySelectorAll('#funnel-names option').length > 0",
        )
        .await;
        let names = js(
            &client,
            "return [...document.querySelectorAll('#funnel-names option')].map((o) => o.value);",
        )
        .await;
        assert_eq!(names, json!(["pick", "pick-v2"]));
        js(
            &client,
            "const i = document.getElementById('funnel-name'); i.value = 'pick'; \
             i.form.requestSubmit(); return null;",
        )
        .await;
        until(
            &client,
            "the funnel of pick",
            "document.querySelectorAll('#funnel-steps .funnel-step').length === 3",
        )
        .await;
        assert!(
            js(&client, "return location.hash;")
                .await
                .as_str()
                .unwrap()
                .contains("name=pick")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_trace_links_to_its_funnel() {
    let (_, base, ids) = server();
    let url = format!("{base}/#/trace/{}", ids.complete[0]);
    in_browser("funnel_from_a_trace", move |client| async move {
        open(&client, &url, "detail").await;
        click(&client, "#funnel-link").await;
        until(
            &client,
            "the funnel of the trace's name",
            "document.querySelectorAll('#funnel-steps .funnel-step').length === 3",
        )
        .await;
        assert_eq!(
            js(&client, "return location.hash;").await,
            json!("#/funnel?name=pick")
        );
    })
    .await;
}
