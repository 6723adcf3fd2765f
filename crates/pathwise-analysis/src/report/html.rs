//! The HTML report: one self-contained page — inline CSS and SVG, no script, nothing fetched —
//! that reads on screen, printed, or attached to an e-mail.

use std::fmt::Write;

use super::charts::{self, Bar, Column, Spread};
use super::tables::Table;
use super::text::errors_text;
use super::{Report, TOP, minute_text, to_json};

/// Nodes in the latency-distribution chart.
const SPREAD_NODES: usize = 8;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}\
h1{margin-bottom:0}.period{color:#555;margin-top:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}\
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}.card{border:1px solid #ddd;border-radius:6px;padding:.5em .9em;min-width:8em}\
.card b{display:block;font-size:1.5em}.card.bad b{color:#b5443a}\
table{border-collapse:collapse;margin:.6em 0 1.2em;width:100%}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td:first-child{font-family:ui-monospace,monospace;word-break:break-all}\
svg.chart{display:block;max-width:100%;height:auto;margin:.4em 0}.flame img{max-width:100%;height:auto}\
.empty{font-size:1.2em;padding:1em;border:1px dashed #bbb;border-radius:6px}\
.legend{color:#555;font-size:.9em}\
@media print{body{margin:0;max-width:none}section{break-inside:avoid}h2{break-after:avoid}}";

/// Escapes text for HTML and SVG.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    out.push_str("<table><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>");
    if rows.is_empty() {
        let _ = write!(out, "<tr><td colspan=\"{}\">(none)</td></tr>", head.len());
    }
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

/// A titled section: a chart (if any), a note (if any), then its table.
fn section(out: &mut String, title: &str, chart: &str, head: &[&str], rows: Vec<Vec<String>>) {
    let _ = write!(out, "<section><h2>{}</h2>{chart}", escape(title));
    table(out, head, rows);
    out.push_str("</section>");
}

fn card(out: &mut String, label: &str, value: &str, bad: bool) {
    let _ = write!(
        out,
        "<div class=\"card{}\"><b>{}</b>{}</div>",
        if bad { " bad" } else { "" },
        escape(value),
        escape(label)
    );
}

/// The whole page.
pub(crate) fn page(report: &Report, sections: Vec<Table>) -> String {
    let a = &report.analysis;
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Pathwise — {0}</title><style>{STYLE}</style></head><body><header><h1>{0}</h1><p class=\"period\">{1}</p></header>",
        escape(&report.title),
        escape(&report.period_text())
    );
    if report.is_empty() {
        out.push_str("<p class=\"empty\">No spans were recorded in this period: nothing to analyse, and no change to report.</p></body></html>\n");
        return out;
    }
    let s = &to_json(a)["summary"];
    let (spans, errors) = (
        s["spans"].as_i64().unwrap_or(0),
        s["errors"].as_i64().unwrap_or(0),
    );
    out.push_str("<div class=\"cards\">");
    card(&mut out, "requests", &a.requests.to_string(), false);
    card(&mut out, "spans", &spans.to_string(), false);
    let rate = if spans > 0 {
        errors as f64 / spans as f64
    } else {
        0.0
    };
    card(
        &mut out,
        "errors",
        &format!("{errors} ({:.2} %)", rate * 100.0),
        errors > 0,
    );
    card(&mut out, "unique paths", &a.paths.len().to_string(), false);
    card(&mut out, "nodes", &a.nodes.len().to_string(), false);
    out.push_str("</div>");

    if !report.timeline.is_empty() {
        let columns: Vec<Column> = report
            .timeline
            .iter()
            .map(|p| Column {
                label: minute_text(p.start_ns),
                total: p.requests as f64,
                part: p.errors as f64,
            })
            .collect();
        let _ = write!(
            out,
            "<section><h2>Requests and errors over the period</h2>{}</section>",
            charts::columns(
                "Requests and errors over the period",
                &columns,
                "requests",
                "failed spans"
            )
        );
    }

    let ms = |v: f64| format!("{v:.2}");
    let hot = a.hot_paths(TOP);
    let hot_bars: Vec<Bar> = hot
        .iter()
        .map(|p| Bar {
            label: p.key.clone(),
            value: p.calls as f64,
            text: format!("{} calls", p.calls),
        })
        .collect();
    section(
        &mut out,
        "Hot paths (most frequently used)",
        &charts::bars("Hot paths", &hot_bars, "#4a7fb5"),
        &["path", "calls", "per request", "avg ms", "p95 ms"],
        hot.iter()
            .map(|p| {
                vec![
                    p.key.clone(),
                    p.calls.to_string(),
                    format!("{:.2}", p.share_of_requests),
                    ms(p.avg_ms),
                    ms(p.p95_ms),
                ]
            })
            .collect(),
    );

    let consumers = a.time_consumers(TOP);
    let consumer_bars: Vec<Bar> = consumers
        .iter()
        .map(|n| Bar {
            label: n.key.clone(),
            value: n.share_of_latency,
            text: format!("{:.1} % of request latency", n.share_of_latency * 100.0),
        })
        .collect();
    section(
        &mut out,
        "Time consumers (request latency they were responsible for)",
        &charts::bars("Time consumers", &consumer_bars, "#c07a2c"),
        &[
            "node",
            "request latency share",
            "on critical paths ms",
            "self time share",
            "calls",
        ],
        consumers
            .iter()
            .map(|n| {
                vec![
                    n.key.clone(),
                    format!("{:.1} %", n.share_of_latency * 100.0),
                    ms(n.critical_ms),
                    format!("{:.1} %", n.share_of_self_time * 100.0),
                    n.calls.to_string(),
                ]
            })
            .collect(),
    );

    let spreads: Vec<Spread> = consumers
        .iter()
        .take(SPREAD_NODES)
        .map(|n| Spread {
            label: n.key.clone(),
            min: n.min_ms,
            p50: n.p50_ms,
            p95: n.p95_ms,
            p99: n.p99_ms,
            max: n.max_ms,
        })
        .collect();
    if !spreads.is_empty() {
        let _ = write!(
            out,
            "<section><h2>Latency per node</h2><p class=\"legend\">Line: fastest to slowest call; box: p50 to p95; red tick: p99 (logarithmic axis).</p>{}</section>",
            charts::spreads("Latency per node", &spreads)
        );
    }

    section(
        &mut out,
        "Slow paths",
        "",
        &["path", "p95 ms", "avg ms", "max ms", "calls"],
        a.slow_paths(TOP, 1)
            .iter()
            .map(|p| {
                vec![
                    p.key.clone(),
                    ms(p.p95_ms),
                    ms(p.avg_ms),
                    ms(p.max_ms),
                    p.calls.to_string(),
                ]
            })
            .collect(),
    );
    section(
        &mut out,
        "Error-prone paths",
        "",
        &["path", "error rate", "errors", "calls", "by type"],
        a.error_paths(TOP)
            .iter()
            .map(|p| {
                vec![
                    p.key.clone(),
                    format!("{:.1} %", p.error_rate * 100.0),
                    p.errors.to_string(),
                    p.calls.to_string(),
                    errors_text(p),
                ]
            })
            .collect(),
    );
    if let Some(image) = crate::flame::static_window_flamegraph(a) {
        let _ = write!(
            out,
            "<section class=\"flame\"><h2>Flame graph (self time by path)</h2><img alt=\"Flame graph: self time by path\" src=\"{image}\"></section>"
        );
    }
    for (title, head, rows) in sections {
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        section(&mut out, &title, "", &head, rows);
    }
    let llm = &report.llm;
    if !llm.calls_by_model.is_empty() {
        section(
            &mut out,
            &format!(
                "Language model usage ({} tokens in, {} out)",
                llm.input_tokens, llm.output_tokens
            ),
            "",
            &["model", "calls"],
            llm.calls_by_model
                .iter()
                .map(|(m, n)| vec![m.clone(), n.to_string()])
                .collect(),
        );
    }
    section(
        &mut out,
        "Never executed (registered, no call in this period)",
        "",
        &["function"],
        a.never_executed()
            .into_iter()
            .map(|f| vec![f.to_string()])
            .collect(),
    );
    section(
        &mut out,
        "Optimisation opportunities",
        "",
        &["finding"],
        a.opportunities().into_iter().map(|h| vec![h]).collect(),
    );
    out.push_str("</body></html>\n");
    out
}
