//! The trace list's filters in a real headless Chromium (the harness of
//! `tests/common/browser.rs`), over a list whose every figure is known by construction: 20
//! `checkout` traces of 10, 20, …, 200 ms (those of 30, 60, …, 180 ms failed) and 5 `refund`
//! traces of 1 s. Duration filters and the stat cards that follow them, the address that keeps
//! filters and page, trace id lookup, and CSV export. Screenshots go to
//! `target/browser-artifacts/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use std::sync::OnceLock;

use common::browser::*;
use common::{Root, write_roots};
use fantoccini::Client;
use pathwise_server::ServerConfig;
use serde_json::{Value, json};

fn list_server() -> String {
    static BASE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let backend = common::backend(dir.path().join("list.db"));
        let mut roots: Vec<Root> = (1..=20u64)
            .map(|i| Root {
                name: "checkout",
                age_ms: 60_000 + i * 1_000,
                duration_ms: 10 * i,
                failed: i % 3 == 0,
            })
            .collect();
        roots.extend((1..=5u64).map(|i| Root {
            name: "refund",
            age_ms: 120_000 + i * 1_000,
            duration_ms: 1_000,
            failed: false,
        }));
        write_roots(&backend, &roots, 1);
        let addr = common::start_server(ServerConfig::new(backend));
        (dir, format!("http://{addr}"))
    })
    .1
    .clone()
}

async fn card(client: &Client, stat: &str) -> String {
    let script =
        format!("return document.querySelector('[data-stat={stat}] .card-value').textContent;");
    js(client, &script).await.as_str().unwrap().to_string()
}

async fn rows(client: &Client) -> usize {
    js(
        client,
        "return document.querySelectorAll('#trace-rows tr.trace-row').length;",
    )
    .await
    .as_u64()
    .unwrap() as usize
}

/// Types into the input `css` as a user does (the list reacts after its debounce).
async fn type_into(client: &Client, css: &str, text: &str) {
    let input = element(client, css).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn duration_filters_move_the_cards_and_stay_in_the_address() {
    let base = list_server();
    in_browser("list_duration_filters", |client| async move {
        open(&client, &format!("{base}/#/traces"), "list").await;
        until(
            &client,
            "every trace counted",
            "document.querySelector('[data-stat=total] .card-value').textContent === '25'",
        )
        .await;
        // At least 150 ms: checkout 150..=200 (6, of which 150 and 180 failed) and 5 refunds.
        type_into(&client, "#min-ms", "150").await;
        until(
            &client,
            "the filtered total",
            "document.querySelector('[data-stat=total] .card-value').textContent === '11'",
        )
        .await;
        assert_eq!(card(&client, "failed").await, "2");
        assert_eq!(card(&client, "completed").await, "9");
        until(
            &client,
            "eleven rows",
            "document.querySelectorAll('#trace-rows tr.trace-row').length === 11",
        )
        .await;
        // And at most 190 ms: 150, 160, 170, 180, 190 (mean 170 ms).
        type_into(&client, "#max-ms", "190").await;
        until(
            &client,
            "five traces",
            "document.querySelector('[data-stat=total] .card-value').textContent === '5'",
        )
        .await;
        assert_eq!(card(&client, "avg").await, "170 ms");
        assert_eq!(rows(&client).await, 5);
        let hash = js(&client, "return location.hash;").await;
        let hash = hash.as_str().unwrap();
        assert!(
            hash.contains("min_ms=150") && hash.contains("max_ms=190"),
            "{hash}"
        );
        // The address opens the same list.
        client.refresh().await.unwrap();
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        until(
            &client,
            "five traces again",
            "document.querySelector('[data-stat=total] .card-value').textContent === '5'",
        )
        .await;
        assert_eq!(
            js(&client, "return document.getElementById('min-ms').value;").await,
            json!("150")
        );
        // A query narrows the cards too: the failed ones of those.
        client
            .goto(&format!(
                "{base}/#/traces?min_ms=150&max_ms=190&q=status%20%3D%3D%20%22failed%22"
            ))
            .await
            .unwrap();
        until(
            &client,
            "two failed",
            "document.querySelector('[data-stat=total] .card-value').textContent === '2'",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_in_the_address_and_a_trace_id_opens_its_trace() {
    let base = list_server();
    in_browser("list_page_and_lookup", |client| async move {
        open(&client, &format!("{base}/#/traces?limit=10"), "list").await;
        until(
            &client,
            "ten rows",
            "document.querySelectorAll('#trace-rows tr.trace-row').length === 10",
        )
        .await;
        click(&client, "#page-next").await;
        until(
            &client,
            "the second page",
            "document.getElementById('page-label').textContent.startsWith('Page 2')",
        )
        .await;
        let first_of_page_two = js(
            &client,
            "return document.querySelector('#trace-rows tr.trace-row').dataset.traceId;",
        )
        .await;
        let hash = js(&client, "return location.hash;").await;
        assert!(hash.as_str().unwrap().contains("cursor="), "{hash}");
        client.refresh().await.unwrap();
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        until(
            &client,
            "ten rows",
            "document.querySelectorAll('#trace-rows tr.trace-row').length === 10",
        )
        .await;
        assert_eq!(
            js(
                &client,
                "return document.querySelector('#trace-rows tr.trace-row').dataset.traceId;"
            )
            .await,
            first_of_page_two
        );

        // A pasted id opens its trace; an unknown one says so.
        let id = first_of_page_two.as_str().unwrap().to_string();
        type_into(&client, "#trace-search", &id.to_uppercase()).await;
        element(&client, "body[data-ready=\"1\"][data-view=\"detail\"]").await;
        assert_eq!(
            js(&client, "return location.hash;").await,
            json!(format!("#/trace/{id}"))
        );
        open(&client, &format!("{base}/#/traces"), "list").await;
        type_into(&client, "#trace-search", &"0".repeat(32)).await;
        let message = element(&client, "#lookup-message")
            .await
            .text()
            .await
            .unwrap();
        assert!(message.contains("No trace with id"), "{message}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn export_writes_every_matching_trace_as_csv() {
    let base = list_server();
    in_browser("list_export", |client| async move {
        // One page of 10, but the export holds every match: the 6 failed checkouts.
        open(&client, &format!("{base}/#/traces?limit=10&status=failed"), "list").await;
        until(&client, "six rows", "document.querySelectorAll('#trace-rows tr.trace-row').length === 6").await;
        js(
            &client,
            "window.__blobs = []; const make = URL.createObjectURL; \
             URL.createObjectURL = (b) => { window.__blobs.push(b); return make(b); }; return true;",
        )
        .await;
        click(&client, "#export-csv").await;
        until(&client, "the export", "document.getElementById('export-csv').dataset.exported === '6'").await;
        js(&client, "window.__blobs[0].text().then((t) => { window.__csv = t; }); return true;").await;
        until(&client, "the file's text", "typeof window.__csv === 'string'").await;
        let text: Value = js(&client, "return window.__csv;").await;
        let lines: Vec<&str> = text.as_str().unwrap().trim_end().split("\r\n").collect();
        assert_eq!(lines[0], "trace_id,name,status,start_ns,duration_ns,span_count,error_count");
        assert_eq!(lines.len(), 7, "{lines:?}");
        let mut durations: Vec<u64> = lines[1..]
            .iter()
            .map(|l| {
                let fields: Vec<&str> = l.split(',').collect();
                assert_eq!((fields[1], fields[2]), ("checkout", "failed"), "{l}");
                fields[4].parse::<u64>().unwrap() / 1_000_000
            })
            .collect();
        durations.sort();
        assert_eq!(durations, [30, 60, 90, 120, 150, 180]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_tail_brings_new_traces_in_until_paused() {
    // A server of its own: this test adds traces.
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path().join("tail.db"));
    write_roots(
        &backend,
        &[Root {
            name: "older",
            age_ms: 5_000,
            duration_ms: 5,
            failed: false,
        }],
        1,
    );
    let addr = common::start_server(ServerConfig::new(backend.clone()));
    in_browser("list_live_tail", |client| async move {
        open(&client, &format!("http://{addr}/#/traces"), "list").await;
        until(
            &client,
            "one row",
            "document.querySelectorAll('#trace-rows tr.trace-row').length === 1",
        )
        .await;
        click(&client, "#live-toggle").await;
        until(
            &client,
            "the stream open",
            "document.getElementById('live-toggle').dataset.connection === 'live'",
        )
        .await;
        // Past the stream's first look, so these are new.
        tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
        let fresh = [("fresh-a", 2), ("fresh-b", 0)].map(|(name, age_ms)| Root {
            name,
            age_ms,
            duration_ms: 7,
            failed: false,
        });
        write_roots(&backend, &fresh, 10);
        until(
            &client,
            "two new rows",
            "document.querySelectorAll('#trace-rows tr.new-row').length === 2",
        )
        .await;
        // Newest on top, the older one below them.
        assert_eq!(
            texts(&client, "#trace-rows a.trace-name").await,
            ["fresh-b", "fresh-a", "older"]
        );
        assert_eq!(
            js(
                &client,
                "return document.getElementById('live-count').textContent;"
            )
            .await,
            json!("2 new")
        );
        // Paused: nothing more comes in.
        click(&client, "#live-toggle").await;
        write_roots(
            &backend,
            &[Root {
                name: "while-paused",
                age_ms: 0,
                duration_ms: 7,
                failed: false,
            }],
            20,
        );
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        assert_eq!(
            js(
                &client,
                "return document.querySelectorAll('#trace-rows tr.trace-row').length;"
            )
            .await,
            json!(3)
        );
    })
    .await;
}

/// The Duration column of the rows shown.
async fn durations(client: &Client) -> Vec<String> {
    texts(client, "#trace-rows tr.trace-row td:nth-child(4)").await
}

#[tokio::test]
async fn columns_sort_every_page_and_the_order_stays_in_the_address() {
    let base = list_server();
    in_browser("list_sort", |client| async move {
        open(&client, &format!("{base}/#/traces?q=checkout&limit=5"), "list").await;
        click(&client, "#trace-table th[data-column='duration'] button").await;
        until(&client, "the slowest first", "location.hash.includes('sort=slowest') && document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '200 ms'").await;
        assert_eq!(durations(&client).await, ["200 ms", "190 ms", "180 ms", "170 ms", "160 ms"]);
        assert_eq!(
            js(&client, "return document.querySelector('#trace-table th[data-column=duration]').getAttribute('aria-sort');").await,
            "descending"
        );
        // The next page goes on in the same order (the server sorts, not the page).
        click(&client, "#page-next").await;
        until(&client, "the second page", "document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '150 ms'").await;
        assert_eq!(durations(&client).await, ["150 ms", "140 ms", "130 ms", "120 ms", "110 ms"]);
        // Again: the fastest first, from the first page.
        click(&client, "#trace-table th[data-column='duration'] button").await;
        until(&client, "the fastest first", "location.hash.includes('sort=fastest') && document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '10.0 ms'").await;
        assert_eq!(durations(&client).await, ["10.0 ms", "20.0 ms", "30.0 ms", "40.0 ms", "50.0 ms"]);
        // A shared address opens in its order.
        let url = js(&client, "return location.href;").await.as_str().unwrap().to_string();
        client.goto("about:blank").await.unwrap();
        open(&client, &url, "list").await;
        until(&client, "the fastest first again", "document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '10.0 ms'").await;
        // Started: the newest first (the default order), then the oldest first.
        click(&client, "#trace-table th[data-column='start'] button").await;
        until(&client, "the newest first", "!location.hash.includes('sort=') && document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '10.0 ms'").await;
        assert_eq!(
            js(&client, "return document.querySelector('#trace-table th[data-column=start]').getAttribute('aria-sort');").await,
            "descending"
        );
        click(&client, "#trace-table th[data-column='start'] button").await;
        until(&client, "the oldest first", "location.hash.includes('sort=oldest') && document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '200 ms'").await;
        // An address without `sort` is newest first, whatever the tab showed before.
        open(&client, &format!("{base}/#/traces?q=checkout&limit=5&sort=slowest"), "list").await;
        until(&client, "the slowest first", "document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '200 ms'").await;
        open(&client, &format!("{base}/#/traces?q=checkout&limit=5"), "list").await;
        until(&client, "the newest first again", "document.querySelector('#trace-rows td:nth-child(4)')?.textContent === '10.0 ms'").await;
        screenshot(&client, "list_sorted").await;
    })
    .await;
}
