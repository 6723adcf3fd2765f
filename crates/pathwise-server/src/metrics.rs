//! `GET /metrics`: the Prometheus text exposition format (version 0.0.4), so the Prometheus a
//! team already runs can scrape Pathwise and alert on it with its own rules.
//!
//! - Per node (span name) over everything stored: calls, errors and a duration histogram. The
//!   label set is bounded: the [`TOP_NODES`] busiest nodes by name, the rest merged as
//!   `node="other"`. Histogram buckets are read off the rollups' DDSketch (relative error 1%),
//!   so a bucket's count is exact up to values within 1% of its bound.
//! - The store's latest pipeline counters (the recording application's), this server's own
//!   ingest pipeline, OTLP ingest counters, and alerts firing.

use std::fmt::Write;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use pathwise_store::rollup::Bucket;
use pathwise_store::{PipelineStats, Window};
use rustc_hash::FxHashMap;

use crate::error::ApiError;

/// Nodes that get a label of their own.
pub const TOP_NODES: usize = 50;

/// Histogram bounds in seconds (Prometheus' defaults, extended to a minute).
const BOUNDS_S: [f64; 14] = [
    0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

pub async fn prometheus(state: crate::state::Scoped) -> Result<Response, ApiError> {
    let firing = crate::alerts::firing(&state).await?;
    let ingest = state.project.ingest.as_ref().map(|i| i.stats());
    // The project's own ingest pipeline, else the process's (a server embedded in an app).
    let server_pipeline = match &state.project.pipeline {
        Some(pipeline) => Some(pipeline.stats()),
        None => pathwise_pipeline::stats(),
    };
    let (nodes, stored_pipeline) = state
        .read(|r| {
            let rollups = r.path_rollups(Window::all())?;
            let mut by_node: FxHashMap<String, Bucket> = FxHashMap::default();
            for rollup in rollups {
                by_node
                    .entry(rollup.path.node)
                    .or_default()
                    .merge(&rollup.bucket);
            }
            Ok((by_node, r.latest_pipeline_stats()?))
        })
        .await?;
    let mut out = String::with_capacity(16 * 1024);
    render_nodes(&mut out, nodes);
    if let Some(stats) = stored_pipeline {
        render_pipeline(
            &mut out,
            "pathwise_pipeline",
            "the recording application's pipeline (latest stored figures)",
            &stats,
        );
    }
    if let Some(stats) = server_pipeline {
        render_pipeline(
            &mut out,
            "pathwise_server_pipeline",
            "this server's ingest pipeline",
            &stats,
        );
    }
    if let Some(s) = ingest {
        family(
            &mut out,
            "pathwise_ingest_requests_total",
            "counter",
            "OTLP export requests received",
        );
        sample(
            &mut out,
            "pathwise_ingest_requests_total",
            &[("outcome", "accepted")],
            (s.requests - s.refused_requests) as f64,
        );
        sample(
            &mut out,
            "pathwise_ingest_requests_total",
            &[("outcome", "refused")],
            s.refused_requests as f64,
        );
        family(
            &mut out,
            "pathwise_ingest_spans_total",
            "counter",
            "spans received over OTLP",
        );
        sample(
            &mut out,
            "pathwise_ingest_spans_total",
            &[("outcome", "accepted")],
            s.accepted_spans as f64,
        );
        sample(
            &mut out,
            "pathwise_ingest_spans_total",
            &[("outcome", "rejected")],
            s.rejected_spans as f64,
        );
        family(
            &mut out,
            "pathwise_ingest_orphans_total",
            "counter",
            "spans rooted because their parent never arrived",
        );
        sample(
            &mut out,
            "pathwise_ingest_orphans_total",
            &[],
            s.orphans as f64,
        );
        family(
            &mut out,
            "pathwise_ingest_held_spans",
            "gauge",
            "spans waiting for their parent",
        );
        sample(
            &mut out,
            "pathwise_ingest_held_spans",
            &[],
            s.held_spans as f64,
        );
    }
    family(
        &mut out,
        "pathwise_alerts_firing",
        "gauge",
        "alerts firing, by severity",
    );
    let mut by_severity: std::collections::BTreeMap<String, u64> = ["critical", "warning", "info"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    for (severity, _) in &firing {
        *by_severity.entry(severity.clone()).or_default() += 1;
    }
    for (severity, count) in by_severity {
        sample(
            &mut out,
            "pathwise_alerts_firing",
            &[("severity", &severity)],
            count as f64,
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

fn render_nodes(out: &mut String, nodes: FxHashMap<String, Bucket>) {
    let mut nodes: Vec<(String, Bucket)> = nodes.into_iter().collect();
    nodes.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then_with(|| a.0.cmp(&b.0)));
    if nodes.len() > TOP_NODES {
        let mut other = Bucket::default();
        for (_, bucket) in nodes.drain(TOP_NODES..) {
            other.merge(&bucket);
        }
        nodes.push(("other".into(), other));
    }
    family(
        out,
        "pathwise_node_calls_total",
        "counter",
        "calls of each node (span name) stored",
    );
    for (node, b) in &nodes {
        sample(
            out,
            "pathwise_node_calls_total",
            &[("node", node)],
            b.calls as f64,
        );
    }
    family(
        out,
        "pathwise_node_errors_total",
        "counter",
        "failed calls of each node stored",
    );
    for (node, b) in &nodes {
        sample(
            out,
            "pathwise_node_errors_total",
            &[("node", node)],
            b.errors as f64,
        );
    }
    let name = "pathwise_node_duration_seconds";
    family(
        out,
        name,
        "histogram",
        "call duration of each node (buckets from a 1%-accurate sketch)",
    );
    for (node, b) in &nodes {
        let count = b.sketch.count() as u64;
        for bound in BOUNDS_S {
            let le = format_value(bound);
            let below = count_at_most(b, bound * 1e9, count);
            sample(
                out,
                &format!("{name}_bucket"),
                &[("node", node), ("le", &le)],
                below as f64,
            );
        }
        sample(
            out,
            &format!("{name}_bucket"),
            &[("node", node), ("le", "+Inf")],
            count as f64,
        );
        sample(
            out,
            &format!("{name}_sum"),
            &[("node", node)],
            b.total_ns as f64 / 1e9,
        );
        sample(
            out,
            &format!("{name}_count"),
            &[("node", node)],
            count as f64,
        );
    }
}

/// How many of the sketch's `count` values are at most `bound_ns`: the largest rank whose
/// quantile does not exceed the bound, found by bisection (quantiles rise with rank).
fn count_at_most(bucket: &Bucket, bound_ns: f64, count: u64) -> u64 {
    let at = |rank: u64| {
        let q = if count <= 1 {
            0.0
        } else {
            rank as f64 / (count - 1) as f64
        };
        bucket
            .sketch
            .quantile(q)
            .ok()
            .flatten()
            .unwrap_or(f64::INFINITY)
    };
    if count == 0 || at(0) > bound_ns {
        return 0;
    }
    let (mut low, mut high) = (0u64, count - 1); // at(low) <= bound
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if at(mid) <= bound_ns {
            low = mid
        } else {
            high = mid - 1
        }
    }
    low + 1
}

fn render_pipeline(out: &mut String, prefix: &str, what: &str, s: &PipelineStats) {
    let name = format!("{prefix}_records_total");
    family(
        out,
        &name,
        "counter",
        &format!("records through {what}, by what happened to them"),
    );
    for (stage, value) in [
        ("recorded", s.recorded),
        ("written", s.written),
        ("spilled", s.spilled),
        ("replayed", s.replayed),
        ("dropped", s.dropped),
        ("sampled_out", s.sampled_out),
    ] {
        sample(out, &name, &[("stage", stage)], value as f64);
    }
    let name = format!("{prefix}_queue_depth");
    family(
        out,
        &name,
        "gauge",
        &format!("records waiting in memory in {what}"),
    );
    sample(out, &name, &[], s.queue_depth as f64);
    let name = format!("{prefix}_write_lag_seconds");
    family(
        out,
        &name,
        "gauge",
        &format!("age of the oldest record in {what}'s last commit"),
    );
    sample(out, &name, &[], s.write_lag_ns as f64 / 1e9);
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(
        out,
        "# HELP {name} {}",
        help.replace('\\', "\\\\").replace('\n', "\\n")
    );
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{key}=\"{}\"", escape_label(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", format_value(value));
}

/// Label values may hold anything a span name holds: backslash, quote and newline are escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn format_value(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_follow_the_values() {
        let mut bucket = Bucket::default();
        // 10 values: 1 ms × 6, 20 ms × 3, 2 s × 1.
        for ns in [1e6; 6].iter().chain(&[20e6; 3]).chain(&[2e9]) {
            bucket.sketch.add(*ns);
        }
        let count = bucket.sketch.count() as u64;
        assert_eq!(count_at_most(&bucket, 0.5e6, count), 0);
        assert_eq!(count_at_most(&bucket, 5e6, count), 6);
        assert_eq!(count_at_most(&bucket, 50e6, count), 9);
        assert_eq!(count_at_most(&bucket, 10e9, count), 10);
        assert_eq!(count_at_most(&Bucket::default(), 1.0, 0), 0);
    }

    #[test]
    fn labels_are_escaped_and_nodes_bounded() {
        let mut nodes = FxHashMap::default();
        for i in 0..(TOP_NODES + 5) {
            let b = Bucket {
                calls: 1000 - i as i64,
                ..Bucket::default()
            };
            nodes.insert(format!("node \"{i}\"\n\\"), b);
        }
        let mut out = String::new();
        render_nodes(&mut out, nodes);
        assert!(
            out.contains(r#"pathwise_node_calls_total{node="node \"0\"\n\\"} 1000"#),
            "{out}"
        );
        // The five quietest (calls 946..=950, summed) are one "other" series.
        assert!(out.contains(&format!(
            "pathwise_node_calls_total{{node=\"other\"}} {}",
            (946..=950).sum::<i64>()
        )));
        assert_eq!(
            out.matches("pathwise_node_calls_total{").count(),
            TOP_NODES + 1
        );
    }
}
