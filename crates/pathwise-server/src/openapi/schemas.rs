//! The shapes of answers, as `components.schemas`: what each field is and whether it can be
//! null. Objects stay open (`additionalProperties` allowed) so a new field is not a break.

use serde_json::{Value, json};

/// An object with these `properties`, all of them required.
pub(super) fn object(properties: Value) -> Value {
    let required: Vec<&String> = properties
        .as_object()
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    json!({ "type": "object", "required": required, "properties": properties })
}

/// A reference to a component schema.
pub(super) fn refer(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// An array of `items`.
pub(super) fn list(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// `type`, or null.
pub(super) fn nullable(kind: &str) -> Value {
    json!({ "type": [kind, "null"] })
}

/// Any JSON value (user data: attributes, inputs, metadata).
fn any() -> Value {
    json!({})
}

fn int() -> Value {
    json!({ "type": "integer" })
}

fn number() -> Value {
    json!({ "type": "number" })
}

fn string() -> Value {
    json!({ "type": "string" })
}

/// The error body every error answer has.
pub(super) fn error() -> Value {
    object(json!({ "error": object(json!({
        "status": { "type": "integer", "minimum": 400, "maximum": 599 },
        "parameter": nullable("string"),
        "message": string(),
    })) }))
}

fn trace_summary() -> Value {
    object(json!({
        "trace_id": { "type": "string", "pattern": crate::params::TRACE_ID_PATTERN },
        "name": string(),
        "start_ns": int(),
        "end_ns": nullable("integer"),
        "duration_ns": nullable("integer"),
        "status": { "enum": ["running", "completed", "failed"] },
        "span_count": int(),
        "error_count": int(),
        "metadata": any(),
    }))
}

fn span() -> Value {
    let mut span = object(json!({
        "span_id": { "type": "string", "pattern": crate::params::SPAN_ID_PATTERN },
        "parent_id": { "type": "string", "pattern": crate::params::SPAN_ID_PATTERN },
        "name": string(),
        "path": string(),
        "group": nullable("string"),
        "kind": string(),
        "start_ns": int(),
        "duration_ns": int(),
        "status": string(),
        "error_type": nullable("string"),
        "error_message": nullable("string"),
        "error_chain": any(),
        "attrs": any(),
        "input": any(),
        "output": any(),
        "reasoning": nullable("string"),
        "metadata": any(),
        "child_count": { "type": "integer", "minimum": 0 },
    }));
    // Only on a model call whose model has a price (serve --prices).
    span["properties"]["llm_cost_usd"] = json!({ "type": "number", "minimum": 0, "description": "USD, tokens at the model's price per million" });
    span
}

/// Figures of a node or a path over a window.
fn metrics() -> Value {
    object(json!({
        "key": string(), "node": string(), "depth": nullable("integer"),
        "calls": int(), "errors": int(), "error_rate": number(),
        "errors_by_type": list(json!({ "type": "array", "prefixItems": [string(), int()], "minItems": 2, "maxItems": 2 })),
        "total_ms": number(), "self_ms": number(), "avg_ms": number(), "min_ms": number(),
        "max_ms": number(), "p50_ms": number(), "p95_ms": number(), "p99_ms": number(),
        "share_of_requests": number(), "share_of_time": number(), "share_of_self_time": number(),
        "critical_ms": number(), "share_of_latency": number(),
        "first_seen_ns": int(), "last_seen_ns": int(),
    }))
}

fn health() -> Value {
    object(json!({
        "score": { "type": "integer", "minimum": 0, "maximum": 100 },
        "level": string(),
        "reasons": list(string()),
    }))
}

fn component() -> Value {
    object(json!({
        "component": string(), "calls": int(), "errors": int(),
        "health": refer("Health"), "operations": list(string()),
        "cache_hit_rate": nullable("number"), "speed_ratio": nullable("number"),
    }))
}

fn alert() -> Value {
    object(json!({
        "fingerprint": string(), "rule": string(), "state": { "enum": ["pending", "firing"] },
        "severity": { "enum": ["info", "warning", "error", "critical", "emergency"] },
        "value": nullable("number"),
        "labels": { "type": "object", "additionalProperties": string() },
        "annotations": { "type": "object", "additionalProperties": string() },
        "since_ns": int(), "fired_ns": nullable("integer"), "last_notified_ns": nullable("integer"),
        "clear_since_ns": nullable("integer"), "acked_by": nullable("string"),
        "silenced": { "type": "boolean", "description": "a silence in force covers it (recorded, not notified)" },
    }))
}

fn history_row() -> Value {
    object(json!({
        "ts_ns": int(), "fingerprint": string(), "rule": string(), "state": string(),
        "severity": string(), "value": nullable("number"),
        "labels": { "type": "object", "additionalProperties": string() },
        "annotations": { "type": "object", "additionalProperties": string() },
        "actor": string(),
    }))
}

fn silence() -> Value {
    object(json!({
        "id": int(),
        "matcher": { "type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
            "Rule": string(), "Fingerprint": string() }, "additionalProperties": false },
        "until_ns": int(), "created_ns": int(), "comment": string(),
    }))
}

/// The window an analysis covered.
fn window() -> Value {
    object(json!({ "since_ns": int(), "until_ns": nullable("integer") }))
}

/// Every component schema.
pub(super) fn components() -> Value {
    json!({
        "Error": error(),
        "TraceSummary": trace_summary(),
        "Span": span(),
        "Metrics": metrics(),
        "Window": window(),
        "Health": health(),
        "Component": component(),
        "Alert": alert(),
        "HistoryRow": history_row(),
        "Silence": silence(),
    })
}
