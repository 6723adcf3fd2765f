//! The compare view in a real headless Chromium (the harness of `tests/common/browser.rs`),
//! over traces whose comparison is known by construction (`tests/common/compare_traces.rs`):
//! each row's diff label, the totals, the decision panel of the step whose output changed,
//! and the trace page's "Compare with typical" link. Screenshots go to
//! `target/browser-artifacts/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use common::compare_traces::server;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn rows_are_labelled_by_what_changed_and_a_decision_opens_side_by_side() {
    let (_, base, ids) = server();
    let url = format!("{base}/#/compare?a={}&b={}", ids.a, ids.b);
    in_browser("compare_two_traces", move |client| async move {
        open(&client, &url, "compare").await;
        until(
            &client,
            "eight rows",
            "document.querySelectorAll('#compare-rows .cmp-row').length === 8",
        )
        .await;
        let rows = js(
            &client,
            "return [...document.querySelectorAll('#compare-rows .cmp-row')].map((r) => \
             [r.dataset.path, r.dataset.change, \
              (r.querySelector('.cmp-change') || {}).textContent || '']);",
        )
        .await;
        assert_eq!(
            rows,
            json!([
                ["checkout", "same", ""],
                ["checkout → validate", "same", ""],
                ["checkout → legacy_check", "only_a", "only in A"],
                ["checkout → fetch", "faster", "faster in B ×0.67"],
                ["checkout → charge", "status", "status changed"],
                ["checkout → enrich", "slower", "slower in B ×2.00"],
                ["checkout → choose", "changed", "changed"],
                ["checkout → cache_lookup", "only_b", "only in B"],
            ])
        );
        // Children are indented under their root.
        let indents = js(
            &client,
            "return [...document.querySelectorAll('#compare-rows .cmp-row .wf-label')].map((l) => l.style.paddingLeft);",
        )
        .await;
        assert_eq!(indents[0], "8px");
        assert_eq!(indents[1], "22px");
        assert_eq!(
            texts(&client, "[data-path='checkout → fetch'] .cmp-count-pair").await,
            ["3× → 2×"]
        );
        assert_eq!(
            texts(&client, "[data-path='checkout → charge'] .cmp-status-pair").await,
            ["ok → error"]
        );
        // The summary's totals.
        let totals = js(
            &client,
            "return Object.fromEntries([...document.querySelectorAll('#compare-summary [data-total]')]\
             .map((c) => [c.dataset.total, c.querySelector('.cmp-total-value').textContent]));",
        )
        .await;
        assert_eq!(
            totals,
            json!({
                "only_in_a": "1", "only_in_b": "1", "status_changed": "1", "slower": "1",
                "faster": "1", "count_changed": "1", "decision_changed": "1", "unchanged": "2",
            })
        );
        // The step whose output changed: A's and B's values side by side.
        click(&client, "[data-path='checkout → choose'] .cmp-decision-toggle").await;
        element(&client, ".cmp-decision [data-field='output']").await;
        let values = texts(&client, ".cmp-decision [data-field='output'] .cmp-value").await;
        assert_eq!(
            values,
            [
                "{\n  \"pick\": \"B1\"\n}".to_string(),
                "{\n  \"pick\": \"B7\"\n}".to_string()
            ]
        );
        assert_eq!(
            texts(&client, ".cmp-decision .cmp-field .fact-label").await,
            ["output"]
        );
        scroll_to(&client, "#compare-summary").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_page_opens_the_comparison_with_a_typical_trace() {
    let (_, base, ids) = server();
    let url = format!("{base}/#/trace/{}", ids.a);
    let (a, typical) = (ids.a.clone(), ids.typical.clone());
    in_browser("compare_with_typical", move |client| async move {
        open(&client, &url, "detail").await;
        click(&client, "#compare-typical-link").await;
        element(&client, "body[data-ready=\"1\"][data-view=\"compare\"]").await;
        assert_eq!(
            js(&client, "return location.hash;").await,
            json!(format!("#/compare?a={a}&b=typical"))
        );
        element(&client, ".compare-trace[data-side='b']").await;
        assert_eq!(
            texts(&client, ".compare-trace[data-side='b'] [data-trace-id]").await,
            [typical]
        );
        let note = texts(&client, ".compare-trace[data-side='b'] .compare-note").await;
        assert!(
            note[0].contains("of 7 completed traces") && note[0].contains("90.0 ms"),
            "{note:?}"
        );
        // Under A's root everything is only in A: the typical run is a single span.
        until(
            &client,
            "six paths only in A",
            "document.querySelector('[data-total=only_in_a] .cmp-total-value').textContent === '6'",
        )
        .await;
        // Another id for B, pasted: the view follows.
        let input = element(&client, "#compare-b").await;
        input.clear().await.unwrap();
        input.send_keys(&ids_b()).await.unwrap();
        click(&client, "#compare-go").await;
        until(
            &client,
            "the given B",
            "document.querySelectorAll('#compare-rows .cmp-row').length === 8",
        )
        .await;
        assert!(
            js(&client, "return location.hash;")
                .await
                .as_str()
                .unwrap()
                .ends_with(&format!("b={}", ids_b()))
        );
    })
    .await;
}

fn ids_b() -> String {
    server().2.b.clone()
}
