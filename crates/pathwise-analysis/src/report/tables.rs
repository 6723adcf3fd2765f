//! The sections every format shows as tables: health, shifts, baselines and error patterns,
//! as (title, header, rows).

use crate::patterns::ErrorPatterns;
use crate::perf::regression::{RateChange, ShiftKind};
use crate::snapshot::Snapshot;

pub(crate) type Table = (String, Vec<String>, Vec<Vec<String>>);

/// One table per attribute: the error rate of each of its values, flagged values marked.
pub(crate) fn pattern_tables(patterns: &[ErrorPatterns]) -> Vec<Table> {
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
pub(crate) fn perf_tables(snap: &Snapshot) -> Vec<Table> {
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
