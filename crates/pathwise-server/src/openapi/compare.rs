//! Two traces compared (`/api/compare`): the shapes of `pathwise_analysis::compare`.

use serde_json::{Value, json};

use super::schemas::{list, nullable, object, refer};
use super::{answers, get, param};
use crate::params::{SPAN_ID_PATTERN, TRACE_ID_PATTERN};

/// `schema`, or null.
fn or_null(mut schema: Value) -> Value {
    schema["type"] = json!(["object", "null"]);
    schema
}

fn count() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

/// One trace's figures.
fn compared_trace() -> Value {
    object(json!({
        "trace": refer("TraceSummary"),
        "duration_ms": nullable("number"),
        "spans": count(),
        "errors": count(),
        "compared_spans": count(),
        "timeline_ms": { "type": "number", "minimum": 0, "description": "from the first compared span's start to the last one's end: the scale of the bars" },
    }))
}

/// One trace's occurrences of a path.
fn path_side() -> Value {
    or_null(object(json!({
        "count": { "type": "integer", "minimum": 1 },
        "total_ms": { "type": "number", "description": "sum of the occurrences' durations" },
        "errors": count(),
        "status": { "enum": ["ok", "error"] },
        "bars": { "type": "array", "maxItems": pathwise_analysis::compare::MAX_BARS,
            "description": "[start, duration] in ms from the trace's first span, of the first occurrences",
            "items": { "type": "array", "items": { "type": "number" }, "minItems": 2, "maxItems": 2 } },
    })))
}

/// What differs in a decision step.
fn decision() -> Value {
    let value = || json!({ "type": ["string", "null"], "description": "JSON text (input, output) or text (reasoning), cut to 4 KB" });
    let field = object(json!({
        "field": { "enum": ["input", "output", "reasoning"] },
        "a": value(), "b": value(),
        "truncated": { "type": "boolean" },
    }));
    let occurrence = object(json!({
        "occurrence": { "type": "integer", "minimum": 1, "description": "1 for the first occurrence of the path in each trace" },
        "span_a": { "type": "string", "pattern": SPAN_ID_PATTERN },
        "span_b": { "type": "string", "pattern": SPAN_ID_PATTERN },
        "fields": list(field),
    }));
    or_null(object(json!({
        "input_changed": { "type": "boolean" },
        "output_changed": { "type": "boolean" },
        "reasoning_changed": { "type": "boolean" },
        "changed_occurrences": { "type": "integer", "minimum": 1 },
        "occurrences": { "type": "array", "items": occurrence,
            "maxItems": pathwise_analysis::compare::MAX_STEP_CHANGES },
    })))
}

fn row() -> Value {
    object(json!({
        "path": { "type": "string", "description": "names from the root, joined by ` → `" },
        "name": { "type": "string" },
        "depth": count(),
        "kind": { "enum": ["span", "function", "step", "operation", "trace", "iteration"] },
        "presence": { "enum": ["both", "only_a", "only_b"] },
        "change": { "enum": ["only_a", "only_b", "status", "slower", "faster", "changed", "same"],
            "description": "the most telling change: a path one trace lacks, a status change, B's time more than 20 % (and 0.1 ms) above or below A's, another occurrence count or decision, or none" },
        "a": path_side(),
        "b": path_side(),
        "delta_ms": { "type": ["number", "null"], "description": "B's total minus A's" },
        "ratio": { "type": ["number", "null"], "description": "B's total over A's" },
        "status_changed": { "type": "boolean" },
        "count_changed": { "type": "boolean" },
        "decision": decision(),
    }))
}

fn totals() -> Value {
    object(json!({
        "rows": count(), "only_in_a": count(), "only_in_b": count(), "status_changed": count(),
        "slower": count(), "faster": count(), "count_changed": count(),
        "decision_changed": count(), "unchanged": count(),
        "change_threshold": { "type": "number", "description": "the share above or below A's time that counts as slower or faster (0.2)" },
        "min_delta_ms": { "type": "number", "description": "the smallest difference that counts" },
    }))
}

/// One path's figures in one window of `/api/compare/windows`.
fn window_figures() -> Value {
    let number = || json!({ "type": "number" });
    or_null(object(json!({
        "calls": count(), "per_minute": number(), "errors": count(), "error_rate": number(),
        "p50_ms": number(), "p95_ms": number(), "p99_ms": number(),
    })))
}

fn window_shift() -> Value {
    let ratio = |what: &str| json!({ "type": ["number", "null"], "description": what });
    object(json!({
        "path": { "type": "string" }, "node": { "type": "string" },
        "base": window_figures(), "current": window_figures(),
        "change": { "enum": ["new", "gone", "errors_up", "slower", "busier", "quieter", "faster", "errors_down", "same"],
            "description": "most telling first: a path one window lacks; an error rate at least doubled by 1 point or more (3 errors at least); p95 more than 20 % (and 0.1 ms) slower; a rate at least doubled or halved; faster; fewer errors" },
        "p95_ratio": ratio("current p95 over base p95"),
        "rate_ratio": ratio("current rate over base rate"),
        "error_rate_delta": ratio("current error rate minus base error rate"),
    }))
}

/// `/api/compare/windows`.
pub(super) fn windows() -> Value {
    json!({
        "/api/compare/windows": get("two windows' paths compared (from the rollups): each path's calls per minute, error rate and p50/p95/p99 in the current window (since/until, default the last 24 h) and the base window (base_since/base_until, default as long and just before), and the one word for how it moved; most telling change first", vec![
                super::time("since"), super::time("until"), super::time("base_since"), super::time("base_until"),
            ],
            answers("the comparison", object(json!({
                "window": refer("Window"), "base_window": refer("Window"),
                "base_seconds": { "type": "number" }, "current_seconds": { "type": "number" },
                "paths": list(window_shift()),
                "counts": { "type": "object", "additionalProperties": count() },
            })), &[])),
    })
}

/// `/api/compare`.
pub(super) fn paths() -> Value {
    let id = json!({ "type": "string", "pattern": TRACE_ID_PATTERN });
    json!({
        "/api/compare": get("two traces side by side: their spans aligned by path (the names from the root; a path repeated in a trace is aligned occurrence by occurrence), rows in A's order with the paths only B has under their parents, and what changed: paths only one has, durations, statuses, decision steps' inputs, outputs and reasoning. With b=typical, B is the completed trace of A's name from the last 7 days (newest 500, A left out) whose duration is closest to their median; 404 when there is none", vec![
                param("a", "query", true, id.clone(), "trace A (32 lowercase hex digits)"),
                param("b", "query", true, json!({ "anyOf": [id, { "const": crate::compare::TYPICAL }] }),
                    "trace B, or `typical` for a typical successful trace of A's name"),
            ],
            answers("the comparison", object(json!({
                "a": compared_trace(),
                "b": compared_trace(),
                "duration_delta_ms": nullable("number"),
                "duration_ratio": nullable("number"),
                "status_changed": { "type": "boolean" },
                "depth_limit": { "type": ["integer", "null"], "minimum": 0, "description": "the deepest level compared when a trace has over 20,000 spans (both are cut there)" },
                "rows": list(row()),
                "totals": totals(),
                "typical": or_null(object(json!({
                    "candidates": { "type": "integer", "minimum": 1 },
                    "median_duration_ms": { "type": "number" },
                    "window_days": { "type": "integer" },
                }))),
            })), &[])),
    })
}
