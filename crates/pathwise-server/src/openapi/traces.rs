//! Traces, their spans, and the analytics over a window.

use serde_json::{Value, json};

use super::schemas::{list, nullable, object, refer};
use super::{answers, get, int, limit, millis, param, query, text, time, window, with_errors};
use crate::params::{SPAN_ID_PATTERN, TRACE_ID_PATTERN};

fn trace_id(name: &str, location: &str) -> Value {
    param(
        name,
        location,
        false,
        json!({ "type": "string", "pattern": TRACE_ID_PATTERN }),
        "trace id (32 lowercase hex digits)",
    )
}

fn span_list() -> Value {
    list(refer("Span"))
}

/// `/api/traces` and one trace's routes.
pub(super) fn paths() -> Value {
    let id = || trace_id("id", "path");
    json!({
        "/api/traces": get("traces, newest first, keyset-paginated", [
                trace_filters(),
                vec![
                    limit(50, 1000, "page size"),
                    query("cursor", json!({ "type": "string", "minLength": 1 }), "next_cursor of the previous page (of the same sort)"),
                    query("sort", json!({ "enum": ["newest", "oldest", "slowest", "fastest"], "default": "newest" }), "the order: by start (newest, oldest) or by duration (slowest, fastest; running traces, which have no duration yet, are left out)"),
                ],
            ].concat(),
            answers("a page", object(json!({ "traces": list(refer("TraceSummary")), "next_cursor": nullable("string") })), &[])),
        "/api/traces/live": get("new traces as server-sent events (`event: trace`, `id:` the trace's start in ns, `data:` a TraceSummary), under the list's filters; the stream stays open (a comment every 15 s keeps it alive) and resumes after `Last-Event-ID`", trace_filters(),
            with_errors(json!({ "description": "the event stream", "content": { "text/event-stream": { "schema": { "type": "string" } } } }), &["400", "401", "503"], &[])),
        "/api/traces/{id}": get("a trace and the top of its span tree", vec![id(),
                int("max_spans", 1, 20_000, Some(2_000), "spans sent at once; deeper subtrees via /spans")],
            answers("the trace", object(json!({
                "trace": refer("TraceSummary"), "spans": span_list(),
                "total_spans": { "type": "integer", "minimum": 0 }, "truncated": { "type": "boolean" },
                "overview": { "oneOf": [{ "type": "null" }, object(json!({
                    "start_ns": { "type": "integer" }, "end_ns": { "type": "integer" },
                    "busy": list(json!({ "type": "integer", "minimum": 0 })),
                    "failed": list(json!({ "type": "integer", "minimum": 0 })) }))] } })), &["404"])),
        "/api/traces/{id}/search": get("spans of one trace whose name, component or error type contains a text (ASCII letters in any case), or whose id it is; with their ancestors", vec![id(),
                param("text", "query", true, json!({ "type": "string", "minLength": 1, "maxLength": 200 }), "the text to find"),
                limit(200, 2_000, "matches sent at once (all are counted)")],
            answers("the matches, in start order", object(json!({
                "text": { "type": "string" }, "total": { "type": "integer", "minimum": 0 },
                "matches": list(json!({ "type": "string", "pattern": SPAN_ID_PATTERN })),
                "spans": span_list(), "truncated": { "type": "boolean" } })), &["404"])),
        "/api/traces/{id}/spans": get("children of one span (lazy subtree loading)", vec![id(),
                query("parent", json!({ "type": "string", "pattern": SPAN_ID_PATTERN }), "parent span id; 0 or absent for the roots"),
                limit(2_000, 20_000, "children sent at once")],
            answers("the children", object(json!({
                "parent": { "type": "string", "pattern": SPAN_ID_PATTERN }, "spans": span_list(),
                "total": { "type": "integer", "minimum": 0 }, "truncated": { "type": "boolean" } })), &["404"])),
        "/api/traces/{id}/critical-path": get("the chain of spans that determined the trace's duration", vec![id()],
            answers("the chain, root first", object(json!({
                "trace_id": { "type": "string", "pattern": TRACE_ID_PATTERN },
                "critical_path": list(object(json!({
                    "span_id": { "type": "string", "pattern": SPAN_ID_PATTERN }, "name": { "type": "string" },
                    "duration_ms": { "type": "number" }, "self_ms": { "type": "number" }, "share": { "type": "number" },
                    "segments": list(json!({ "type": "array", "items": { "type": "number" }, "minItems": 2, "maxItems": 2 })),
                }))),
            })), &["404"])),
        "/api/stats": get("trace counts by status, average and p95 duration of the traces the list's filters select (default window: the last 24 h)", trace_filters(),
            answers("the counts", object(json!({
                "since": { "type": "integer" }, "until": nullable("integer"),
                "total": { "type": "integer" }, "running": { "type": "integer" },
                "completed": { "type": "integer" }, "failed": { "type": "integer" },
                "avg_duration_ms": nullable("number"), "p95_duration_ms": nullable("number") })), &[])),
        "/api/pipeline": get("recording pipeline counters and the last 5 minutes' error rate", vec![],
            answers("the counters (null before the first stored figures)", object(json!({
                "updated_ns": nullable("integer"), "queue_depth": nullable("integer"), "write_lag_ms": nullable("number"),
                "recorded": nullable("integer"), "written": nullable("integer"), "spilled": nullable("integer"),
                "replayed": nullable("integer"), "dropped": nullable("integer"), "sampled_out": nullable("integer"),
                "alerting": { "type": "boolean" }, "firing_alerts": { "type": "integer", "minimum": 0 },
                "last_5m": object(json!({ "spans": { "type": "integer" }, "errors": { "type": "integer" }, "error_rate": nullable("number") })),
            })), &[])),
    })
}

/// `{window, requests, <key>: [Metrics]}`.
fn ranked(key: &str) -> Value {
    let mut properties = json!({ "window": refer("Window"), "requests": { "type": "integer" } });
    properties[key] = list(refer("Metrics"));
    object(properties)
}

/// The analytics routes.
pub(super) fn analytics() -> Value {
    let rows = || limit(20, 1000, "rows");
    json!({
        "/api/nodes": get("metrics per node (span name) over a window (default 24 h): calls, errors by type, total/self/avg/min/max, p50/p95/p99 (DDSketch, 1 % relative error)",
            window().to_vec(), answers("the nodes", ranked("nodes"), &[])),
        "/api/paths/{kind}": get("paths ranked: hot (calls), slow (p95), errors (error rate)", vec![
                param("kind", "path", true, json!({ "enum": crate::analytics::PATH_RANKINGS }), "ranking"),
                time("since"), time("until"), rows(),
                int("min_calls", 1, i64::MAX, Some(1), "slow: ignore rarer paths")],
            answers("the ranking", ranked("paths"), &[])),
        "/api/consumers": get("nodes by self time, with optimisation opportunities in words",
            vec![time("since"), time("until"), rows()],
            answers("the consumers", object(json!({ "window": refer("Window"), "consumers": list(refer("Metrics")), "opportunities": list(json!({ "type": "string" })) })), &[])),
        "/api/unused": get("registered (#[monitor]) functions never executed in the window", window().to_vec(),
            answers("the functions", object(json!({ "window": refer("Window"), "registered": { "type": "integer" }, "never_executed": list(json!({ "type": "string" })) })), &[])),
        "/api/graph": get("dependency graph: caller → callee edges with calls, error rate and p95", window().to_vec(),
            answers("the graph", object(json!({ "window": refer("Window"), "nodes": list(refer("Metrics")), "edges": list(object(json!({
                "caller": { "type": "string" }, "callee": { "type": "string" }, "calls": { "type": "integer" },
                "errors": { "type": "integer" }, "error_rate": { "type": "number" }, "p95_ms": { "type": "number" } }))) })), &[])),
        "/api/error-patterns": get("error rate per value of a span attribute, values far above the overall rate flagged", vec![
                param("attr", "query", true, json!({ "type": "string", "minLength": 1, "maxLength": 200 }), "attribute name (any text)"),
                time("since"), time("until")],
            answers("the values", object(json!({
                "attribute": { "type": "string" }, "spans": { "type": "integer" }, "errors": { "type": "integer" },
                "overall_error_rate": { "type": "number" },
                "values": list(object(json!({ "value": { "type": "string" }, "spans": { "type": "integer" }, "errors": { "type": "integer" },
                    "error_rate": { "type": "number" }, "flagged": { "type": "boolean" } }))) })), &[])),
        "/api/attributes": get("application attribute keys on the window's spans (a sample of the most recent 20,000), those on failed spans first: the error-pattern picker's choices",
            vec![time("since"), time("until")],
            answers("the keys", object(json!({ "window": refer("Window"), "attributes": list(object(json!({
                "key": { "type": "string" }, "spans": { "type": "integer" }, "errors": { "type": "integer" } }))) })), &[])),
        "/api/flamegraph.svg": get("flame graph SVG of one trace, of a window, or the difference of a window against a base window", vec![
                trace_id("trace", "query"), time("since"), time("until"), time("base_since"), time("base_until")],
            with_errors(json!({ "description": "the flame graph", "content": { "image/svg+xml": { "schema": { "type": "string" } } } }),
                &["400", "401", "503"], &["404"])),
    })
}

/// The filters `/api/traces` and `/api/stats` share.
fn trace_filters() -> Vec<Value> {
    vec![
        query(
            "status",
            json!({ "enum": ["running", "completed", "failed"] }),
            "trace status",
        ),
        text("name", 200, "name contains (case-insensitive)"),
        text(
            "q",
            pathwise_store::query::MAX_QUERY_BYTES,
            "a query in the query language (docs/query.md): traces having a span it matches; a 400 names the column it refuses",
        ),
        time("since"),
        time("until"),
        millis("min_ms", "minimum duration"),
        millis("max_ms", "maximum duration"),
    ]
}
