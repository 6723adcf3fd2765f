//! The Alerts page (`#/alerts`) and the status bar's alert badge in a real headless Chromium
//! (the harness of `tests/common/browser.rs`): a server over a copy of the fixture database
//! with one SQL rule that fires (the fixture has 3 failed spans), and the plain fixture server
//! without rules. Screenshots go to `target/browser-artifacts/alerts_*.png`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `PATHWISE_CHROMIUM` /
//! `PATHWISE_CHROMEDRIVER`); without them the tests fail, unless `PATHWISE_SKIP_BROWSER=1`.

mod common;

use common::browser::*;
use fantoccini::{Client, Locator};
use pathwise_server::ServerConfig;

const RULE: &str = "failed spans";
/// `--sev-critical` in app.css.
const CRITICAL_RED: &str = "rgb(224, 49, 49)";

/// The shared rule, evaluated every second, with a summary.
fn rules() -> String {
    format!(
        "check_interval = \"1s\"\n{}annotations = {{ summary = \"{{{{ value }}}} failed spans in the store\" }}\n",
        common::FAILED_SPANS_RULE
    )
}

/// A server with the rule above over a copy of the fixture (the engine writes its history into
/// the database), once the alert fires. The temporary directory lives as long as the test.
async fn alerting_server() -> (tempfile::TempDir, String) {
    let (dir, addr) = common::alerting_server(&rules());
    common::wait_for_alerts(addr, "the rule never fired", |body| {
        body["active"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["state"] == "firing"))
    })
    .await;
    (dir, format!("http://{addr}"))
}

async fn text(client: &Client, css: &str) -> String {
    let script =
        format!("const e = document.querySelector({css:?}); return e ? e.textContent : null;");
    js(client, &script).await.as_str().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_page_lists_acknowledges_and_silences_a_firing_alert() {
    if skip_requested() {
        return;
    }
    let (_dir, base) = alerting_server().await;
    in_browser("alerts_page", move |client| async move {
        open(&client, &format!("{base}/#/alerts"), "alerts").await;

        // The firing alert, in the critical colour, with its value and summary.
        let card = ".alert-card[data-rule=\"failed spans\"]";
        element(&client, card).await;
        let class = js(&client, &format!("return document.querySelector({card:?}).className;")).await;
        let class = class.as_str().unwrap();
        assert!(class.contains("sev-critical"), "class: {class}");
        assert!(class.contains("state-firing"), "class: {class}");
        let border = js(
            &client,
            &format!("return getComputedStyle(document.querySelector({card:?})).borderLeftColor;"),
        )
        .await;
        assert_eq!(border, CRITICAL_RED, "the critical colour");
        let badge = js(
            &client,
            &format!(
                "return getComputedStyle(document.querySelector('{card} .sev-badge')).backgroundColor;"
            ),
        )
        .await;
        assert_eq!(badge, CRITICAL_RED);
        assert_eq!(text(&client, &format!("{card} .alert-rule")).await, RULE);
        assert_eq!(text(&client, &format!("{card} .alert-value")).await, "3");
        assert_eq!(
            text(&client, &format!("{card} .alert-summary")).await,
            "3 failed spans in the store"
        );
        assert!(text(&client, &format!("{card} .alert-since")).await.contains("ago"));
        assert_eq!(text(&client, &format!("{card} .alert-acked-by")).await, "—");
        assert!(
            texts(&client, "#alert-history tbody tr[data-state=\"firing\"] td:nth-child(2)")
                .await
                .iter()
                .any(|r| r == RULE),
            "the history lists the firing transition"
        );
        assert_eq!(
            js(&client, "return document.querySelector('#alerts-rule-errors').hidden;").await,
            true,
            "no rule errors: the panel is hidden"
        );

        // The status bar: "1 firing", red, linking to the page.
        until(
            &client,
            "the status bar's alert badge",
            "document.getElementById('sb-alerts-text').textContent === '1 firing'",
        )
        .await;
        let sb = js(
            &client,
            "const b = document.getElementById('sb-alerts'); \
             return [b.hidden, b.classList.contains('sb-alerts-firing'), b.getAttribute('href'), \
             getComputedStyle(b).backgroundColor];",
        )
        .await;
        assert_eq!(sb, serde_json::json!([false, true, "#/alerts", CRITICAL_RED]));
        assert_eq!(
            js(&client, "return document.querySelector('.topnav a[aria-current=\"page\"]').textContent;").await,
            "Alerts"
        );

        // Acknowledge as "alice": an "acknowledged" history row, and the alert says who.
        element(&client, "#alerts-actor").await.send_keys("alice").await.unwrap();
        click(&client, &format!("{card} .alert-ack")).await;
        until(
            &client,
            "the acknowledged history row",
            "[...document.querySelectorAll('#alert-history tbody tr[data-state=\"acknowledged\"] .history-actor')]\
             .some(td => td.textContent === 'alice')",
        )
        .await;
        until(
            &client,
            "the acknowledged-by fact",
            &format!("document.querySelector('{card} .alert-acked-by')?.textContent === 'alice'"),
        )
        .await;
        assert!(text(&client, &format!("{card} .alert-acked")).await.contains("alice"));
        let rows = texts(&client, "#alert-history tbody tr td:first-child").await;
        let mut sorted = rows.clone();
        sorted.sort();
        sorted.reverse();
        assert_eq!(rows, sorted, "the history is newest first");

        // Silence the rule for 4 hours with a comment: listed under Silences.
        click(&client, &format!("{card} .alert-silence")).await;
        element(&client, "#silence-form").await;
        js(
            &client,
            "document.querySelector('#silence-form select[name=\"for\"]').value = '4h'; return null;",
        )
        .await;
        element(&client, "#silence-form input[name=\"comment\"]")
            .await
            .send_keys("deploy window")
            .await
            .unwrap();
        screenshot(&client, "alerts_silence_form").await;
        click(&client, "#silence-form button[type=\"submit\"]").await;
        until(
            &client,
            "the silence in the list",
            "[...document.querySelectorAll('#silence-table tbody tr')].some(tr => \
             tr.querySelector('.silence-comment').textContent === 'deploy window' && \
             tr.querySelector('.silence-matcher').textContent === 'rule = failed spans')",
        )
        .await;
        let until_text = text(&client, "#silence-table tbody tr .silence-until").await;
        assert!(until_text.contains("in 4h"), "until: {until_text}");
        assert_eq!(
            js(&client, "return document.getElementById('silence-form') === null;").await,
            true,
            "the form closes once the silence is made"
        );

        // The history filter offers the rule and keeps its rows.
        let options = texts(&client, "#history-rule option").await;
        assert_eq!(options, vec!["All rules".to_string(), RULE.to_string()]);
        js(
            &client,
            "const s = document.getElementById('history-rule'); s.value = 'failed spans'; \
             s.dispatchEvent(new Event('change')); return null;",
        )
        .await;
        until(&client, "the filtered address", "location.hash === '#/alerts?rule=failed+spans'").await;
        until(
            &client,
            "the filtered history",
            "document.querySelectorAll('#alert-history tbody tr').length > 0 && \
             !document.querySelector('.alerts-view').classList.contains('loading')",
        )
        .await;
        assert!(
            texts(&client, "#alert-history tbody tr td:nth-child(2)")
                .await
                .iter()
                .all(|r| r == RULE)
        );
        // Still 1 firing (acknowledging and silencing do not resolve).
        assert_eq!(text(&client, "#sb-alerts-text").await, "1 firing");
        js(&client, "document.getElementById('view').scrollTop = 0; return null;").await;
    })
    .await;
}

/// The state badge of the rule row named `rule`, as a JavaScript expression.
fn rule_state(rule: &str) -> String {
    format!(
        "document.querySelector('#rule-table tr[data-rule={rule:?}] .rule-state .alert-state')?.textContent"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_page_lists_every_rule_and_silences_and_ends_a_silence() {
    if skip_requested() {
        return;
    }
    // By construction: the fixture has 3 failed spans, so "failed spans" fires at once and
    // "failed spans, held" (the same condition, `for = 1h`) stays pending. The rest cannot
    // hold: the fixture's spans last far less than 2.5 s, its database is far below 5 GB, and
    // an error rate is never above 100%.
    let rules = format!(
        r#"check_interval = "1s"
{}
[[rule]]
name = "failed spans, held"
kind = "sql"
query = "SELECT count(*) FROM spans_v WHERE status = 'error'"
op = ">="
threshold = 3
for = "1h"
severity = "warning"

[[rule]]
name = "slow roots"
kind = "threshold"
signal = "p95_ms"
op = ">"
threshold = 2500
severity = "error"

[[rule]]
name = "big database"
kind = "threshold"
signal = "db_size_bytes"
op = ">"
threshold = 5e9
severity = "info"

[[rule]]
name = "all failing"
kind = "threshold"
signal = "error_rate"
op = ">"
threshold = 1
"#,
        common::FAILED_SPANS_RULE
    );
    let (_dir, addr) = common::alerting_server(&rules);
    common::wait_for_alerts(addr, "the alerts never reached their states", |body| {
        let states: Vec<(&str, &str)> = body["active"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| (a["rule"].as_str().unwrap(), a["state"].as_str().unwrap()))
            .collect();
        states.contains(&("failed spans", "firing"))
            && states.contains(&("failed spans, held", "pending"))
    })
    .await;
    let base = format!("http://{addr}");
    in_browser("alerts_rules", move |client| async move {
        open(&client, &format!("{base}/#/alerts"), "alerts").await;
        element(&client, "#rule-table").await;

        // Every rule, in file order, with its state, severity and condition in its unit.
        let names = texts(&client, "#rule-table tbody tr[data-rule] .rule-name").await;
        assert_eq!(
            names,
            [
                "failed spans",
                "failed spans, held",
                "slow roots",
                "big database",
                "all failing"
            ]
        );
        let states = texts(
            &client,
            "#rule-table tbody tr[data-rule] .rule-state .alert-state",
        )
        .await;
        assert_eq!(states, ["firing", "pending", "ok", "ok", "ok"]);
        let severities = texts(&client, "#rule-table tbody tr[data-rule] .sev-badge").await;
        assert_eq!(
            severities,
            ["critical", "warning", "error", "info", "warning"]
        );
        let conditions = texts(
            &client,
            "#rule-table tbody tr[data-rule] .rule-condition .mono",
        )
        .await;
        assert_eq!(
            conditions,
            [
                "SQL value >= 3",
                "SQL value >= 3",
                "p95_ms > 2.50 s",
                "db_size_bytes > 5.00 GB",
                "error_rate > 100.0%"
            ]
        );
        assert!(
            text(
                &client,
                "#rule-table tr[data-rule=\"failed spans, held\"] .rule-condition"
            )
            .await
            .ends_with("for 1h")
        );
        let values = texts(&client, "#rule-table tbody tr[data-rule] .rule-value").await;
        assert_eq!(values, ["3", "3", "—", "—", "—"]);
        assert_eq!(
            text(&client, "#rules-summary").await,
            "1 firing · 1 pending · 3 ok"
        );
        screenshot(&client, "alerts_rules").await;

        // Silence the firing alert's rule from its card: rule and alert read "silenced".
        let card = ".alert-card[data-rule=\"failed spans\"]";
        click(&client, &format!("{card} .alert-silence")).await;
        click(&client, "#silence-form button[type=\"submit\"]").await;
        until(
            &client,
            "the silenced rule",
            &format!("{} === 'silenced'", rule_state(RULE)),
        )
        .await;
        until(
            &client,
            "the silenced alert",
            &format!("document.querySelector('{card} .alert-state')?.textContent === 'silenced'"),
        )
        .await;
        assert_eq!(
            text(
                &client,
                &format!("#rule-table tr[data-rule={RULE:?}] .rule-alert-state")
            )
            .await,
            " (firing)"
        );
        assert_eq!(text(&client, &format!("{card} .alert-value")).await, "3");
        let held = js(
            &client,
            &format!("return {};", rule_state("failed spans, held")),
        )
        .await;
        assert_eq!(held, "pending", "a rule silence mutes only its rule");
        assert_eq!(
            text(&client, "#alerts-summary").await,
            "0 firing · 1 pending · 1 silenced"
        );
        screenshot(&client, "alerts_rules_silenced").await;

        // End it: back to firing, and the silence is gone.
        click(&client, "#silence-table tbody tr .silence-end").await;
        until(
            &client,
            "the rule firing again",
            &format!("{} === 'firing'", rule_state(RULE)),
        )
        .await;
        until(
            &client,
            "the alert firing again",
            &format!("document.querySelector('{card} .alert-state')?.textContent === 'firing'"),
        )
        .await;
        assert_eq!(
            js(
                &client,
                "return document.getElementById('silence-table') === null;"
            )
            .await,
            true,
            "no silence is left"
        );

        // A quiet rule can be silenced from its row, and reads "silenced" until ended.
        click(
            &client,
            "#rule-table tr[data-rule=\"slow roots\"] .rule-silence",
        )
        .await;
        let scopes = texts(&client, "#silence-form select[name=\"scope\"] option").await;
        assert_eq!(
            scopes,
            ["every alert of this rule"],
            "a rule row silences its rule"
        );
        click(&client, "#silence-form button[type=\"submit\"]").await;
        until(
            &client,
            "the silenced quiet rule",
            &format!("{} === 'silenced'", rule_state("slow roots")),
        )
        .await;
        assert_eq!(
            text(&client, "#silence-table tbody tr .silence-matcher").await,
            "rule = slow roots"
        );
        click(&client, "#silence-table tbody tr .silence-end").await;
        until(
            &client,
            "the quiet rule ok again",
            &format!("{} === 'ok'", rule_state("slow roots")),
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_opens_the_traces_behind_its_value() {
    if skip_requested() {
        return;
    }
    // The fixture's three failed PubMed calls, each in its own search trace, are what an
    // error-rate rule measures; a database-size rule has no traces behind it.
    let rules = r#"check_interval = "1s"

[[rule]]
name = "errors"
kind = "threshold"
signal = "error_rate"
op = ">"
threshold = 0.5
window = "1h"

[[rule]]
name = "big database"
kind = "threshold"
signal = "db_size_bytes"
op = ">"
threshold = 5e9
"#;
    let (_dir, addr) = common::alerting_server(rules);
    let base = format!("http://{addr}");
    in_browser("alerts_rule_traces", move |client| async move {
        open(&client, &format!("{base}/#/alerts"), "alerts").await;
        element(&client, "#rule-table").await;
        assert_eq!(
            js(&client, "return document.querySelectorAll('#rule-table tr[data-rule=\"big database\"] a.rule-traces').length;").await,
            serde_json::json!(0)
        );
        click(&client, "#rule-table tr[data-rule=\"errors\"] a.rule-traces").await;
        assert_eq!(listed_traces(&client).await.len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_page_says_when_alerting_is_off() {
    if skip_requested() {
        return;
    }
    let base = base();
    in_browser("alerts_off", move |client| async move {
        open(&client, &format!("{base}/#/alerts"), "alerts").await;
        let off = text(&client, "#alerts-off").await;
        assert!(
            off.contains("Alerting is off: start the server with --alerts alerts.toml"),
            "{off}"
        );
        assert_eq!(
            js(&client, "return document.querySelector('.al-sections').hidden;").await,
            true
        );
        until(
            &client,
            "the status bar's alerting-off note",
            "document.getElementById('sb-alerts-text').textContent === 'alerting off'",
        )
        .await;
        let sb = js(
            &client,
            "const b = document.getElementById('sb-alerts'); \
             return [b.hidden, b.classList.contains('sb-alerts-off'), b.classList.contains('sb-alerts-firing')];",
        )
        .await;
        assert_eq!(sb, serde_json::json!([false, true, false]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_page_shows_quiet_rules_and_rule_errors() {
    if skip_requested() {
        return;
    }
    let quiet_rules = r#"
check_interval = "1s"

[[rule]]
name = "too many spans"
kind = "sql"
query = "SELECT count(*) FROM spans_v"
op = ">="
threshold = 1000000
severity = "warning"

[[rule]]
name = "broken query"
kind = "sql"
query = "SELECT count(*) FROM no_such_table"
op = ">"
threshold = 0
severity = "error"
"#;
    let (_dir, addr) = common::alerting_server(quiet_rules);
    // Wait for the first evaluation (the broken rule reports its error).
    common::wait_for_alerts(addr, "no rule error", |body| {
        body["rule_errors"]
            .as_object()
            .is_some_and(|e| !e.is_empty())
    })
    .await;
    let base = format!("http://{addr}");
    in_browser("alerts_quiet", move |client| async move {
        open(&client, &format!("{base}/#/alerts"), "alerts").await;
        let none = text(&client, "#alerts-none").await;
        assert!(none.starts_with("Nothing is firing"), "{none}");
        let errors = texts(&client, "#rule-error-list li .rule-error-name").await;
        assert_eq!(errors, vec!["broken query".to_string()]);
        let message = text(&client, "#rule-error-list li .rule-error-text").await;
        assert!(!message.is_empty());
        until(
            &client,
            "the status bar's alert badge",
            "document.getElementById('sb-alerts-text').textContent === '0 firing'",
        )
        .await;
        assert_eq!(
            js(
                &client,
                "return document.getElementById('sb-alerts').classList.contains('sb-alerts-firing');"
            )
            .await,
            false
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_page_asks_to_sign_in_again() {
    let addr = common::start_server(ServerConfig {
        token: Some("alerts-token".into()),
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let base = format!("http://{addr}");
    in_browser("alerts_sign_in", move |client| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        let form = client
            .form(Locator::Css("form[action=\"/login\"]"))
            .await
            .unwrap();
        form.set_by_name("token", "alerts-token").await.unwrap();
        form.submit().await.unwrap();
        element(&client, "body[data-ready=\"1\"][data-view=\"list\"]").await;
        click(&client, ".topnav a[href=\"#/alerts\"]").await;
        element(&client, "body[data-ready=\"1\"][data-view=\"alerts\"]").await;
        element(&client, "#alerts-off").await;
        // The session ends: the next load answers 401 with a way to sign in, and the page
        // stops reloading itself.
        client.delete_all_cookies().await.unwrap();
        click(&client, "#alerts-refresh").await;
        element(&client, "#auth-notice:not([hidden]) a[href=\"/\"]").await;
        element(&client, ".al-message .error-box a[href=\"/\"]").await;
        assert_eq!(
            js(
                &client,
                "return document.querySelector('.alerts-view .live-indicator').hidden;"
            )
            .await,
            true
        );
    })
    .await;
}
