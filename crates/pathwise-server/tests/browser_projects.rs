//! The project picker in a real headless Chromium (the harness of `tests/common/browser.rs`):
//! a server with two projects, each a SQLite file of its own; the list shows the default
//! project's traces, picking the other project shows its traces alone, and the choice stays
//! in the page's address across views. Screenshots go to `target/browser-artifacts/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use pathwise_server::{ServedProject, ServerConfig};
use serde_json::json;

/// One-span traces named `names`, a second apart, recent.
fn write_traces(
    backend: &std::sync::Arc<dyn pathwise_store::Backend>,
    names: &[&'static str],
    seed: u128,
) {
    let roots: Vec<common::Root> = names
        .iter()
        .enumerate()
        .map(|(i, name)| common::Root {
            name,
            age_ms: 1_000 * i as u64,
            duration_ms: 3,
            failed: false,
        })
        .collect();
    common::write_roots(backend, &roots, seed);
}

async fn listed_names(client: &fantoccini::Client) -> Vec<String> {
    let mut names = texts(client, "#trace-rows a.trace-name").await;
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picker_switches_every_view_to_the_chosen_project() {
    let dir = tempfile::tempdir().unwrap();
    let shop = common::backend(dir.path().join("shop.db"));
    let billing = common::backend(dir.path().join("billing.db"));
    write_traces(&shop, &["checkout", "cart"], 10);
    write_traces(&billing, &["invoice", "refund", "charge"], 20);
    let addr = common::start_server(ServerConfig {
        project: "shop".into(),
        more_projects: vec![ServedProject::new("billing", billing)],
        ..ServerConfig::new(shop)
    });
    let base = format!("http://{addr}");
    in_browser("projects_picker", |client| async move {
        open(&client, &format!("{base}/#/traces"), "list").await;
        element(&client, "#project-picker:not([hidden])").await;
        until(&client, "two traces", "document.querySelectorAll('#trace-rows a.trace-name').length === 2").await;
        assert_eq!(listed_names(&client).await, ["cart", "checkout"]);
        let options = js(
            &client,
            "return [...document.querySelectorAll('#project option')].map(o => [o.value, o.selected]);",
        )
        .await;
        assert_eq!(options, json!([["shop", true], ["billing", false]]));

        // Choosing billing reloads the page in it.
        js(
            &client,
            "const s = document.getElementById('project'); s.value = 'billing'; \
             s.dispatchEvent(new Event('change')); return true;",
        )
        .await;
        until(&client, "the billing page", "location.search === '?project=billing'").await;
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        until(&client, "three traces", "document.querySelectorAll('#trace-rows a.trace-name').length === 3").await;
        assert_eq!(listed_names(&client).await, ["charge", "invoice", "refund"]);
        assert_eq!(
            js(&client, "return document.getElementById('project').value;").await,
            json!("billing")
        );

        // Another view stays in the project: the Analysis page's nodes are billing's.
        client.goto(&format!("{base}/?project=billing#/analysis")).await.unwrap();
        element(&client, "body[data-ready=\"1\"][data-view=\"analysis\"]").await;
        let seen = js(
            &client,
            "return performance.getEntriesByType('resource').map(e => e.name)\
               .filter(n => n.includes('/api/nodes'));",
        )
        .await;
        let seen = seen.as_array().unwrap();
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|u| u.as_str().unwrap().contains("project=billing")),
            "{seen:?}"
        );
    })
    .await;
}
