//! Database queries: statements over a window and the slow-query log.

use serde_json::{Value, json};

use super::schemas::{list, nullable, object, refer};
use super::{answers, get, limit, millis, query, time};
use crate::params::{SPAN_ID_PATTERN, TRACE_ID_PATTERN};

/// One normalised statement over a window (`QueryStats` of `pathwise-analysis`).
pub(super) fn query_stats() -> Value {
    let number = || json!({ "type": "number" });
    let int = || json!({ "type": "integer" });
    object(json!({
        "statement": { "type": "string", "description": "the normalised statement (values replaced by ?), as the span is named" },
        "system": { "type": "string", "description": "sqlite, postgresql, … (the component without its db.)" },
        "calls": int(), "errors": int(), "error_rate": number(),
        "errors_by_type": list(json!({ "type": "array", "prefixItems": [{ "type": "string" }, int()], "minItems": 2, "maxItems": 2 })),
        "total_ms": number(), "avg_ms": number(),
        "p50_ms": number(), "p95_ms": number(), "p99_ms": number(), "max_ms": number(),
        "avg_rows": { "type": ["number", "null"], "description": "mean db.rows of the executions that reported rows, among the window's newest 100,000 queries" },
        "row_counts": { "type": "integer", "minimum": 0, "description": "how many executions avg_rows is the mean of" },
        "trace_query": { "type": "string", "description": "a query for /api/traces?q= that finds the traces running this statement" },
    }))
}

/// One execution over the slow-query threshold.
pub(super) fn slow_query() -> Value {
    object(json!({
        "trace_id": { "type": "string", "pattern": TRACE_ID_PATTERN },
        "span_id": { "type": "string", "pattern": SPAN_ID_PATTERN },
        "statement": { "type": "string" },
        "system": { "type": "string" },
        "path": { "type": "string", "description": "root → … → statement" },
        "caller": { "type": ["string", "null"], "description": "the path of the span that ran it; null for a query that is a trace of its own" },
        "start_ns": { "type": "integer" },
        "duration_ms": { "type": "number" },
        "rows": nullable("integer"),
        "failed": { "type": "boolean" },
        "error_type": nullable("string"),
        "error_message": nullable("string"),
        "full_statement": { "type": ["string", "null"], "description": "the statement as written, values included, when the application keeps it (Config::db_full_statements)" },
    }))
}

/// `/api/queries` and `/api/queries/slow`.
pub(super) fn paths() -> Value {
    let number = || json!({ "type": "number" });
    json!({
        "/api/queries": get("database statements over a window (default 24 h), normalised (values replaced by ?): calls, error rate, p50/p95/p99 (DDSketch, 1 % relative error), mean rows; spans of component db.<system> as pathwise::db_query records them", vec![
                time("since"), time("until"),
                query("sort", json!({ "enum": pathwise_analysis::queries::QueryOrder::NAMES, "default": "slowest" }),
                    "slowest (p95), frequent (calls) or total (total time)"),
                limit(50, 1000, "statements")],
            answers("the statements", object(json!({
                "window": refer("Window"), "order": { "enum": pathwise_analysis::queries::QueryOrder::NAMES },
                "slow_threshold_ms": number(),
                "statements": { "type": "integer", "minimum": 0, "description": "distinct statements in the window, before the limit" },
                "calls": { "type": "integer" }, "errors": { "type": "integer" }, "total_ms": number(),
                "queries": list(refer("QueryStats")) })), &[])),
        "/api/queries/slow": get("the slow-query log: executions that took at least threshold_ms, newest first, each with its trace", vec![
                time("since"), time("until"),
                millis("threshold_ms", "slowest an execution may be to stay out of the log; default: the server's --slow-query-ms (100)"),
                limit(100, 1000, "executions")],
            answers("the executions", object(json!({
                "window": refer("Window"), "threshold_ms": number(),
                "queries": list(refer("SlowQuery")) })), &[])),
    })
}
