//! The Analysis page and the trace page's flame-graph and critical-path tabs, in a real headless
//! Chromium (the harness of `tests/common/browser.rs`) against a real server over the fixture
//! database. Screenshots go to `target/browser-artifacts/analysis_*.png`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use fantoccini::{Client, Locator};
use pathwise_server::ServerConfig;
use serde_json::{Value, json};

const HOT_BATCH: &str = "BatchImport.run → BatchImport.chunk → BatchImport.row";
const FAILING_PUBMED: &str = "SearchService.search → GEOClient.search → PubMedClient.search";

/// Opens the Analysis page at `range` and waits for its first render.
async fn open_analysis(client: &Client, base: &str, range: &str) {
    open(
        client,
        &format!("{base}/#/analysis?range={range}"),
        "analysis",
    )
    .await;
    element(client, "#hot-paths .bar-chart, #hot-paths .empty-state").await;
}

/// The calls column of the node table, top to bottom.
async fn calls_column(client: &Client) -> Vec<i64> {
    let cells = texts(
        client,
        "#node-table tbody tr td:nth-child(2)", // Node, Calls, …
    )
    .await;
    cells
        .iter()
        .map(|c| c.replace(',', "").parse().unwrap())
        .collect()
}

#[tokio::test]
async fn analysis_page_charts_tables_and_graphs() {
    let base = base();
    let nodes: Value = reqwest::get(format!("{base}/api/nodes?since=24h"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let node_count = nodes["nodes"].as_array().unwrap().len();
    assert!(node_count >= 10, "{nodes}");
    in_browser("analysis_page", |client| async move {
        open_analysis(&client, &base, "24h").await;
        assert_eq!(
            js(&client, "return document.querySelector('.topnav a[aria-current=\"page\"]').textContent;").await,
            json!("Analysis")
        );
        assert_eq!(
            js(&client, "return document.querySelector('#analysis-range [aria-pressed=\"true\"]').dataset.range;").await,
            json!("24h")
        );

        // Hot paths: the batch import's rows are called most.
        let hot = texts(&client, "#hot-paths .bar-row .bar-label").await;
        assert_eq!(hot[0], HOT_BATCH, "{hot:?}");
        assert!(texts(&client, "#hot-paths .bar-row .bar-value").await[0].contains("2,900"));
        let tooltip = js(&client, "return document.querySelector('#hot-paths .bar-row').title;").await;
        assert!(tooltip.as_str().unwrap().contains("p95"), "{tooltip}");
        // Slow paths: bars drawn, one per path.
        assert!(!texts(&client, "#slow-paths .bar-row").await.is_empty());
        // Error-prone paths: the failing PubMed client, at 100 %.
        let failing = texts(&client, "#error-paths .bar-row .bar-label").await;
        assert!(failing.iter().any(|l| l == FAILING_PUBMED), "{failing:?}");
        let pubmed = texts(&client, &format!("#error-paths .bar-row[data-key=\"{FAILING_PUBMED}\"] .bar-value")).await;
        assert!(pubmed[0].starts_with("100"), "{pubmed:?}");
        // Summary cards.
        assert_eq!(texts(&client, "[data-stat=nodes] .card-value").await[0], node_count.to_string());

        // The scatter plot: one dot per node, each with a tooltip naming it.
        let dots = js(&client, "return document.querySelectorAll('#scatter circle.scatter-dot').length;").await;
        assert_eq!(dots, json!(node_count));
        let title = js(&client, "return document.querySelector('#scatter circle.scatter-dot[data-node=\"PubMedClient.search\"] title').textContent;").await;
        let title = title.as_str().unwrap();
        assert!(title.starts_with("PubMedClient.search") && title.contains("3 errors (100.0%)"), "{title}");
        screenshot(&client, "analysis_overview").await;
        scroll_to(&client, "#error-scatter").await;
        screenshot(&client, "analysis_scatter").await;

        // The node table sorts by a clicked heading, descending first, then ascending.
        element(&client, "#node-table tbody tr").await;
        assert_eq!(
            js(&client, "return document.querySelectorAll('#node-table tbody tr').length;").await,
            json!(node_count)
        );
        click(&client, "#node-table th[data-sort=\"calls\"] button").await;
        until(&client, "rows sorted by calls", "document.querySelector('#node-table th[data-sort=\"calls\"]').getAttribute('aria-sort') === 'descending'").await;
        let first = js(&client, "return document.querySelector('#node-table tbody tr').dataset.node;").await;
        assert_eq!(first, json!("BatchImport.row"));
        let calls = calls_column(&client).await;
        assert!(calls.windows(2).all(|w| w[0] >= w[1]), "descending: {calls:?}");
        assert_eq!(calls[0], 2_900);
        click(&client, "#node-table th[data-sort=\"calls\"] button").await;
        until(&client, "rows sorted by calls, ascending", "document.querySelector('#node-table th[data-sort=\"calls\"]').getAttribute('aria-sort') === 'ascending'").await;
        let calls = calls_column(&client).await;
        assert!(calls.windows(2).all(|w| w[0] <= w[1]), "ascending: {calls:?}");
        assert_ne!(js(&client, "return document.querySelector('#node-table tbody tr').dataset.node;").await, first);
        click(&client, "#node-table th[data-sort=\"error_rate\"] button").await;
        until(&client, "rows sorted by error rate", "document.querySelector('#node-table tbody tr').dataset.node === 'PubMedClient.search'").await;
        // Sparklines: one per row once the sub-window requests answer.
        element(&client, "#node-metrics[data-trends=\"loaded\"]").await;
        assert_eq!(
            js(&client, "return document.querySelectorAll('#node-table tbody tr td.spark-cell svg.sparkline').length;").await,
            json!(node_count)
        );
        scroll_to(&client, "#node-metrics").await;
        screenshot(&client, "analysis_node_table").await;

        // Opportunities and the never-run list answer (the fixture registers no #[monitor]).
        element(&client, "#opportunities .opportunity-list, #opportunities .empty-state").await;
        element(&client, "#never-run .never-run-list, #never-run .empty-state").await;

        // The flame graph of the window: inferno's SVG, loaded in an <object>.
        element(&client, "#flame-object[data-state=\"loaded\"]").await;
        let svg = js(&client, "const d = document.querySelector('#flame-object').contentDocument; return d.documentElement.localName + ' ' + d.documentElement.textContent.includes('BatchImport.row');").await;
        assert_eq!(svg, json!("svg true"));
        let url = js(&client, "return document.querySelector('#flame-object').data;").await;
        let body = reqwest::get(url.as_str().unwrap()).await.unwrap().text().await.unwrap();
        assert!(body.contains("BatchImport.row"));
        // inferno's script ran inside it (it drops the fixed width for fluid drawing).
        until(&client, "inferno's own script", "!document.querySelector('#flame-object').contentDocument.documentElement.hasAttribute('width')").await;
        scroll_to(&client, "#flame-graph").await;
        screenshot(&client, "analysis_flame").await;
        // Compare with the previous window: the differential graph.
        click(&client, "#flame-compare").await;
        until(&client, "the differential flame graph", "document.querySelector('#flame-object').dataset.url.includes('base_since=') && document.querySelector('#flame-object').dataset.state === 'loaded'").await;
        let diff = js(&client, "const u = new URL(document.querySelector('#flame-object').data); return [u.searchParams.get('since'), u.searchParams.get('until'), u.searchParams.get('base_since'), u.searchParams.get('base_until')].map(Number);").await;
        let w: Vec<i64> = serde_json::from_value(diff).unwrap();
        assert_eq!(w[3], w[0], "the base window ends where the window starts");
        assert_eq!(w[1] - w[0], w[3] - w[2], "windows of the same length");
        assert_eq!(w[1] - w[0], 86_400_000);
        screenshot(&client, "analysis_flame_diff").await;
        click(&client, "#flame-compare").await;
        until(&client, "the window's flame graph again", "!document.querySelector('#flame-object').dataset.url.includes('base_since=')").await;

        // The dependency graph: a caller → callee edge with its calls.
        let edge = element(&client, "#dependency-graph path.dep-edge[data-caller=\"BatchImport.chunk\"][data-callee=\"BatchImport.row\"]").await;
        assert_eq!(edge.attr("data-calls").await.unwrap().as_deref(), Some("2900"));
        let title = js(&client, "return document.querySelector('#dependency-graph path.dep-edge[data-caller=\"BatchImport.chunk\"] title').textContent;").await;
        assert!(title.as_str().unwrap().contains("2,900 calls"), "{title}");
        // Layered: the callee's column is to the right of its caller's.
        let xs = js(&client, "const x = n => document.querySelector(`#dependency-graph g.dep-node[data-node=\"${n}\"] rect`).x.baseVal.value; return [x('BatchImport.run'), x('BatchImport.chunk'), x('BatchImport.row')];").await;
        let xs: Vec<f64> = serde_json::from_value(xs).unwrap();
        assert!(xs[0] < xs[1] && xs[1] < xs[2], "{xs:?}");
        // The failing edge is tinted red.
        let stroke = js(&client, "return document.querySelector('#dependency-graph path.dep-edge[data-callee=\"PubMedClient.search\"]').getAttribute('stroke');").await;
        assert_eq!(stroke, json!("rgb(201, 42, 42)"));
        scroll_to(&client, "#dependency-graph-panel").await;
        screenshot(&client, "analysis_dependency_graph").await;

        // Error patterns: with no attribute named, the panel picks one the window's spans
        // carry (`query`, on 30 search spans, one value each) and offers the others.
        element(&client, "#pattern-summary").await;
        assert_eq!(
            js(&client, "return document.querySelector('#pattern-attr').value;").await,
            json!("query")
        );
        assert_eq!(
            js(&client, "return [...document.querySelectorAll('#pattern-attrs option')].some(o => o.value === 'query');").await,
            json!(true)
        );
        assert_eq!(texts(&client, "#pattern-summary .pattern-spans").await[0], "30 spans");
        assert_eq!(
            js(&client, "return document.querySelectorAll('#pattern-table tbody tr').length;").await,
            json!(30)
        );
        // Another attribute: none carries it.
        let form = client.form(Locator::Css("#pattern-form")).await.unwrap();
        form.set_by_name("attr", "no_such_attribute").await.unwrap();
        click(&client, "#pattern-form button[type=submit]").await;
        until(&client, "the empty pattern state", "(document.querySelector('#error-patterns .empty-state') || {}).textContent?.includes('no_such_attribute')").await;
        form.set_by_name("attr", "query").await.unwrap();
        click(&client, "#pattern-form button[type=submit]").await;
        element(&client, "#pattern-table").await;
        scroll_to(&client, "#error-patterns").await;
        screenshot(&client, "analysis_error_patterns").await;

        // Another range reloads every panel and lands in the address.
        click(&client, "#analysis-range [data-range=\"15m\"]").await;
        until(&client, "the 15m range", "location.hash === '#/analysis?range=15m' && document.querySelector('#analysis-range [aria-pressed=\"true\"]').dataset.range === '15m'").await;
        until(&client, "the hot paths of 15m", &format!("(document.querySelector('#hot-paths .bar-label') || {{}}).textContent === {HOT_BATCH:?} && !document.querySelector('.analysis-view.loading')")).await;
        let request = js(&client, "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/paths/hot')).pop();").await;
        let since: i64 = request.as_str().unwrap().split("since=").nth(1).unwrap().split('&').next().unwrap().parse().unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        assert!((now - since - 15 * 60_000).abs() < 60_000, "since {since}, now {now}");
        // No user data became markup: the page holds only its own script.
        assert_eq!(js(&client, "return document.scripts.length;").await, json!(1));
        client.execute("document.querySelector('#view').scrollTop = 0;", vec![]).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn trace_page_has_flame_graph_and_critical_path_tabs() {
    let base = base();
    let id = trace_id_named(&base, "BatchImport.run").await;
    in_browser("analysis_trace_tabs", |client| async move {
        open(&client, &format!("{base}/#/trace/{id}"), "detail").await;
        let tabs = texts(&client, ".tabs [role=tab]").await;
        assert_eq!(tabs, vec!["Waterfall", "Flame graph", "Critical path"]);
        assert_eq!(
            js(&client, "return document.querySelector('#tab-waterfall').getAttribute('aria-selected');").await,
            json!("true")
        );
        // The critical path is outlined in the waterfall once it has loaded.
        element(&client, ".wf-row.wf-critical[data-name=\"BatchImport.run\"]").await;

        // Flame graph: the trace's own SVG.
        click(&client, "#tab-flame").await;
        element(&client, "#trace-flame-object[data-state=\"loaded\"]").await;
        assert!(js(&client, "return document.querySelector('#waterfall').offsetParent === null;").await == json!(true), "the waterfall is hidden");
        let svg = js(&client, "const d = document.querySelector('#trace-flame-object').contentDocument; return d.documentElement.localName + ' ' + d.documentElement.textContent.includes('BatchImport.row');").await;
        assert_eq!(svg, json!("svg true"));
        let height = js(&client, "return document.querySelector('#trace-flame-object').getBoundingClientRect().height;").await;
        assert!(height.as_f64().unwrap() > 60.0, "{height}");
        assert_eq!(js(&client, "return location.hash;").await, json!(format!("#/trace/{id}?tab=flame")));
        screenshot(&client, "analysis_trace_flame").await;

        // Critical path: from the root down, each span's duration and self time.
        click(&client, "#tab-critical").await;
        element(&client, "#critical-path-table tbody tr").await;
        let names = texts(&client, "#critical-path-table tbody .cp-name").await;
        assert_eq!(names[0], "BatchImport.run");
        assert_eq!(names[1], "BatchImport.chunk");
        assert_eq!(names.last().unwrap(), "BatchImport.row");
        let first_row = texts(&client, "#critical-path-table tbody tr").await.remove(0);
        assert!(first_row.contains("ms") || first_row.contains("µs"), "{first_row}");
        screenshot(&client, "analysis_trace_critical").await;

        // A click on a name shows that span in the waterfall, loading its parent's children.
        let last: String = js(&client, "return [...document.querySelectorAll('#critical-path-table tbody tr')].pop().dataset.spanId;").await.as_str().unwrap().to_string();
        click(&client, "#critical-path-table tbody tr:last-child .cp-name").await;
        element(&client, &format!(".wf-row.wf-critical[data-span-id=\"{last}\"]")).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        screenshot(&client, "analysis_trace_waterfall_critical").await;
        assert_eq!(
            js(&client, "return document.querySelector('#tab-waterfall').getAttribute('aria-selected');").await,
            json!("true")
        );

        // A deep link opens a tab directly.
        open(&client, &format!("{base}/#/trace/{id}?tab=critical"), "detail").await;
        element(&client, "#tab-critical[aria-selected=\"true\"]").await;
        element(&client, "#tabpanel-critical:not([hidden]) #critical-path-table tbody tr").await;
    })
    .await;
}

#[tokio::test]
async fn analysis_page_shows_empty_states_without_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    drop(pathwise_store_sqlite::SqliteStore::open(&db).unwrap());
    let addr = common::start_server(ServerConfig::new(common::backend(&db)));
    let base = format!("http://{addr}");
    in_browser("analysis_empty", |client| async move {
        open_analysis(&client, &base, "1h").await;
        for panel in ["hot-paths", "slow-paths", "error-scatter", "node-metrics", "dependency-graph-panel"] {
            let text = texts(&client, &format!("#{panel} .empty-state")).await;
            assert_eq!(text, vec!["No calls in this window."], "{panel}");
        }
        assert_eq!(texts(&client, "#error-paths .empty-state").await, vec!["No errors in this window."]);
        element(&client, "#never-run .empty-state").await;
        until(&client, "the empty flame graph", "(document.querySelector('#flame-graph .empty-state') || {}).textContent === 'Nothing recorded to draw in this window.'").await;
        until(&client, "the empty error patterns", "(document.querySelector('#error-patterns .empty-state') || {}).textContent?.includes('carries an attribute')").await;
        assert_eq!(texts(&client, "[data-stat=requests] .card-value").await, vec!["0"]);
    })
    .await;
}

#[tokio::test]
async fn analysis_page_asks_to_sign_in_again() {
    let addr = common::start_server(ServerConfig {
        token: Some("analysis-token".into()),
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let base = format!("http://{addr}");
    in_browser("analysis_sign_in", |client| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        let form = client
            .form(Locator::Css("form[action=\"/login\"]"))
            .await
            .unwrap();
        form.set_by_name("token", "analysis-token").await.unwrap();
        form.submit().await.unwrap();
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        click(&client, ".topnav a[href=\"#/analysis\"]").await;
        element(&client, "body[data-ready=\"1\"][data-view=\"analysis\"]").await;
        element(&client, "#flame-object[data-state=\"loaded\"]").await;
        assert_eq!(texts(&client, "#hot-paths .bar-label").await[0], HOT_BATCH);
        // The session ends: the next load answers 401 once, with a way to sign in.
        client.delete_all_cookies().await.unwrap();
        click(&client, ".ana-top .btn").await;
        element(&client, "#auth-notice:not([hidden]) a[href=\"/\"]").await;
        element(&client, ".ana-message .error-box a[href=\"/\"]").await;
        assert_eq!(
            js(
                &client,
                "return document.querySelectorAll('.error-box').length;"
            )
            .await,
            json!(1)
        );
    })
    .await;
}

/// Screenshots of the Analysis page of any running server, panel by panel:
/// `PATHWISE_ANALYSIS_URL=http://127.0.0.1:7070 cargo test -p pathwise-server --test
/// browser_analysis -- --ignored`.
#[tokio::test]
#[ignore = "needs PATHWISE_ANALYSIS_URL: a running server to look at"]
async fn screenshots_of_a_running_server() {
    let Some(base) = std::env::var("PATHWISE_ANALYSIS_URL").ok() else {
        eprintln!("set PATHWISE_ANALYSIS_URL");
        return;
    };
    let range = std::env::var("PATHWISE_ANALYSIS_RANGE").unwrap_or_else(|_| "24h".into());
    in_browser("analysis_server_top", |client| async move {
        open_analysis(&client, &base, &range).await;
        element(&client, "#node-metrics[data-trends]").await;
        until(
            &client,
            "the flame graph",
            "document.querySelector('#flame-graph').dataset.state !== 'loading'",
        )
        .await;
        for panel in [
            "error-scatter",
            "node-metrics",
            "flame-graph",
            "dependency-graph-panel",
            "error-patterns",
        ] {
            scroll_to(&client, &format!("#{panel}")).await;
            screenshot(&client, &format!("analysis_server_{panel}")).await;
        }
        client
            .execute("document.querySelector('#view').scrollTop = 0;", vec![])
            .await
            .unwrap();
    })
    .await;
}

/// Drill-down: an error-prone path's bar opens the list of exactly the traces it counts — the
/// fixture's 3 searches (of 30) whose PubMed call failed — and a hot path's bar the trace
/// through that path.
#[tokio::test]
async fn path_bars_open_the_traces_behind_them() {
    let base = base();
    in_browser("analysis_drill_down", |client| async move {
        open_analysis(&client, &base, "24h").await;
        click(
            &client,
            &format!("#error-paths .bar-row[data-key=\"{FAILING_PUBMED}\"] a.bar-label"),
        )
        .await;
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        until(
            &client,
            "the failed searches",
            "document.querySelectorAll('#trace-rows tr.trace-row').length === 3",
        )
        .await;
        // The searches themselves completed; each holds its one failed call.
        let errors = texts(&client, "#trace-rows tr.trace-row td.has-errors").await;
        assert_eq!(errors, ["1", "1", "1"]);
        let query = js(
            &client,
            "return document.getElementById('trace-search').value;",
        )
        .await;
        assert_eq!(
            query,
            json!(format!("path == \"{FAILING_PUBMED}\" AND status == failed"))
        );
        // The cards count the same traces.
        until(
            &client,
            "the cards",
            "document.querySelector('[data-stat=total] .card-value').textContent === '3'",
        )
        .await;

        // The hot path's 2,900 rows are all in the one batch-import trace.
        open_analysis(&client, &base, "24h").await;
        click(
            &client,
            &format!("#hot-paths .bar-row[data-key=\"{HOT_BATCH}\"] a.bar-label"),
        )
        .await;
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        until(
            &client,
            "the batch import",
            "document.querySelector('[data-stat=total] .card-value').textContent === '1'",
        )
        .await;
        assert_eq!(
            texts(&client, "#trace-rows a.trace-name").await,
            ["BatchImport.run"]
        );
    })
    .await;
}
