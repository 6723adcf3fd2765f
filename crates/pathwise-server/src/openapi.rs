//! The OpenAPI 3.1 description of the API, served at `/api/openapi.json`. A test checks that
//! every route of the router is described here and nothing else.

use serde_json::{Value, json};

fn param(name: &str, location: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": location, "required": location == "path", "schema": schema, "description": description })
}

fn time_param(name: &str) -> Value {
    param(
        name,
        "query",
        json!({"type": "string"}),
        "Unix milliseconds, RFC 3339, or an age such as 15m, 1h, 7d",
    )
}

fn responses(ok: &str) -> Value {
    json!({
        "200": { "description": ok, "content": { "application/json": { "schema": { "type": "object" } } } },
        "400": { "$ref": "#/components/responses/BadRequest" },
        "401": { "$ref": "#/components/responses/Unauthorized" }
    })
}

/// The document.
pub fn document() -> Value {
    let mut doc = api_document();
    if let (Some(paths), Value::Object(more)) = (doc["paths"].as_object_mut(), ingest_paths()) {
        paths.extend(more);
    }
    doc
}

/// The recording side (ingest and scraping), kept apart: one `json!` this size hits the macro
/// recursion limit.
fn ingest_paths() -> Value {
    json!({
            "/metrics": { "get": {
                "summary": "Prometheus text format: per-node calls, errors and duration histogram (top 50 nodes, the rest as node=\"other\"), pipeline and ingest counters, alerts firing",
                "responses": { "200": { "description": "text/plain; version=0.0.4" }, "401": { "description": "token required" } }
            } },
            "/v1/pathwise/frames": { "post": {
                "summary": "native submission from a Pathwise SDK: versioned record frames (paths as names), optionally gzip; answered after commit, idempotent by span id",
                "requestBody": { "required": true, "content": { "application/x-pathwise-frames": { "schema": { "type": "string", "format": "binary" } } } },
                "responses": {
                    "200": { "description": "{accepted, corrupt, set_aside}: set_aside when the body holds a newer record format, kept whole for a newer build" },
                    "400": { "description": "no frame is a Pathwise record" }, "401": { "description": "token required" },
                    "413": { "description": "body or record count over the limit" }, "415": { "description": "not application/x-pathwise-frames" },
                    "503": { "description": "the writer is behind and the spool cannot be written; retry" } }
            } },
            "/v1/pathwise/functions": { "post": {
                "summary": "register a remote application's #[monitor]ed functions (JSON list of {name, group, module_path, file, line, is_async})",
                "responses": { "200": { "description": "{registered}" }, "400": { "description": "not a function list" }, "401": { "description": "token required" } }
            } },
            "/v1/traces": { "post": {
                "summary": "OTLP/HTTP trace export (OpenTelemetry exporters point here): protobuf or JSON, optionally gzip; spans are recorded through the never-drop pipeline",
                "requestBody": { "required": true, "content": {
                    "application/x-protobuf": { "schema": { "type": "string", "format": "binary" } },
                    "application/json": { "schema": { "type": "object", "description": "ExportTraceServiceRequest in the OTLP/JSON mapping" } } } },
                "responses": {
                    "200": { "description": "ExportTraceServiceResponse in the request's encoding; partialSuccess counts rejected spans and names the first reason" },
                    "400": { "description": "body is not an OTLP trace export request" },
                    "401": { "description": "token required" },
                    "413": { "description": "body, inflated body or span count over the limit" },
                    "415": { "description": "Content-Type or Content-Encoding not supported" },
                    "503": { "description": "this server does not record, or the writer is behind and the spool cannot be written; retry after Retry-After seconds" } }
            } }
    })
}

fn api_document() -> Value {
    let id = param(
        "id",
        "path",
        json!({"type": "string", "pattern": "^[0-9a-f]{32}$"}),
        "trace id",
    );
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Pathwise API", "version": env!("CARGO_PKG_VERSION") },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "BadRequest": { "description": "a parameter is invalid; `error.parameter` names it" },
                "Unauthorized": { "description": "the server requires a token" },
                "NotFound": { "description": "no such trace" }
            }
        },
        "security": [ { "bearer": [] } ],
        "paths": {
            "/health": { "get": { "summary": "liveness and database check", "responses": responses("ok") } },
            "/api/openapi.json": { "get": { "summary": "this document", "responses": responses("the document") } },
            "/api/traces": { "get": {
                "summary": "traces, newest first, keyset-paginated",
                "parameters": [
                    param("status", "query", json!({"enum": ["running", "completed", "failed"]}), "trace status"),
                    param("q", "query", json!({"type": "string", "maxLength": 200}), "name contains (case-insensitive)"),
                    time_param("since"), time_param("until"),
                    param("min_ms", "query", json!({"type": "integer", "minimum": 0}), "minimum duration"),
                    param("max_ms", "query", json!({"type": "integer", "minimum": 0}), "maximum duration"),
                    param("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}), "page size"),
                    param("cursor", "query", json!({"type": "string"}), "next_cursor of the previous page")
                ],
                "responses": responses("{traces, next_cursor}")
            } },
            "/api/traces/{id}": { "get": {
                "summary": "a trace and the top of its span tree",
                "parameters": [ id.clone(),
                    param("max_spans", "query", json!({"type": "integer", "minimum": 1, "maximum": 20000, "default": 2000}), "spans sent at once; deeper subtrees via /spans") ],
                "responses": responses("{trace, spans, total_spans, truncated}")
            } },
            "/api/traces/{id}/spans": { "get": {
                "summary": "children of one span (lazy subtree loading)",
                "parameters": [ id,
                    param("parent", "query", json!({"type": "string", "pattern": "^[0-9]+$"}), "parent span id; 0 or absent for the roots"),
                    param("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 20000, "default": 2000}), "children sent at once") ],
                "responses": responses("{parent, spans, total, truncated}")
            } },
            "/api/stats": { "get": {
                "summary": "trace counts by status, average and p95 duration over a window (default 24 h)",
                "parameters": [ time_param("since"), time_param("until") ],
                "responses": responses("{total, running, completed, failed, avg_duration_ms, p95_duration_ms}")
            } },
            "/api/pipeline": { "get": {
                "summary": "recording pipeline counters and the last 5 minutes' error rate",
                "responses": responses("{queue_depth, write_lag_ms, written, spilled, dropped, last_5m}")
            } },
            "/api/nodes": { "get": {
                "summary": "metrics per node (span name) over a window (default 24 h): calls, errors by type, total/self/avg/min/max, p50/p95/p99 (DDSketch, 1 % relative error)",
                "parameters": [ time_param("since"), time_param("until") ],
                "responses": responses("{window, requests, nodes}")
            } },
            "/api/paths/{kind}": { "get": {
                "summary": "paths ranked: hot (calls), slow (p95), errors (error rate)",
                "parameters": [
                    param("kind", "path", json!({"enum": ["hot", "slow", "errors"]}), "ranking"),
                    time_param("since"), time_param("until"),
                    param("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 20}), "rows"),
                    param("min_calls", "query", json!({"type": "integer", "minimum": 1, "default": 1}), "slow: ignore rarer paths")
                ],
                "responses": responses("{window, requests, paths}")
            } },
            "/api/consumers": { "get": {
                "summary": "nodes by self time, with optimisation opportunities in words",
                "parameters": [ time_param("since"), time_param("until"),
                    param("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 20}), "rows") ],
                "responses": responses("{window, consumers, opportunities}")
            } },
            "/api/unused": { "get": {
                "summary": "registered (#[monitor]) functions never executed in the window",
                "parameters": [ time_param("since"), time_param("until") ],
                "responses": responses("{window, registered, never_executed}")
            } },
            "/api/graph": { "get": {
                "summary": "dependency graph: caller → callee edges with calls, error rate and p95",
                "parameters": [ time_param("since"), time_param("until") ],
                "responses": responses("{window, nodes, edges}")
            } },
            "/api/error-patterns": { "get": {
                "summary": "error rate per value of a span attribute, values far above the overall rate flagged",
                "parameters": [ param("attr", "query", json!({"type": "string", "maxLength": 200}), "attribute name (required)"),
                    time_param("since"), time_param("until") ],
                "responses": responses("{attribute, spans, errors, overall_error_rate, values}")
            } },
            "/api/attributes": { "get": {
                "summary": "application attribute keys on the window's spans (a sample of the most recent 20,000), those on failed spans first",
                "parameters": [ time_param("since"), time_param("until") ],
                "responses": responses("{window, attributes: [{key, spans, errors}]}")
            } },
            "/api/flamegraph.svg": { "get": {
                "summary": "flame graph SVG of one trace, of a window, or the difference of a window against a base window",
                "parameters": [ param("trace", "query", json!({"type": "string", "pattern": "^[0-9a-f]{32}$"}), "one trace"),
                    time_param("since"), time_param("until"), time_param("base_since"), time_param("base_until") ],
                "responses": { "200": { "description": "image/svg+xml" }, "400": { "$ref": "#/components/responses/BadRequest" } }
            } },
            "/api/traces/{id}/critical-path": { "get": {
                "summary": "the chain of spans that determined the trace's duration",
                "parameters": [ param("id", "path", json!({"type": "string", "pattern": "^[0-9a-f]{32}$"}), "trace id") ],
                "responses": responses("{trace_id, critical_path}")
            } },
            "/api/snapshot": { "get": {
                "summary": "point-in-time monitoring state: operations (baselines, recent figures, latency/error-rate/throughput shifts, p95 trend), health per component and overall, regressions",
                "parameters": [ time_param("at"),
                    param("recent_s", "query", json!({"type": "integer", "minimum": 10, "maximum": 86400, "default": 60}), "recent window compared with the baseline, seconds"),
                    param("baseline_h", "query", json!({"type": "integer", "minimum": 1, "maximum": 2160, "default": 24}), "history a baseline is learned from, hours") ],
                "responses": responses("{generated_ns, overall, components, operations, regressions, improvements}")
            } },
            "/api/health": { "get": {
                "summary": "health score 0–100 overall and per component (span group), with the reasons that cost points",
                "parameters": [ time_param("at"),
                    param("recent_s", "query", json!({"type": "integer", "minimum": 10, "maximum": 86400, "default": 60}), "recent window compared with the baseline, seconds"),
                    param("baseline_h", "query", json!({"type": "integer", "minimum": 1, "maximum": 2160, "default": 24}), "history a baseline is learned from, hours") ],
                "responses": responses("{generated_ns, overall, components}")
            } },
            "/api/regressions": { "get": {
                "summary": "operations whose latency (Mann–Whitney), error rate or throughput shifted against their baseline",
                "parameters": [ time_param("at"),
                    param("recent_s", "query", json!({"type": "integer", "minimum": 10, "maximum": 86400, "default": 60}), "recent window compared with the baseline, seconds"),
                    param("baseline_h", "query", json!({"type": "integer", "minimum": 1, "maximum": 2160, "default": 24}), "history a baseline is learned from, hours") ],
                "responses": responses("{regressions, improvements, shifts}")
            } },
            "/api/baselines": { "get": {
                "summary": "the baseline in force per operation (stored, pinned or learned) or its learning progress",
                "parameters": [ time_param("at"),
                    param("recent_s", "query", json!({"type": "integer", "minimum": 10, "maximum": 86400, "default": 60}), "recent window compared with the baseline, seconds"),
                    param("baseline_h", "query", json!({"type": "integer", "minimum": 1, "maximum": 2160, "default": 24}), "history a baseline is learned from, hours") ],
                "responses": responses("{baselines}")
            } },
            "/api/alerts": { "get": {
                "summary": "active alerts, history (newest first), silences and rule errors; `enabled: false` without a rules file",
                "parameters": [ param("rule", "query", json!({"type": "string"}), "history of one rule"),
                    param("fingerprint", "query", json!({"type": "string"}), "history of one alert"),
                    time_param("since"),
                    param("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 5000, "default": 200}), "history rows") ],
                "responses": responses("{enabled, active, history, silences, rule_errors}")
            } },
            "/api/alerts/{fingerprint}/ack": { "post": {
                "summary": "acknowledge an active alert (stops repeats; recorded in history)",
                "parameters": [ param("fingerprint", "path", json!({"type": "string"}), "alert fingerprint"),
                    param("by", "query", json!({"type": "string"}), "who acknowledges") ],
                "responses": responses("{acknowledged}")
            } },
            "/api/silences": { "post": {
                "summary": "mute a rule or one alert for a while",
                "parameters": [ param("rule", "query", json!({"type": "string"}), "rule name (or fingerprint)"),
                    param("fingerprint", "query", json!({"type": "string"}), "alert fingerprint (or rule)"),
                    param("for", "query", json!({"type": "string"}), "how long, e.g. 2h (required)"),
                    param("comment", "query", json!({"type": "string"}), "why") ],
                "responses": responses("{silence, until_ns}")
            } },
            "/api/resources": { "get": {
                "summary": "process and host resource samples (thinned to `limit`) and the RSS trend: slope, 1-hour forecast, time until the limit",
                "parameters": [ time_param("since"), time_param("until"),
                    param("limit", "query", json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 600}), "points returned"),
                    param("rss_limit_mb", "query", json!({"type": "integer", "minimum": 1}), "RSS limit for the forecast; default the host's memory") ],
                "responses": responses("{samples, total, rss_trend}")
            } },
            "/api/trends": { "get": {
                "summary": "p95 latency slope per operation (ms per hour) over the last hour",
                "parameters": [ time_param("at"),
                    param("recent_s", "query", json!({"type": "integer", "minimum": 10, "maximum": 86400, "default": 60}), "recent window compared with the baseline, seconds"),
                    param("baseline_h", "query", json!({"type": "integer", "minimum": 1, "maximum": 2160, "default": 24}), "history a baseline is learned from, hours") ],
                "responses": responses("{latency}")
            } }
        }
    })
}
