//! The plain-text report: ruled sections, one numbered entry per path or node.

use std::fmt::Write;

use super::tables::Table;
use super::{Report, TOP, to_json};
use crate::metrics::{Analysis, Metrics};
use crate::rankings::short_type;

fn rule(out: &mut String, title: &str) {
    let _ = write!(out, "\n{}\n{title}\n{}\n", "=".repeat(80), "=".repeat(80));
}

pub(super) fn errors_text(m: &Metrics) -> String {
    m.errors_by_type
        .iter()
        .map(|(t, n)| format!("{} {n}", short_type(t)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole text report: the path analysis, then `sections` (health, shifts, baselines,
/// error patterns) and model usage; a period with nothing recorded says only that.
pub(crate) fn report(report: &Report, sections: &[Table]) -> String {
    let mut out = String::new();
    rule(&mut out, &report.title.to_uppercase());
    let _ = writeln!(out, "Period: {}", report.period_text());
    if report.is_empty() {
        out.push_str("\nNo spans were recorded in this period: nothing to analyse, and no change to report.\n");
        return out;
    }
    out.push_str(&text(&report.analysis));
    for (title, head, rows) in sections {
        rule(&mut out, &title.to_uppercase());
        if rows.is_empty() {
            out.push_str("(none)\n");
        }
        for row in rows {
            let cells: Vec<String> = head
                .iter()
                .zip(row)
                .map(|(h, c)| format!("{h}: {c}"))
                .collect();
            let _ = writeln!(out, "- {}", cells.join(" | "));
        }
    }
    let llm = &report.llm;
    if !llm.calls_by_model.is_empty() {
        rule(&mut out, "LANGUAGE MODEL USAGE");
        for (model, calls) in &llm.calls_by_model {
            let _ = writeln!(out, "- {model}: {calls} calls");
        }
        let _ = writeln!(
            out,
            "Tokens: {} in, {} out",
            llm.input_tokens, llm.output_tokens
        );
    }
    out
}

fn text(a: &Analysis) -> String {
    let mut out = String::new();
    let s = &to_json(a)["summary"];
    rule(&mut out, "EXECUTION PATHS");
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
