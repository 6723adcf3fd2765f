//! The dashboard in a real headless Chromium, driven through chromedriver, against a real
//! server over the fixture database. Each test leaves a screenshot in
//! `target/browser-artifacts/<test>.png`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`; override with `PATHWISE_CHROMIUM` / `PATHWISE_CHROMEDRIVER`). Without them
//! the tests fail, unless `PATHWISE_SKIP_BROWSER=1` is set.

mod common;

use std::time::Instant;

use common::browser::*;
use fantoccini::Locator;
use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_server::ServerConfig;
use pathwise_store::{NoPaths, Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;
use serde_json::json;

#[tokio::test]
async fn trace_list_paginates_filters_and_searches() {
    let base = base();
    in_browser("trace_list", |client| async move {
        // Pages of 10: 33 traces across 4 pages, Next and Previous keep a cursor stack.
        open(&client, &format!("{base}/#/traces?limit=10"), "list").await;
        until(&client, "the total card", "document.querySelector('[data-stat=total] .card-value').textContent === '33'").await;
        let mut seen = std::collections::HashSet::new();
        let mut pages = Vec::new();
        loop {
            let ids: Vec<String> = serde_json::from_value(js(&client, "return [...document.querySelectorAll('#trace-rows tr.trace-row')].map(r => r.dataset.traceId);").await).unwrap();
            assert!(!ids.is_empty() && ids.len() <= 10, "{ids:?}");
            seen.extend(ids.iter().cloned());
            pages.push(ids);
            let next = client.find(Locator::Css("#page-next")).await.unwrap();
            if next.attr("disabled").await.unwrap().is_some() {
                break;
            }
            let first = pages.last().unwrap()[0].clone();
            click(&client, "#page-next").await;
            until(&client, "the next page", &format!("document.querySelector('#trace-rows tr.trace-row')?.dataset.traceId !== '{first}'")).await;
        }
        assert_eq!(seen.len(), 33, "every trace once across {} pages", pages.len());
        assert_eq!(pages.len(), 4);
        click(&client, "#page-prev").await;
        let third = pages[2][0].clone();
        until(&client, "the previous page", &format!("document.querySelector('#trace-rows tr.trace-row')?.dataset.traceId === '{third}'")).await;
        assert!(texts(&client, "#page-label").await[0].starts_with("Page 3"));

        // Back to one page of everything.
        open(&client, &format!("{base}/#/traces?limit=50"), "list").await;
        until(&client, "all 33 rows", "document.querySelectorAll('#trace-rows tr.trace-row').length === 33").await;
        let stats = texts(&client, ".card .card-value").await;
        assert_eq!(stats[0], "33", "total card: {stats:?}");
        assert_eq!(stats[3], "1", "one running trace: {stats:?}");

        screenshot(&client, "trace_list_all").await;

        // Status filters: the rows the API has for that status, and nothing else.
        for status in ["failed", "running"] {
            let expected = traces_with_status(&base, status).await;
            client.find(Locator::Css("#status-filter")).await.unwrap().select_by_value(status).await.unwrap();
            let condition = if expected == 0 {
                "document.querySelectorAll('#trace-rows tr.trace-row').length === 0 && document.querySelector('#trace-rows tr.empty') !== null".to_string()
            } else {
                format!("(() => {{ const rows = [...document.querySelectorAll('#trace-rows tr.trace-row')]; return rows.length === {expected} && rows.every(r => r.dataset.status === '{status}'); }})()")
            };
            until(&client, &format!("only {status} rows"), &condition).await;
            let badges = texts(&client, "#trace-rows .badge").await;
            assert!(badges.iter().all(|b| b == status), "{badges:?}");
            let card = format!("[data-stat={status}].active .card-value");
            assert_eq!(texts(&client, &card).await, vec![expected.to_string()], "the card agrees and is highlighted");
        }
        assert_eq!(texts(&client, "#trace-rows .trace-name").await, vec!["nightly-reindex"]);

        // Search (debounced) together with "any status".
        client.find(Locator::Css("#status-filter")).await.unwrap().select_by_value("").await.unwrap();
        until(&client, "all rows again", "document.querySelectorAll('#trace-rows tr.trace-row').length === 33").await;
        client.find(Locator::Css("#trace-search")).await.unwrap().send_keys("competitor").await.unwrap();
        until(&client, "one search hit", "document.querySelectorAll('#trace-rows tr.trace-row').length === 1").await;
        assert_eq!(texts(&client, "#trace-rows .trace-name").await, vec!["competitor-selection"]);
        assert!(client.current_url().await.unwrap().as_str().contains("q=competitor"), "filters are kept in the URL");

        // A click opens the trace.
        click(&client, "#trace-rows tr.trace-row td.num").await;
        element(&client, "body[data-ready=\"1\"][data-view=\"detail\"]").await;
        assert!(client.current_url().await.unwrap().fragment().unwrap().starts_with("/trace/"));
        // "Back" restores the filtered list.
        client.back().await.unwrap();
        until(&client, "the filtered list again", "document.body.dataset.view === 'list' && document.querySelectorAll('#trace-rows tr.trace-row').length === 1").await;
        assert_eq!(js(&client, "return document.querySelector('#trace-search').value;").await, "competitor");
    })
    .await;
}

#[tokio::test]
async fn decision_trace_renders_llm_evaluations_ranking_and_json() {
    let base = base();
    let id = trace_id_named(&base, "competitor-selection").await;
    in_browser("decision_trace", |client| async move {
        open(&client, &format!("{base}/#/trace/{id}"), "detail").await;
        let names = texts(&client, "#waterfall-rows .wf-row .wf-name").await;
        assert_eq!(names, vec!["competitor-selection", "keyword_generation", "apply_filters", "ranking"]);
        assert_eq!(texts(&client, ".trace-name-heading").await, vec!["competitor-selection"]);
        assert!(texts(&client, ".trace-head").await[0].contains("B0123"), "trace metadata shows");

        // The first step is open: its LLM card.
        let first = ".wf-row[data-name=\"keyword_generation\"].selected + .wf-details";
        let model = element(&client, &format!("{first} .panel-llm .llm-model .fact-value")).await;
        assert_eq!(model.text().await.unwrap(), "gpt-4o");
        assert_eq!(texts(&client, &format!("{first} .llm-total .fact-value")).await, vec!["876"]);
        assert_eq!(texts(&client, &format!("{first} .llm-provider .fact-value")).await, vec!["openai"]);
        assert_eq!(texts(&client, &format!("{first} .llm-temperature .fact-value")).await, vec!["0.7"]);
        // 812 input tokens at gpt-4o's $2.50/M and 64 output tokens at $10/M: $0.00267.
        assert_eq!(texts(&client, &format!("{first} .llm-cost .fact-value")).await, vec!["$0.00267"]);
        let latency = texts(&client, &format!("{first} .llm-latency .fact-value")).await;
        assert!(latency[0] != "—" && !latency[0].is_empty(), "{latency:?}");
        let roles = texts(&client, &format!("{first} .llm-prompt .llm-role")).await;
        assert_eq!(roles, vec!["system", "user"], "the prompt, message by message");
        let prompt = texts(&client, &format!("{first} .llm-prompt .llm-content")).await;
        assert_eq!(prompt, vec!["Reply with search keywords.", "wireless mouse"]);
        assert_eq!(texts(&client, &format!("{first} .llm-completion .llm-content")).await, vec!["mouse, wireless"]);
        assert_eq!(texts(&client, ".wf-details").await.len(), 1, "only the first step starts open");
        screenshot(&client, "decision_trace_first_step").await;

        // apply_filters: the evaluations table.
        click(&client, ".wf-row[data-name=\"apply_filters\"] .wf-name").await;
        let evaluations = ".wf-row[data-name=\"apply_filters\"] + .wf-details .panel-evaluations";
        element(&client, evaluations).await;
        let items = texts(&client, &format!("{evaluations} tbody tr td.item .mono:first-child")).await;
        assert_eq!(items, vec!["B1", "B2"]);
        let headers = texts(&client, &format!("{evaluations} thead th")).await;
        assert_eq!(headers, vec!["Item", "price", "rating", "Qualified", "Reasoning"]);
        let b1 = texts(&client, &format!("{evaluations} tr[data-item=\"B1\"] .mark")).await;
        let b2 = texts(&client, &format!("{evaluations} tr[data-item=\"B2\"] .mark")).await;
        assert_eq!(b1, vec!["✓", "✓", "✓"], "price, rating, qualified");
        assert_eq!(b2, vec!["✗", "✓", "✗"]);
        assert!(texts(&client, &format!("{evaluations} tr[data-item=\"B2\"] .cell.fail")).await[0].contains("over $30"));

        // ranking: the ranking table and a JSON viewer for `notes`.
        click(&client, ".wf-row[data-name=\"ranking\"] .wf-name").await;
        let ranking = ".wf-row[data-name=\"ranking\"] + .wf-details";
        element(&client, &format!("{ranking} .panel-ranking table")).await;
        let rows = texts(&client, &format!("{ranking} .panel-ranking tbody tr")).await;
        assert_eq!(rows.len(), 2);
        assert_eq!(texts(&client, &format!("{ranking} .panel-ranking tbody td.rank")).await, vec!["1", "2"]);
        assert!(rows[0].contains("B1") && rows[0].contains("0.93") && rows[0].contains("cheapest"), "{rows:?}");
        assert!(rows[1].contains("B7") && rows[1].contains("best rated"), "{rows:?}");

        let notes = format!("{ranking} .panel-metadata[data-section=\"metadata\"] .json-viewer");
        element(&client, &notes).await;
        assert_eq!(texts(&client, &format!("{ranking} .panel-metadata .panel-title")).await, vec!["notes"]);
        let keys = texts(&client, &format!("{notes} .j-key")).await;
        assert_eq!(keys, vec!["\"nested\"", "\"deep\""]);
        assert_eq!(texts(&client, &format!("{notes} .j-num")).await, vec!["1", "2", "3"]);
        element(&client, &format!("{notes} .j-copy")).await;
        // Collapse the outer object: its keys disappear; expand again: they are back.
        let visible_deep = format!("[...document.querySelectorAll('{notes} .j-key')].filter(k => k.offsetParent !== null).length");
        click(&client, &format!("{notes} .j-tree > .j-node > .j-toggle")).await;
        until(&client, "the collapsed JSON", &format!("{visible_deep} === 0")).await;
        assert!(texts(&client, &format!("{notes} .j-tree > .j-node.collapsed > .j-summary")).await[0].contains("1 key"));
        click(&client, &format!("{notes} .j-tree > .j-node > .j-toggle")).await;
        until(&client, "the expanded JSON", &format!("{visible_deep} === 2")).await;
        // Copy reacts (clipboard or its fallback).
        click(&client, &format!("{notes} .j-copy")).await;
        until(&client, "the copy feedback", &format!("document.querySelector('{notes} .j-copy').dataset.copied !== undefined")).await;

        client.execute(&format!("document.querySelector('{ranking}').scrollIntoView({{block: 'start'}});"), vec![]).await.unwrap();
        screenshot(&client, "decision_trace_ranking").await;
        client.execute(&format!("document.querySelector('{evaluations}').scrollIntoView({{block: 'start'}});"), vec![]).await.unwrap();
        screenshot(&client, "decision_trace_evaluations").await;

        // Input and output of the first step use the viewer too.
        let input = texts(&client, &format!("{first} .panel-input .j-tree")).await;
        assert!(input[0].contains("\"title\"") && input[0].contains("\"wireless mouse\""), "{input:?}");

        // A row click closes its details again.
        click(&client, ".wf-row[data-name=\"apply_filters\"] .wf-name").await;
        until(&client, "closed details", "!document.querySelector('.wf-row[data-name=\"apply_filters\"] + .wf-details')").await;
    })
    .await;
}

#[tokio::test]
async fn script_in_reasoning_stays_text() {
    let base = base();
    let id = trace_id_named(&base, "competitor-selection").await;
    in_browser("script_as_text", |client| async move {
        open(&client, &format!("{base}/#/trace/{id}"), "detail").await;
        let reasoning = element(
            &client,
            ".wf-row[data-name=\"keyword_generation\"] + .wf-details .reasoning",
        )
        .await;
        let text = reasoning.text().await.unwrap();
        assert!(
            text.contains("<script>alert(\"x\")</script>"),
            "shown literally: {text}"
        );
        let content = js(
            &client,
            "return document.querySelector('.wf-details .reasoning').textContent;",
        )
        .await;
        assert!(content.as_str().unwrap().contains("<script>alert"));
        assert!(
            client.get_alert_text().await.is_err(),
            "no alert dialog opened"
        );
        assert_eq!(
            js(
                &client,
                "return document.querySelectorAll('#view script, .wf-details script').length;"
            )
            .await,
            json!(0)
        );
        assert_eq!(
            js(&client, "return document.scripts.length;").await,
            json!(1),
            "only the dashboard's own module"
        );
    })
    .await;
}

#[tokio::test]
async fn large_trace_renders_bounded_and_loads_subtrees_on_demand() {
    let base = base();
    let id = trace_id_named(&base, "BatchImport.run").await;
    in_browser("large_trace", |client| async move {
        open(&client, &format!("{base}/#/trace/{id}"), "detail").await;
        let rows: usize = js(&client, "return document.querySelectorAll('#waterfall-rows .wf-row').length;").await.as_u64().unwrap() as usize;
        assert!((101..=2_000).contains(&rows), "{rows} rows: the top of the tree only");
        assert!(texts(&client, ".wf-notice").await[0].contains("3,001"));
        let chunks = texts(&client, ".wf-row[data-name=\"BatchImport.chunk\"]").await.len();
        assert_eq!(chunks, 100);
        let waiting = texts(&client, ".wf-row[data-name=\"BatchImport.chunk\"] .wf-lazy").await;
        assert!(!waiting.is_empty() && waiting.iter().all(|t| t == "+29 not loaded"), "{waiting:?}");
        // Expand the first waiting chunk: its 29 rows come from the API.
        let span: String = js(&client, "return document.querySelector('.wf-row[data-name=\"BatchImport.chunk\"]:has(.wf-lazy)').dataset.spanId;").await.as_str().unwrap().to_string();
        let chunk = format!(".wf-row[data-span-id=\"{span}\"]");
        client.execute(&format!("document.querySelector('{chunk}').scrollIntoView({{block: 'center'}});"), vec![]).await.unwrap();
        screenshot(&client, "large_trace_collapsed").await;
        let children = format!("(() => {{ let n = 0; for (let e = document.querySelector('{chunk}').nextElementSibling; e && Number(e.dataset.depth) > 1; e = e.nextElementSibling) if (e.classList.contains('wf-row') && e.dataset.name === 'BatchImport.row') n++; return n; }})()");
        assert_eq!(js(&client, &format!("return {children};")).await, json!(0));
        click(&client, &format!("{chunk} .wf-lazy")).await;
        until(&client, "29 loaded children", &format!("{children} === 29")).await;
        element(&client, &format!("{chunk}[aria-expanded=\"true\"]")).await;
        assert!(texts(&client, &format!("{chunk} .wf-lazy")).await.is_empty());
        // Collapse and expand again without another request.
        click(&client, &format!("{chunk} .wf-toggle")).await;
        until(&client, "the collapsed chunk", &format!("{children} === 0")).await;
        click(&client, &format!("{chunk} .wf-toggle")).await;
        until(&client, "the re-expanded chunk", &format!("{children} === 29")).await;
        client.execute(&format!("document.querySelector('{chunk}').scrollIntoView({{block: 'center'}});"), vec![]).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn status_bar_shows_pipeline_health() {
    let base = base();
    in_browser("status_bar", |client| async move {
        open(&client, &format!("{base}/"), "list").await;
        element(&client, "#statusbar[data-state=\"ok\"]").await;
        let bar = texts(&client, "#statusbar").await.remove(0);
        for label in ["Queue depth", "Error rate", "Write lag"] {
            assert!(bar.contains(label), "{bar}");
        }
        let queue = texts(&client, "#sb-queue").await.remove(0);
        assert!(
            queue.chars().all(|c| c.is_ascii_digit() || c == ','),
            "queue depth {queue:?}"
        );
        let errors = texts(&client, "#sb-errors").await.remove(0);
        assert!(
            errors.ends_with('%') && errors != "0%",
            "error rate {errors:?}"
        );
        let lag = texts(&client, "#sb-lag").await.remove(0);
        assert!(
            lag.ends_with("ms") || lag.ends_with("µs") || lag.ends_with(" s"),
            "write lag {lag:?}"
        );
        // Also on the detail page.
        let id = trace_id_named(&base, "competitor-selection").await;
        open(&client, &format!("{base}/#/trace/{id}"), "detail").await;
        assert!(texts(&client, "#statusbar").await[0].contains("Queue depth"));
    })
    .await;
}

#[tokio::test]
async fn running_traces_refresh_and_lost_sessions_link_to_sign_in() {
    let addr = common::start_server(ServerConfig {
        token: Some("browser-token".into()),
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let base = format!("http://{addr}");
    in_browser("sign_in_again", |client| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        let form = client
            .form(Locator::Css("form[action=\"/login\"]"))
            .await
            .unwrap();
        form.set_by_name("token", "browser-token").await.unwrap();
        form.submit().await.unwrap();
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        // The running trace: the list polls while it shows one, and so does the detail page.
        element(&client, "#trace-rows tr[data-status=\"running\"]").await;
        assert!(
            js(
                &client,
                "return !document.querySelector('.live-indicator').hidden;"
            )
            .await
                == json!(true)
        );
        click(
            &client,
            "#trace-rows tr[data-status=\"running\"] .trace-name",
        )
        .await;
        element(&client, "body[data-ready=\"1\"][data-view=\"detail\"]").await;
        element(
            &client,
            ".wf-row.wf-synthetic[data-name=\"nightly-reindex\"]",
        )
        .await;
        let before = js(
            &client,
            "return document.querySelector('.wf-synthetic .wf-dur').textContent;",
        )
        .await;
        // Zoomed in, the window stays where it is while the trace grows: the axis keeps
        // its labels across the refresh.
        js(
            &client,
            "document.querySelector('#wf-zoom-in').click(); return null;",
        )
        .await;
        let ticks = texts(&client, ".wf-tick").await;
        until(
            &client,
            "the running trace to refresh",
            &format!("document.querySelector('.wf-synthetic .wf-dur').textContent !== {before}"),
        )
        .await;
        assert_eq!(texts(&client, ".wf-tick").await, ticks);
        // The session ends: the next API call answers 401 and the page offers to sign in.
        client.delete_all_cookies().await.unwrap();
        element(&client, "#auth-notice:not([hidden]) a[href=\"/\"]").await;
        element(&client, ".error-box a[href=\"/\"]").await;
    })
    .await;
}

/// Writes a trace of `1 + children × (1 + grandchildren)` spans straight into a store.
fn write_wide_trace(db: &std::path::Path, children: u64, grandchildren: u64) -> TraceId {
    let mut store = SqliteStore::open(db).unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let trace = TraceId::from_parts(now_ms, 4242);
    let t0 = now_ms as i64 * 1_000_000;
    let step = 1_000_i64; // 1 µs per grandchild
    let child_len = step * grandchildren as i64 + 500;
    let mut records = Vec::new();
    let span =
        |id: u64, parent: u64, name: &'static str, start: i64, duration: i64, failed: bool| {
            let mut s = SpanRecord::new(trace, id, parent, name.into(), SpanKind::Span);
            s.start_ns = start;
            s.duration_ns = duration as u64;
            if failed {
                s.status = Status::Error;
            }
            Record::Span(s)
        };
    let mut flush = |records: &mut Vec<Record>| {
        store
            .write_batch(
                &WriteBatch {
                    records,
                    ..WriteBatch::EMPTY
                },
                &NoPaths,
            )
            .unwrap();
        records.clear();
    };
    for c in 0..children {
        let child_id = 1_000_000 + c;
        let child_start = t0 + 1_000 + c as i64 * (child_len + 100);
        records.push(span(
            child_id,
            1,
            "Ingest.partition",
            child_start,
            child_len,
            false,
        ));
        for g in 0..grandchildren {
            let id = 10_000_000 + c * grandchildren + g;
            let start = child_start + 200 + g as i64 * step;
            records.push(span(
                id,
                child_id,
                "Ingest.record",
                start,
                step - 100,
                g == 7 && c % 50 == 0,
            ));
        }
        if records.len() >= 20_000 {
            flush(&mut records);
        }
    }
    let end = t0 + 1_000 + children as i64 * (child_len + 100) + 1_000;
    records.push(span(1, 0, "Ingest.run", t0, end - t0, false));
    flush(&mut records);
    trace
}

/// Time from navigation to a rendered, interactive waterfall for a 100,000-span trace.
/// `cargo test -p pathwise-server --release --test browser -- --ignored --nocapture`
#[tokio::test]
#[ignore = "benchmark: run explicitly"]
async fn render_time_of_a_100k_span_trace() {
    render_time(1_000, "render_100k", 1_000.0).await;
}

/// The same for 500,000 spans, and the time to find a span deep in a subtree not loaded.
/// `cargo test -p pathwise-server --release --test browser render_time_of_a_500k -- --ignored --nocapture`
#[tokio::test]
#[ignore = "benchmark: run explicitly"]
async fn render_time_of_a_500k_span_trace() {
    render_time(5_000, "render_500k", 2_000.0).await;
}

/// Opens a trace of `children` × 100 spans five times; then finds its last span five times.
/// The median load must stay within `budget_ms` (`PATHWISE_RENDER_BUDGET_MS` overrides).
async fn render_time(children: u64, name: &'static str, budget_ms: f64) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wide.db");
    let built = Instant::now();
    let trace = write_wide_trace(&db, children, 99);
    let spans = 1 + children * 100;
    eprintln!("wrote {spans} spans in {:?}", built.elapsed());
    let addr = common::start_server(ServerConfig::new(common::backend(&db)));
    let url = format!("http://{addr}/#/trace/{}", trace.to_hex());
    // The last record of the last partition: in a subtree the page does not load.
    let deepest = 10_000_000 + children * 99 - 1;
    in_browser(name, |client| async move {
        let mut times = Vec::new();
        for _ in 0..5 {
            client.goto("about:blank").await.unwrap();
            open(&client, &url, "detail").await;
            let ms = js(&client, "return window.__pathwiseReadyAt;").await.as_f64().unwrap();
            let api = js(&client, "const r = performance.getEntriesByType('resource').find(e => /\\/api\\/traces\\/[0-9a-f]{32}\\?/.test(e.name)); return r ? [r.startTime, r.responseEnd] : null;").await;
            eprintln!("ready at {ms:.0} ms; trace API request from/to {api}");
            times.push(ms);
        }
        let rows = js(&client, "return document.querySelectorAll('#waterfall-rows .wf-row').length;").await;
        let total = texts(&client, ".wf-notice").await;
        eprintln!("{spans}-span trace: rows rendered {rows}, {total:?}");
        eprintln!("navigation → interactive waterfall (ms), 5 loads: {times:?}");
        let load_median = median(&times);
        eprintln!("median {load_median:.0} ms (first, cold load {:.0} ms)", times[0]);
        assert!(rows.as_u64().unwrap() <= 3_000, "{rows} rows");
        // Rebuilding every row (expand to one level, then two), layout included.
        let rebuild = js(&client, "const s = document.querySelector('#wf-depth'); const out = [];
            for (const v of ['1', '2', '1', '2', '1', '2']) { const t = performance.now(); s.value = v;
              s.dispatchEvent(new Event('change')); void document.body.offsetHeight; out.push(performance.now() - t); }
            return out;").await;
        eprintln!("rebuild rows (1 level, 2 levels, ×3), ms: {rebuild}");
        // Find the deepest span by its id: the request, the merge into the tree and its row.
        let mut finds = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            js(&client, &format!("const i = document.querySelector('#wf-search'); i.value = ''; i.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Escape' }})); i.value = '{deepest}'; i.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter' }})); return null;")).await;
            until(&client, "the deepest span found", &format!("document.activeElement && document.activeElement.dataset.spanId === '{deepest}'")).await;
            finds.push(started.elapsed().as_secs_f64() * 1e3);
        }
        eprintln!("find the deepest span (ms), 5 runs: {finds:?}; median {:.0} ms", median(&finds));
        let budget: f64 = std::env::var("PATHWISE_RENDER_BUDGET_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(budget_ms);
        assert!(load_median <= budget, "median {load_median:.0} ms over the {budget} ms budget");
    })
    .await;
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}
