//! The waterfall's tools for big traces in a real headless Chromium, over a trace whose every
//! answer is known by construction (`tests/common/waterfall_trace.rs`): search inside the
//! trace (also in subtrees the page never loaded), zoom and pan from the keyboard and the
//! minimap, colour by component, expand by depth, keyboard navigation.

mod common;

use common::browser::*;
use common::waterfall_trace::{self, ROOT, doc_id};
use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::Value;

/// Presses `keys` in the focused element, as a user types them.
async fn press(client: &Client, keys: &str) {
    let focused = client.active_element().await.unwrap();
    focused.send_keys(keys).await.unwrap();
}

fn key(k: Key) -> String {
    char::from(k).to_string()
}

async fn open_trace(client: &Client) {
    let (_, base, fx) = waterfall_trace::server();
    open(client, &format!("{base}/#/trace/{}", fx.trace), "detail").await;
    element(client, "#wf-minimap").await;
}

fn row(id: u64) -> String {
    format!(".wf-row[data-span-id=\"{id}\"]")
}

async fn focused_span(client: &Client) -> Value {
    js(
        client,
        "return document.activeElement.dataset.spanId ?? null;",
    )
    .await
}

/// The minimap's shown window, as shares of the trace.
async fn window(client: &Client) -> (f64, f64) {
    let from = js(
        client,
        "return Number(document.querySelector('#wf-minimap').dataset.from);",
    )
    .await;
    let to = js(
        client,
        "return Number(document.querySelector('#wf-minimap').dataset.to);",
    )
    .await;
    (from.as_f64().unwrap(), to.as_f64().unwrap())
}

/// Presses the minimap's primary button at `down`, moves to `over` and lets go at `up`
/// (shares of its width).
async fn drag_minimap(client: &Client, [down, over, up]: [f64; 3]) {
    js(client, &format!("const c = document.querySelector('#wf-minimap'); const r = c.getBoundingClientRect();
        const at = (f) => ({{ clientX: r.left + f * r.width, clientY: r.top + 10, bubbles: true, pointerId: 1, button: 0 }});
        c.dispatchEvent(new PointerEvent('pointerdown', at({down})));
        c.dispatchEvent(new PointerEvent('pointermove', at({over})));
        c.dispatchEvent(new PointerEvent('pointerup', at({up})));
        return null;")).await;
}

fn near(got: (f64, f64), want: (f64, f64)) -> bool {
    (got.0 - want.0).abs() < 0.005 && (got.1 - want.1).abs() < 0.005
}

#[tokio::test]
async fn search_finds_spans_in_subtrees_that_were_never_loaded() {
    let fx = &waterfall_trace::server().2;
    in_browser("waterfall_search", |client| async move {
        open_trace(&client).await;
        // The third shard's subtree is not loaded: its failed needle has no row.
        assert_eq!(
            js(
                &client,
                &format!(
                    "return document.querySelector('{}') === null;",
                    row(fx.failed_needle)
                )
            )
            .await,
            Value::Bool(true)
        );
        element(&client, "#wf-search")
            .await
            .send_keys("needle")
            .await
            .unwrap();
        press(&client, &key(Key::Enter)).await;
        until(
            &client,
            "the first of three matches",
            "document.querySelector('#wf-search-count').textContent === '1 of 3'",
        )
        .await;
        // The first match, under a loaded but collapsed document, is opened, marked and focused.
        element(&client, &format!("{}.wf-current.wf-match", row(fx.needle))).await;
        assert_eq!(focused_span(&client).await, fx.needle.to_string());

        // Enter in the search box: the next match, in the second shard (never loaded). Its
        // shard now shows the one child the search brought and offers the other 999.
        element(&client, "#wf-search")
            .await
            .send_keys(&key(Key::Enter))
            .await
            .unwrap();
        until(
            &client,
            "the second match",
            "document.querySelector('#wf-search-count').textContent === '2 of 3'",
        )
        .await;
        element(&client, &format!("{}.wf-current", row(fx.hay))).await;
        let shard = row(fx.shards[1]);
        assert_eq!(
            texts(&client, &format!("{shard} .wf-lazy")).await,
            vec!["+999 not loaded"]
        );

        // `n` on the focused row: the third match, the failed needle deep in the third shard.
        press(&client, "n").await;
        until(
            &client,
            "the third match",
            "document.querySelector('#wf-search-count').textContent === '3 of 3'",
        )
        .await;
        element(
            &client,
            &format!("{}.wf-current.wf-error", row(fx.failed_needle)),
        )
        .await;
        element(&client, &row(fx.failed_needle_doc)).await;
        press(&client, "N").await;
        until(
            &client,
            "back to the second",
            "document.querySelector('#wf-search-count').textContent === '2 of 3'",
        )
        .await;
        screenshot(&client, "waterfall_search").await;

        // The rest of the second shard loads on demand, without a second row for the document
        // the search brought: the first two shards' documents and the one the search brought
        // in the third.
        click(&client, &format!("{shard} .wf-lazy")).await;
        until(
            &client,
            "both shards' documents",
            "document.querySelectorAll('.wf-row[data-name=\"Reindex.doc\"]').length === 2001",
        )
        .await;
        assert_eq!(
            js(
                &client,
                &format!(
                    "return document.querySelectorAll('{}').length;",
                    row(doc_id(1, 0))
                )
            )
            .await,
            1
        );

        // A search while a subtree's page is on its way rebuilds the tree; the page still
        // lands in it (third shard: its 1,000 documents, whichever comes back first).
        let third = row(fx.shards[2]);
        js(&client, &format!("document.querySelector('{third} .wf-lazy').click();
            const i = document.querySelector('#wf-search'); i.value = 'hay';
            i.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter' }})); return null;")).await;
        until(&client, "every shard's documents and the hay found", "document.querySelectorAll('.wf-row[data-name=\"Reindex.doc\"]').length === 3000 && document.querySelector('#wf-search-count').textContent === '1 of 1'").await;
        assert!(texts(&client, &format!("{third} .wf-lazy")).await.is_empty());

        // By error type, and nothing.
        let search = element(&client, "#wf-search").await;
        search.clear().await.unwrap();
        search
            .send_keys(&format!("needleerror{}", key(Key::Enter)))
            .await
            .unwrap();
        until(
            &client,
            "one match by error type",
            "document.querySelector('#wf-search-count').textContent === '1 of 1'",
        )
        .await;
        search.clear().await.unwrap();
        search
            .send_keys(&format!("zzz-nothing{}", key(Key::Enter)))
            .await
            .unwrap();
        until(
            &client,
            "no match",
            "document.querySelector('#wf-search-count').textContent === 'no match'",
        )
        .await;
        search.send_keys(&key(Key::Escape)).await.unwrap();
        until(
            &client,
            "the search cleared",
            "document.querySelectorAll('.wf-match').length === 0",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn zoom_and_pan_from_keys_and_the_minimap() {
    let fx = &waterfall_trace::server().2;
    in_browser("waterfall_zoom", |client| async move {
        open_trace(&client).await;
        assert!(near(window(&client).await, (0.0, 1.0)));
        // `z` on the second shard (400–650 ms of 1 s): its stretch and 2 % either side.
        let shard = row(fx.shards[1]);
        js(&client, &format!("document.querySelector('{shard}').focus(); return null;")).await;
        press(&client, "z").await;
        until(&client, "the shard's window", "Number(document.querySelector('#wf-minimap').dataset.from) > 0.39").await;
        assert!(near(window(&client).await, (0.395, 0.655)), "{:?}", window(&client).await);
        let bar = js(&client, &format!("const b = document.querySelector('{shard} .wf-bar'); return [parseFloat(b.style.left), parseFloat(b.style.width)];")).await;
        let (left, width) = (bar[0].as_f64().unwrap(), bar[1].as_f64().unwrap());
        assert!((left - 5.0 / 260.0 * 100.0).abs() < 0.1 && (width - 250.0 / 260.0 * 100.0).abs() < 0.1, "{bar}");
        assert!(texts(&client, ".wf-tick").await[0].starts_with("395"), "{:?}", texts(&client, ".wf-tick").await);
        screenshot(&client, "waterfall_zoomed").await;
        // `0` shows everything; `+` halves the window around its middle.
        press(&client, "0").await;
        assert!(near(window(&client).await, (0.0, 1.0)));

        // Drag across the minimap from 10 % to 30 %: that stretch.
        drag_minimap(&client, [0.1, 0.2, 0.3]).await;
        assert!(near(window(&client).await, (0.1, 0.3)), "{:?}", window(&client).await);
        js(&client, &format!("document.querySelector('{}').focus(); return null;", row(ROOT))).await;
        press(&client, "+").await;
        assert!(near(window(&client).await, (0.15, 0.25)), "{:?}", window(&client).await);
        // Dragging the window moves it.
        drag_minimap(&client, [0.2, 0.5, 0.5]).await;
        assert!(near(window(&client).await, (0.45, 0.55)), "{:?}", window(&client).await);
        click(&client, "#wf-zoom-reset").await;
        assert!(near(window(&client).await, (0.0, 1.0)));
    })
    .await;
}

#[tokio::test]
async fn colour_by_component_depth_and_keyboard_navigation() {
    let fx = &waterfall_trace::server().2;
    in_browser("waterfall_colour_depth_keys", |client| async move {
        open_trace(&client).await;
        // Colour by component: the root (indexer) and a document (store) differ, and the
        // legend names the loaded spans' components, most spans first.
        let colour = |id: u64| format!("return document.querySelector('{} .wf-bar').style.background;", row(id));
        let (indexer, store) = (js(&client, &colour(ROOT)).await, js(&client, &colour(doc_id(0, 0))).await);
        assert_ne!(indexer, store);
        assert_eq!(js(&client, &colour(fx.shards[0])).await, indexer, "one component, one colour");
        let legend = texts(&client, "#wf-legend .wf-legend-item").await;
        assert_eq!(legend.len(), 3, "{legend:?}"); // store 1000, indexer 4, cache 1
        assert!(legend[0].starts_with("store") && legend[1].starts_with("indexer") && legend[2].starts_with("cache"), "{legend:?}");
        js(&client, "const s = document.querySelector('#wf-colour'); s.value = 'status'; s.dispatchEvent(new Event('change')); return null;").await;
        assert_eq!(js(&client, &colour(ROOT)).await, "var(--ok)");
        assert_eq!(js(&client, &colour(doc_id(0, 0))).await, "var(--ok)");

        // Expand by depth: one level is the root, two add the shards, all loaded adds the
        // first shard's documents and the needle below one of them.
        let depth = |levels: &str| format!("const s = document.querySelector('#wf-depth'); s.value = '{levels}'; s.dispatchEvent(new Event('change')); return Number(document.querySelector('#waterfall-rows').dataset.rows);");
        assert_eq!(js(&client, &depth("1")).await, 1);
        assert_eq!(js(&client, &depth("2")).await, 4);
        assert_eq!(js(&client, &depth("0")).await, 1_005);
        assert_eq!(js(&client, &depth("2")).await, 4);

        // Keys: down to the first shard, right opens it, left closes it, left again goes
        // up to the root, End to the last shard, `/` to the search box.
        js(&client, &format!("document.querySelector('{}').focus(); return null;", row(ROOT))).await;
        press(&client, &key(Key::Down)).await;
        assert_eq!(focused_span(&client).await, fx.shards[0].to_string());
        press(&client, &key(Key::Right)).await;
        until(&client, "the first shard open", "document.querySelector('#waterfall-rows').dataset.rows === '1004'").await;
        press(&client, &key(Key::Right)).await;
        assert_eq!(focused_span(&client).await, doc_id(0, 0).to_string(), "right on an open span: its first child");
        press(&client, &key(Key::Left)).await;
        assert_eq!(focused_span(&client).await, fx.shards[0].to_string(), "left on a leaf: its parent");
        press(&client, &key(Key::Left)).await;
        until(&client, "the first shard closed", "document.querySelector('#waterfall-rows').dataset.rows === '4'").await;
        press(&client, &key(Key::Left)).await;
        assert_eq!(focused_span(&client).await, ROOT.to_string());
        press(&client, &key(Key::End)).await;
        assert_eq!(focused_span(&client).await, fx.shards[2].to_string());
        press(&client, &key(Key::Up)).await;
        assert_eq!(focused_span(&client).await, fx.shards[1].to_string());
        press(&client, "/").await;
        assert_eq!(js(&client, "return document.activeElement.id;").await, "wf-search");
        screenshot(&client, "waterfall_depth").await;
    })
    .await;
}
