//! The routes at the edges: liveness, sign-in, this document, Prometheus scraping, and the
//! recording side (ingest). The ingest routes keep their own body limit and media types.

use serde_json::{Value, json};

use super::schemas::object;
use super::{error_ref, get, with_errors};

/// A `200` answer of `media` with `schema`.
fn ok(description: &str, media: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { media: { "schema": schema } } })
}

fn binary() -> Value {
    json!({ "type": "string", "format": "binary" })
}

/// `/health`, `/login`, `/api/openapi.json` and `/metrics`.
pub(super) fn paths() -> Value {
    let mut health = get(
        "liveness and database check; open to every client, token or not",
        vec![],
        with_errors(
            ok(
                "ok",
                "application/json",
                object(
                    json!({ "status": { "const": "ok" }, "registered_functions": { "type": "integer", "minimum": 0 } }),
                ),
            ),
            &["400", "503"],
            &[],
        ),
    );
    health["get"]["security"] = json!([]);
    let mut login_responses = json!({
        "303": { "description": "signed in: the session cookie is set and the browser sent to the dashboard", "headers": {
            "Set-Cookie": { "required": true, "schema": { "type": "string" } },
            "Location": { "required": true, "schema": { "const": "/" } } } },
        "401": { "description": "wrong token (or the server has none): the sign-in page again", "content": { "text/html": { "schema": { "type": "string" } } } },
    });
    for code in ["400", "413", "415", "422", "429"] {
        login_responses[code] = error_ref(code);
    }
    json!({
        "/health": health,
        "/login": { "post": {
            "summary": "dashboard sign-in with the token or a `read` API key (a form post from the sign-in page); attempts are rate-limited",
            "security": [],
            "requestBody": { "required": true, "content": { "application/x-www-form-urlencoded": { "schema": {
                "type": "object", "required": ["token"], "properties": { "token": { "type": "string" } } } } } },
            "responses": login_responses,
        } },
        "/api/openapi.json": get("this document", vec![],
            with_errors(ok("the document", "application/json", json!({ "type": "object", "required": ["openapi", "paths"] })), &["400", "401"], &[])),
        "/metrics": get("Prometheus text format: per-node calls, errors and duration histogram (top 50 nodes, the rest as node=\"other\"), pipeline and ingest counters, alerts firing", vec![],
            with_errors(ok("text/plain; version=0.0.4", "text/plain", json!({ "type": "string" })), &["400", "401", "503"], &[])),
    })
}

/// A `POST` of a body in one of `media`, answered by `responses`.
fn receive(summary: &str, media: Value, responses: Value) -> Value {
    json!({ "post": { "summary": summary, "requestBody": { "required": true, "content": media }, "responses": responses } })
}

/// The recording side. `503` means this server records nothing, or its writer is behind
/// and the spool cannot be written.
pub(super) fn ingest() -> Value {
    let errors = ["400", "401", "413", "415", "503"];
    json!({
        "/v1/pathwise/frames": receive(
            "native submission from a Pathwise SDK: versioned record frames (paths as names), optionally gzip; answered after commit, idempotent by span id",
            json!({ "application/x-pathwise-frames": { "schema": binary() } }),
            with_errors(ok("{accepted, corrupt, set_aside}: set_aside when the body holds a newer record format, kept whole for a newer build",
                "application/json", json!({ "type": "object" })), &errors, &[])),
        "/v1/pathwise/functions": receive(
            "register a remote application's #[monitor]ed functions",
            json!({ "application/json": { "schema": { "type": "array", "items": { "type": "object", "required": ["name", "module_path", "file", "line", "is_async"], "properties": {
                "name": { "type": "string" }, "group": { "type": ["string", "null"] }, "module_path": { "type": "string" },
                "file": { "type": "string" }, "line": { "type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64 }, "is_async": { "type": "boolean" } } } } } }),
            with_errors(ok("{registered}", "application/json", object(json!({ "registered": { "type": "integer" } }))), &["400", "401", "413", "503"], &[])),
        "/v1/traces": receive(
            "OTLP/HTTP trace export (OpenTelemetry exporters point here): protobuf or JSON, optionally gzip; spans are recorded through the never-drop pipeline",
            json!({
                "application/x-protobuf": { "schema": binary() },
                "application/json": { "schema": { "type": "object", "description": "ExportTraceServiceRequest in the OTLP/JSON mapping" } } }),
            with_errors(json!({ "description": "ExportTraceServiceResponse in the request's encoding; partialSuccess counts rejected spans and names the first reason",
                "content": { "application/x-protobuf": { "schema": binary() }, "application/json": { "schema": { "type": "object" } } } }), &errors, &[])),
    })
}
