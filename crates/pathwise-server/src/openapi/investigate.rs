//! Investigation views over many traces: the decision funnel (`/api/funnel`) and latency
//! heatmaps (`/api/heatmap`, `/api/heatmap/steps`).

use pathwise_analysis::heatmap::{MAX_COLUMNS, MAX_ROWS};
use serde_json::{Value, json};

use super::schemas::{list, object, refer};
use super::{answers, get, int, param, query, window};
use crate::params::TRACE_ID_PATTERN;

fn count() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn examples(what: &str) -> Value {
    json!({ "type": "array", "maxItems": pathwise_analysis::funnel::MAX_EXAMPLES,
        "items": { "type": "string", "pattern": TRACE_ID_PATTERN }, "description": what })
}

fn filter() -> Value {
    object(json!({
        "name": { "type": "string" },
        "evaluated": count(), "passed": count(),
        "rejected": { "type": "integer", "minimum": 0, "description": "failed verdicts (an item can fail several filters)" },
        "first_rejections": { "type": "integer", "minimum": 0, "description": "items this filter was the first to reject, in each evaluation's filter order: its outflow in the Sankey" },
        "examples": examples("newest traces in which the filter rejected an item"),
    }))
}

fn step() -> Value {
    let items =
        |what: &str| json!({ "type": ["integer", "null"], "minimum": 0, "description": what });
    object(json!({
        "name": { "type": "string" },
        "traces": { "type": "integer", "minimum": 1, "description": "traces that ran the step" },
        "failed_traces": count(),
        "dropped_before": { "type": "integer", "minimum": 0, "description": "traces that ran the previous step but not this one" },
        "p50_ms": { "type": "number" }, "p95_ms": { "type": "number" },
        "items_in": items("candidates evaluated (metadata.evaluations) or ranked (metadata.ranking), over all traces; null when the step records neither"),
        "items_out": items("of those, the qualified ones (a ranking: every ranked item)"),
        "unqualified_after_filters": count(),
        "filters": list(filter()),
        "failed_examples": examples("newest traces in which the step failed"),
        "examples": examples("newest traces that ran the step"),
    }))
}

fn counts() -> Value {
    json!({ "type": "array", "items": count() })
}

fn text(description: &str) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": crate::MAX_QUERY_BYTES, "description": description })
}

fn columns() -> Value {
    int(
        "columns",
        1,
        MAX_COLUMNS as i64,
        Some(60),
        "time columns at most (each a whole number of minutes)",
    )
}

fn grid() -> Value {
    json!({
        "window": refer("Window"),
        "since_ns": { "type": "integer", "description": "start of the first column (a whole minute)" },
        "column_ns": { "type": "integer", "minimum": 60_000_000_000i64, "description": "width of each column, whole minutes" },
    })
}

fn heatmap() -> Value {
    let mut fields = grid();
    fields.as_object_mut().unwrap().extend(json!({
        "kind": { "enum": ["node", "path"] },
        "edges_ns": { "type": "array", "items": { "type": "integer" }, "minItems": 2,
            "description": "row edges, ascending and log-spaced from the fastest to the slowest call: row r holds [edges_ns[r], edges_ns[r+1]), the last row its upper edge too (to the sketches' 1 % accuracy)" },
        "cells": { "type": "array", "items": counts(), "description": "cells[column][row]: calls" },
        "calls": counts(), "errors": counts(),
        "max_cell": count(),
    }).as_object().unwrap().clone());
    object(fields)
}

fn step_heatmap() -> Value {
    let mut fields = grid();
    let row = object(json!({
        "name": { "type": "string" },
        "p95_ms": { "type": "array", "items": { "type": ["number", "null"] }, "description": "per column; null where the step did not run" },
        "calls": counts(),
        "overall_p95_ms": { "type": ["number", "null"] },
    }));
    fields
        .as_object_mut()
        .unwrap()
        .insert("steps".into(), list(row));
    object(fields)
}

/// `/api/heatmap` and `/api/heatmap/steps`.
pub(super) fn heatmaps() -> Value {
    let mut one = vec![
        query(
            "node",
            text("a span name (its paths merged)"),
            "a node: give node or path",
        ),
        query(
            "path",
            text("a path, root first, names joined by ` → `"),
            "a path: give node or path",
        ),
    ];
    one.extend(window());
    one.push(columns());
    one.push(int(
        "rows",
        1,
        MAX_ROWS as i64,
        Some(20),
        "duration rows at most",
    ));
    let mut steps = vec![param(
        "name",
        "query",
        true,
        text("the decision traces' name (exact)"),
        "the decision traces' name",
    )];
    steps.extend(window());
    steps.push(columns());
    json!({
        "/api/heatmap": get("a latency heatmap of one node or path over a window (default 24 h): calls by start time (columns of whole minutes) and duration (log-spaced rows from the fastest to the slowest call), read from the minute rollups' sketches, so any window costs its rollups; 400 without node or path, or with both", one,
            answers("the heatmap", heatmap(), &[])),
        "/api/heatmap/steps": get("the slowest steps of the decision traces of one name over time: each step (learnt from the newest 20 such traces) with its p95 per column, slowest step first; a step's figures are its span name's", steps,
            answers("the steps' heatmap", step_heatmap(), &[])),
    })
}

/// `/api/funnel`.
pub(super) fn paths() -> Value {
    let mut params = vec![param(
        "name",
        "query",
        true,
        json!({ "type": "string", "minLength": 1, "maxLength": crate::MAX_QUERY_BYTES }),
        "the decision traces' name (exact)",
    )];
    params.extend(window());
    json!({
        "/api/funnel": get("the decision funnel of one trace name over a window (default 24 h): the newest 1,000 traces of that name, how many reach each step (in the order traces run them) and fail in it, how many candidates enter each step and qualify, and per filter its verdicts and the items it was first to reject (the Sankey's flows), with example traces. Reads each trace's spans: cost grows with the traces read", params,
            answers("the funnel", object(json!({
                "name": { "type": "string" },
                "window": refer("Window"),
                "traces": count(), "completed": count(), "failed": count(), "running": count(),
                "truncated": { "type": "boolean", "description": "the window holds more traces of the name than were read" },
                "max_traces": { "type": "integer" },
                "steps": list(step()),
            })), &[])),
    })
}
