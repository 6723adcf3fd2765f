//! Investigation views over many traces: the decision funnel (`/api/funnel`).

use serde_json::{Value, json};

use super::schemas::{list, object, refer};
use super::{answers, get, param, window};
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
