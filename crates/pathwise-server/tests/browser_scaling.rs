//! The Scaling panel of the Analysis page in a real headless Chromium (the harness of
//! `tests/common/browser.rs`) against a real server over the scaling fixture
//! (`tests/common/db_scaling.rs`, growth known by construction): the scatter of the calls, the
//! fitted line, the exponent with its class, the super-linear flag, choosing another node, a
//! node without a basis for an exponent, and the panel finding a sized node by itself.
//! Screenshots go to `target/browser-artifacts/scaling_*.png`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use common::db_scaling::{FIXED, LINEAR, QUADRATIC};
use fantoccini::Client;
use serde_json::json;

/// The summary line of the panel.
async fn summary(client: &Client) -> String {
    texts(client, "#scaling-summary").await.join("")
}

/// Chooses `node` in the panel's node picker, as a person would.
async fn choose_node(client: &Client, node: &str) {
    js(
        client,
        &format!(
            "const select = document.querySelector('#scaling-node');
             select.value = {node:?};
             select.dispatchEvent(new Event('change'));
             return null;"
        ),
    )
    .await;
}

#[tokio::test]
async fn the_panel_draws_the_calls_the_fit_and_the_exponent() {
    let base = common::db_scaling::server();
    in_browser("scaling_panel", move |client| async move {
        open(
            &client,
            &format!("{base}/#/analysis?range=1h&scale_node={QUADRATIC}&scale_size=dataset_count"),
            "analysis",
        )
        .await;
        element(&client, "#scaling-panel[data-state=\"loaded\"] #scaling-plot").await;
        scroll_to(&client, "#scaling-panel").await;

        // Every call is a dot; the fitted line is red because growth is super-linear.
        assert_eq!(
            js(&client, "return document.querySelectorAll('#scaling-plot .scaling-dot').length;").await,
            json!(120)
        );
        assert_eq!(
            js(&client, "return document.querySelector('#scaling-fit').classList.contains('super-linear');").await,
            json!(true)
        );
        let exponent = js(&client, "return Number(document.querySelector('#scaling-fit').dataset.exponent);")
            .await
            .as_f64()
            .unwrap();
        assert!((exponent - 2.0).abs() < 0.1, "exponent {exponent}");
        let text = summary(&client).await;
        assert!(text.starts_with("≈ O(n^2) exponent"), "{text}");
        assert!(text.contains("super-linear"), "{text}");
        assert_eq!(texts(&client, "#scaling-summary .flag-badge").await, ["super-linear"]);
        assert_eq!(
            js(&client, "return document.querySelector('#scaling-size').value;").await,
            json!("dataset_count")
        );
        // The fitted line runs from the smallest size to the largest, rising to the right.
        let line = js(
            &client,
            "const l = document.querySelector('#scaling-fit');
             return ['x1', 'y1', 'x2', 'y2'].map(a => Number(l.getAttribute(a)));",
        )
        .await;
        let l: Vec<f64> = serde_json::from_value(line).unwrap();
        assert!(l[2] > l[0] && l[3] < l[1], "{l:?}");
        screenshot(&client, "scaling_quadratic").await;

        // Another node: its size field is offered and taken, and it grows linearly.
        choose_node(&client, LINEAR).await;
        until(
            &client,
            "the linear node's fit",
            "(document.querySelector('#scaling-summary') || {}).textContent?.startsWith('≈ O(n) ')",
        )
        .await;
        assert_eq!(
            js(&client, "return document.querySelector('#scaling-size').value;").await,
            json!("input.items")
        );
        assert_eq!(
            js(&client, "return [...document.querySelectorAll('#scaling-sizes option')].map(o => o.value);").await,
            json!(["input.items"])
        );
        assert!(summary(&client).await.contains("linear"));
        assert!(texts(&client, "#scaling-summary .flag-badge").await.is_empty());
        assert_eq!(
            js(&client, "return document.querySelector('#scaling-fit').classList.contains('super-linear');").await,
            json!(false)
        );

        // A node whose calls all have one size: the reason instead of an exponent.
        choose_node(&client, FIXED).await;
        until(
            &client,
            "the refusal",
            "(document.querySelector('#scaling-summary') || {}).textContent?.startsWith('No exponent')",
        )
        .await;
        assert_eq!(
            summary(&client).await,
            "No exponent: only 1 distinct sizes; an exponent needs at least 3"
        );
        assert!(js(&client, "return document.querySelector('#scaling-fit') === null;").await == json!(true));

        // A size typed by hand.
        choose_node(&client, QUADRATIC).await;
        until(&client, "the quadratic fit again", "document.querySelector('#scaling-fit.super-linear')").await;
        js(&client, "document.querySelector('#scaling-size').value = 'nothing'; return null;").await;
        click(&client, "#scaling-form button[type=submit]").await;
        until(
            &client,
            "the refusal for a missing field",
            "(document.querySelector('#scaling-summary') || {}).textContent?.includes('none of the 120 calls has a size in nothing')",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn the_panel_finds_a_node_with_a_size_by_itself() {
    let base = common::db_scaling::server();
    in_browser("scaling_auto_pick", move |client| async move {
        open(&client, &format!("{base}/#/analysis?range=1h"), "analysis").await;
        element(
            &client,
            "#scaling-panel[data-state=\"loaded\"] #scaling-plot",
        )
        .await;
        let node = js(
            &client,
            "return document.querySelector('#scaling-node').value;",
        )
        .await;
        assert!(
            node == json!(QUADRATIC) || node == json!(LINEAR),
            "a node whose sizes vary: {node}"
        );
        assert!(summary(&client).await.starts_with("≈ O(n"));
    })
    .await;
}
