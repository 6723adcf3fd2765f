//! The "EXECUTION PATH ANALYSIS REPORT" in text, JSON, CSV or one self-contained HTML file.

use std::fmt::Write;

use serde_json::{Value, json};

use crate::metrics::{Analysis, Metrics};
use crate::patterns::ErrorPatterns;
use crate::perf::regression::{RateChange, ShiftKind};
use crate::rankings::short_type;
use crate::snapshot::Snapshot;

/// Rows per section.
const TOP: usize = 10;

/// Output formats of [`render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Html,
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown format {other:?} (text, json, html or csv)"
            )),
        }
    }
}

/// The report's content, shared by every format.
pub fn to_json(a: &Analysis) -> Value {
    let rows = |items: Vec<&Metrics>| serde_json::to_value(items).unwrap_or(Value::Null);
    json!({
        "window": { "since_ns": a.window_since_ns, "until_ns": a.window_until_ns },
        "summary": {
            "requests": a.requests,
            "unique_paths": a.paths.len(),
            "nodes": a.nodes.len(),
            "spans": a.paths.iter().map(|p| p.calls).sum::<i64>(),
            "errors": a.paths.iter().map(|p| p.errors).sum::<i64>(),
            "registered_functions": a.registered.len(),
        },
        "hot_paths": rows(a.hot_paths(TOP)),
        "slow_paths": rows(a.slow_paths(TOP, 1)),
        "error_prone_paths": rows(a.error_paths(TOP)),
        "time_consumers": rows(a.time_consumers(TOP)),
        "never_executed": a.never_executed(),
        "opportunities": a.opportunities(),
    })
}

/// Renders the report.
pub fn render(a: &Analysis, format: Format) -> String {
    render_with(a, None, &[], format)
}

/// Renders the report with the performance sections (health, shifts, baselines) of `snapshot`
/// and an error-pattern section per entry of `patterns`.
pub fn render_with(
    a: &Analysis,
    snapshot: Option<&Snapshot>,
    patterns: &[ErrorPatterns],
    format: Format,
) -> String {
    let mut tables = snapshot.map(perf_tables).unwrap_or_default();
    tables.extend(pattern_tables(patterns));
    match format {
        Format::Text => {
            let mut out = text(a);
            for (title, head, rows) in tables {
                rule(&mut out, &title.to_uppercase());
                if rows.is_empty() {
                    out.push_str("(none)\n");
                }
                for row in rows {
                    let cells: Vec<String> = head
                        .iter()
                        .zip(&row)
                        .map(|(h, c)| format!("{h}: {c}"))
                        .collect();
                    let _ = writeln!(out, "- {}", cells.join(" | "));
                }
            }
            out
        }
        Format::Json => {
            let mut json = to_json(a);
            if let Some(snap) = snapshot {
                json["health"] = json!({ "overall": snap.overall, "components": snap.components });
                json["regressions"] = json!(snap.regressions);
                json["improvements"] = json!(snap.improvements);
                json["operations"] = serde_json::to_value(&snap.operations).unwrap_or(Value::Null);
            }
            json["error_patterns"] = serde_json::to_value(patterns).unwrap_or(Value::Null);
            serde_json::to_string_pretty(&json).unwrap_or_default()
        }
        Format::Csv => csv(a),
        Format::Html => {
            let page = html(a);
            let mut perf = String::new();
            for (title, head, rows) in tables {
                let head: Vec<&str> = head.iter().map(String::as_str).collect();
                html_table(&mut perf, &title, &head, rows);
            }
            page.replace("</body>", &format!("{perf}</body>"))
        }
    }
}

type Table = (String, Vec<String>, Vec<Vec<String>>);

/// One table per attribute: the error rate of each of its values, flagged values marked.
fn pattern_tables(patterns: &[ErrorPatterns]) -> Vec<Table> {
    patterns
        .iter()
        .map(|p| {
            let rows = p
                .values
                .iter()
                .map(|v| {
                    vec![
                        v.value.clone(),
                        v.spans.to_string(),
                        v.errors.to_string(),
                        format!("{:.1} % of spans", v.error_rate * 100.0),
                        if v.flagged { "≥ 2× overall" } else { "" }.to_string(),
                    ]
                })
                .collect();
            (
                format!(
                    "Error patterns by attribute {} ({} spans, {:.1} % of them failed)",
                    p.attribute,
                    p.spans,
                    p.overall_error_rate * 100.0
                ),
                ["value", "spans", "errors", "error rate", "flag"]
                    .map(String::from)
                    .to_vec(),
                rows,
            )
        })
        .collect()
}

/// The performance sections as (title, header, rows), shared by text and HTML.
fn perf_tables(snap: &Snapshot) -> Vec<Table> {
    let pct = |v: f64| format!("{:.1} %", v * 100.0);
    let mut health = vec![vec![
        "overall".to_string(),
        snap.overall.score.to_string(),
        format!("{:?}", snap.overall.level),
        snap.overall.reasons.join("; "),
    ]];
    health.extend(snap.components.iter().map(|c| {
        vec![
            c.component.clone(),
            c.health.score.to_string(),
            format!("{:?}", c.health.level),
            c.health.reasons.join("; "),
        ]
    }));
    let mut shifts = Vec::new();
    for op in &snap.operations {
        if let Some(l) = op
            .latency
            .as_ref()
            .filter(|l| l.kind != ShiftKind::NoChange)
        {
            shifts.push(vec![
                op.name.clone(),
                format!("latency {:?}", l.kind),
                format!("median {:+.1} %", l.effect * 100.0),
                format!("{:.2e}", l.p_value),
            ]);
        }
        if let Some(e) = op
            .error_rate
            .as_ref()
            .filter(|e| e.change != RateChange::NoChange)
        {
            shifts.push(vec![
                op.name.clone(),
                format!("error rate {:?}", e.change),
                format!("{} → {}", pct(e.base_rate), pct(e.recent_rate)),
                format!("{:.2e}", e.p_value),
            ]);
        }
        if let Some(t) = op
            .throughput
            .as_ref()
            .filter(|t| t.change != RateChange::NoChange)
        {
            shifts.push(vec![
                op.name.clone(),
                format!("throughput {:?}", t.change),
                format!("{:.2}/s → {:.2}/s", t.base_rate, t.recent_rate),
                format!("{:.2e}", t.p_value),
            ]);
        }
    }
    let baselines = snap
        .operations
        .iter()
        .map(|op| match (&op.baseline, &op.learning) {
            (Some(b), _) => vec![
                op.name.clone(),
                op.baseline_source.clone(),
                format!("{:.3} / {:.3} / {:.3}", b.p50, b.p95, b.p99),
                op.recent.p95_ms.map_or("-".into(), |p| format!("{p:.3}")),
                format!(
                    "{} warning, {} critical",
                    op.recent.warnings, op.recent.criticals
                ),
            ],
            (None, learning) => vec![
                op.name.clone(),
                learning.as_ref().map_or("none".into(), |l| l.to_string()),
                "-".into(),
                op.recent.p95_ms.map_or("-".into(), |p| format!("{p:.3}")),
                "-".into(),
            ],
        })
        .collect();
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        (
            "Health".into(),
            strings(&["component", "score", "level", "reasons"]),
            health,
        ),
        (
            "Regressions and shifts".into(),
            strings(&["operation", "shift", "change", "p-value"]),
            shifts,
        ),
        (
            "Baselines".into(),
            strings(&[
                "operation",
                "baseline",
                "p50 / p95 / p99 ms",
                "recent p95 ms",
                "violations",
            ]),
            baselines,
        ),
    ]
}

fn rule(out: &mut String, title: &str) {
    let _ = write!(out, "\n{}\n{title}\n{}\n", "=".repeat(80), "=".repeat(80));
}

fn errors_text(m: &Metrics) -> String {
    m.errors_by_type
        .iter()
        .map(|(t, n)| format!("{} {n}", short_type(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(a: &Analysis) -> String {
    let mut out = String::new();
    let s = &to_json(a)["summary"];
    rule(&mut out, "EXECUTION PATH ANALYSIS REPORT");
    let _ = writeln!(out, "Requests (root spans): {}", s["requests"]);
    let _ = writeln!(out, "Spans recorded:         {}", s["spans"]);
    let _ = writeln!(out, "Unique paths:           {}", s["unique_paths"]);
    let _ = writeln!(out, "Nodes tracked:          {}", s["nodes"]);
    let _ = writeln!(out, "Errors:                 {}", s["errors"]);
    rule(&mut out, "TOP 10 HOT PATHS (most frequently used)");
    for (i, p) in a.hot_paths(TOP).iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {}\n   calls {} ({:.1} per request) | avg {:.2} ms | p95 {:.2} ms",
            i + 1,
            p.key,
            p.calls,
            p.share_of_requests,
            p.avg_ms,
            p.p95_ms
        );
    }
    rule(&mut out, "TOP 10 SLOW PATHS (performance bottlenecks)");
    for (i, p) in a.slow_paths(TOP, 1).iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {}\n   p95 {:.2} ms | avg {:.2} ms | max {:.2} ms | calls {}",
            i + 1,
            p.key,
            p.p95_ms,
            p.avg_ms,
            p.max_ms,
            p.calls
        );
    }
    rule(&mut out, "TOP 10 ERROR-PRONE PATHS");
    for (i, p) in a.error_paths(TOP).iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {}\n   error rate {:.1} % ({}/{}) | {}",
            i + 1,
            p.key,
            p.error_rate * 100.0,
            p.errors,
            p.calls,
            errors_text(p)
        );
    }
    rule(
        &mut out,
        "TOP 10 TIME CONSUMERS (request latency they were responsible for: time on critical paths)",
    );
    for (i, n) in a.time_consumers(TOP).iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {}\n   {:.1} % of request latency ({:.1} ms on critical paths) | {:.1} % of self time ({:.1} ms) | calls {}",
            i + 1,
            n.key,
            n.share_of_latency * 100.0,
            n.critical_ms,
            n.share_of_self_time * 100.0,
            n.self_ms,
            n.calls
        );
    }
    rule(
        &mut out,
        "NEVER EXECUTED (registered, no call in this window)",
    );
    let unused = a.never_executed();
    if unused.is_empty() {
        out.push_str("(none)\n");
    }
    for name in unused {
        let _ = writeln!(out, "- {name}");
    }
    rule(&mut out, "OPTIMISATION OPPORTUNITIES");
    let hints = a.opportunities();
    if hints.is_empty() {
        out.push_str("(none found)\n");
    }
    for hint in hints {
        let _ = writeln!(out, "- {hint}");
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// One row per path: the full metrics table.
fn csv(a: &Analysis) -> String {
    let mut out = String::from(
        "path,node,depth,calls,errors,error_rate,total_ms,self_ms,avg_ms,min_ms,max_ms,p50_ms,p95_ms,p99_ms,share_of_requests,share_of_time\n",
    );
    for p in &a.paths {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{:.6},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.6},{:.6}",
            csv_field(&p.key),
            csv_field(&p.node),
            p.depth.unwrap_or(0),
            p.calls,
            p.errors,
            p.error_rate,
            p.total_ms,
            p.self_ms,
            p.avg_ms,
            p.min_ms,
            p.max_ms,
            p.p50_ms,
            p.p95_ms,
            p.p99_ms,
            p.share_of_requests,
            p.share_of_time
        );
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(out: &mut String, title: &str, head: &[&str], rows: Vec<Vec<String>>) {
    let _ = write!(out, "<h2>{}</h2><table><tr>", escape(title));
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

/// One self-contained file: inline CSS, no scripts, no external resources.
fn html(a: &Analysis) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pathwise — execution path analysis</title><style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}td:first-child{font-family:monospace}</style></head><body><h1>Execution path analysis report</h1>",
    );
    let s = &to_json(a)["summary"];
    let _ = write!(
        out,
        "<p>{} requests, {} spans, {} unique paths, {} nodes, {} errors.</p>",
        s["requests"], s["spans"], s["unique_paths"], s["nodes"], s["errors"]
    );
    let ms = |v: f64| format!("{v:.2}");
    html_table(
        &mut out,
        "Hot paths",
        &["path", "calls", "per request", "avg ms", "p95 ms"],
        a.hot_paths(TOP)
            .iter()
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
    html_table(
        &mut out,
        "Slow paths",
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
    html_table(
        &mut out,
        "Error-prone paths",
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
    html_table(
        &mut out,
        "Time consumers",
        &[
            "node",
            "self time share",
            "self ms",
            "request time share",
            "calls",
        ],
        a.time_consumers(TOP)
            .iter()
            .map(|n| {
                vec![
                    n.key.clone(),
                    format!("{:.1} %", n.share_of_self_time * 100.0),
                    ms(n.self_ms),
                    format!("{:.1} %", n.share_of_time * 100.0),
                    n.calls.to_string(),
                ]
            })
            .collect(),
    );
    html_table(
        &mut out,
        "Never executed",
        &["function"],
        a.never_executed()
            .into_iter()
            .map(|f| vec![f.to_string()])
            .collect(),
    );
    html_table(
        &mut out,
        "Optimisation opportunities",
        &["finding"],
        a.opportunities().into_iter().map(|h| vec![h]).collect(),
    );
    out.push_str("</body></html>\n");
    out
}
