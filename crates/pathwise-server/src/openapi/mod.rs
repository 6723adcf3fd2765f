//! The OpenAPI 3.1 description of the API, served at `/api/openapi.json`: the contract a
//! schemathesis run holds the server to (python/tests/test_api_contract.py). A test checks
//! that every route of the router is described here and nothing else.
//!
//! Parameter patterns are the parser's own constants (`params.rs`), so what the document
//! promises and what the server accepts are one grammar. Every operation lists each status
//! the server can give it; every error body has the one shape of [`schemas::error`].

mod compare;
mod edges;
mod investigate;
mod monitoring;
mod queries;
mod scaling;
mod schemas;
mod traces;

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

use crate::state::AppState;

use crate::params::{AGE_PATTERN, MAX_MILLIS, TIME_PATTERN};

/// A parameter in `location` (`query` or `path`; path parameters are always required).
fn param(name: &str, location: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": location, "required": required || location == "path", "schema": schema, "description": description })
}

/// An optional query parameter.
fn query(name: &str, schema: Value, description: &str) -> Value {
    param(name, "query", false, schema, description)
}

/// An optional time parameter in the grammar `Params::time` parses.
fn time(name: &str) -> Value {
    query(
        name,
        json!({ "type": "string", "pattern": TIME_PATTERN }),
        "Unix milliseconds (1732300000000), an age (15m, 1h, 7d: that long ago) or an RFC 3339 \
         UTC time (2026-11-23T05:00:00Z)",
    )
}

/// `since` and `until`.
fn window() -> [Value; 2] {
    [time("since"), time("until")]
}

/// An optional integer query parameter within `min..=max`.
fn int(name: &str, min: i64, max: i64, default: Option<i64>, description: &str) -> Value {
    let mut schema = json!({ "type": "integer", "minimum": min, "maximum": max });
    if let Some(default) = default {
        schema["default"] = json!(default);
    }
    query(name, schema, description)
}

/// `limit`: a page size within `1..=max`.
fn limit(default: i64, max: i64, description: &str) -> Value {
    int("limit", 1, max, Some(default), description)
}

/// A duration in milliseconds (`min_ms`, `max_ms`).
fn millis(name: &str, description: &str) -> Value {
    int(name, 0, MAX_MILLIS, None, description)
}

/// A length of time such as `2h`.
fn age(name: &str, required: bool, description: &str) -> Value {
    param(
        name,
        "query",
        required,
        json!({ "type": "string", "pattern": AGE_PATTERN }),
        description,
    )
}

/// A string of at most `max` characters; an empty one is the same as none.
fn text(name: &str, max: usize, description: &str) -> Value {
    query(
        name,
        json!({ "type": "string", "maxLength": max }),
        description,
    )
}

/// A reference to a component response.
fn refer(response: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{response}") })
}

/// The component response for an error status.
fn error_ref(code: &str) -> Value {
    refer(match code {
        "400" => "BadRequest",
        "401" => "Unauthorized",
        "403" => "Forbidden",
        "404" => "NotFound",
        "413" => "PayloadTooLarge",
        "415" => "UnsupportedMediaType",
        "422" => "Unprocessable",
        "429" => "TooManyRequests",
        "503" => "ServiceUnavailable",
        other => unreachable!("no component response for {other}"),
    })
}

/// The answers of a guarded JSON operation: `200` with `schema`, the errors every one can
/// give (`400` for its parameters or an overlong query, `401` when the server has a token,
/// `503` when the store cannot answer in time), and `extra` statuses.
fn answers(description: &str, schema: Value, extra: &[&str]) -> Value {
    let ok = json!({ "description": description, "content": { "application/json": { "schema": schema } } });
    with_errors(ok, &["400", "401", "503"], extra)
}

/// `ok` as the `200` answer plus the error answers of `codes` and `extra`.
fn with_errors(ok: Value, codes: &[&str], extra: &[&str]) -> Value {
    let mut all = Map::new();
    all.insert("200".into(), ok);
    for code in codes.iter().chain(extra) {
        all.insert((*code).into(), error_ref(code));
    }
    Value::Object(all)
}

/// A `GET` operation.
fn get(summary: &str, parameters: Vec<Value>, responses: Value) -> Value {
    json!({ "get": { "summary": summary, "parameters": parameters, "responses": responses } })
}

/// A `POST` operation without a body.
fn post(summary: &str, parameters: Vec<Value>, responses: Value) -> Value {
    json!({ "post": { "summary": summary, "parameters": parameters, "responses": responses } })
}

/// `GET /api/openapi.json`: the document as this server applies it. A server with neither a
/// token nor an API key asks for no credentials, and says so (`security` may be empty), so a
/// client that sends none is not told it broke the contract.
pub async fn serve(State(state): State<Arc<AppState>>) -> Json<Value> {
    let mut doc = document();
    let open = state.token.is_none() && !state.keys.as_ref().is_some_and(|k| k.any_active());
    if open {
        doc["security"] = json!([{}, { "bearer": [] }]);
    }
    Json(doc)
}

/// The document, for a server that requires credentials.
fn document() -> Value {
    let mut paths = Map::new();
    for part in [
        traces::paths(),
        traces::analytics(),
        compare::paths(),
        compare::windows(),
        investigate::paths(),
        investigate::heatmaps(),
        queries::paths(),
        scaling::paths(),
        monitoring::paths(),
        monitoring::alerts(),
        edges::paths(),
        edges::ingest(),
    ] {
        if let Value::Object(more) = part {
            paths.extend(more);
        }
    }
    paths.insert("/api/projects".into(), projects_path());
    // Every route but these reads or writes one project: the `project` parameter names it,
    // a credential limited to other projects gets 403, an unknown one 404.
    for (path, item) in paths.iter_mut() {
        if ["/health", "/login", "/api/openapi.json"].contains(&path.as_str()) {
            continue;
        }
        for method in ["get", "post"] {
            let Some(operation) = item.get_mut(method) else {
                continue;
            };
            if let Some(parameters) = operation["parameters"].as_array_mut() {
                parameters.push(project_param());
            } else {
                operation["parameters"] = json!([project_param()]);
            }
            if let Some(responses) = operation["responses"].as_object_mut() {
                responses.entry("403").or_insert_with(|| error_ref("403"));
                responses.entry("404").or_insert_with(|| error_ref("404"));
            }
        }
    }
    // Every state-changing route is guarded against cross-site requests (`csrf.rs`).
    for item in paths.values_mut() {
        if let Some(responses) = item
            .pointer_mut("/post/responses")
            .and_then(Value::as_object_mut)
        {
            responses.entry("403").or_insert_with(|| error_ref("403"));
        }
    }
    let mut schemas = schemas::components();
    schemas["QueryStats"] = queries::query_stats();
    schemas["SlowQuery"] = queries::slow_query();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Pathwise API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every error answers with the Error schema. A parameter given twice is refused (400 naming it); an empty value counts as absent for free-text parameters and is refused for every other.",
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "the server's --token or an API key (pwk_…); also accepted as the dashboard's login cookie" } },
            "schemas": schemas,
            "responses": error_responses(),
        },
        "security": [ { "bearer": [] } ],
        "paths": paths,
    })
}

/// `project`: which project a request reads or writes.
fn project_param() -> Value {
    query(
        "project",
        json!({ "type": "string", "pattern": crate::PROJECT_NAME_PATTERN }),
        "the project (default: the server's default project); GET /api/projects lists them",
    )
}

/// `GET /api/projects`.
fn projects_path() -> Value {
    let project = schemas::object(json!({
        "name": { "type": "string", "pattern": crate::PROJECT_NAME_PATTERN },
        "default": { "type": "boolean" },
        "ingest": { "type": "boolean" },
        "alerting": { "type": "boolean" },
    }));
    get(
        "the projects this credential reaches, the default first; `current` is the one the request names",
        vec![],
        answers(
            "the projects",
            schemas::object(json!({
                "current": { "type": "string" },
                "projects": { "type": "array", "items": project },
            })),
            &[],
        ),
    )
}

/// A JSON error answer with `headers`.
fn error_answer(description: &str, headers: Value) -> Value {
    json!({
        "description": description,
        "headers": headers,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
    })
}

/// A required header of an error answer.
fn header(description: &str, schema: Value) -> Value {
    json!({ "required": true, "description": description, "schema": schema })
}

fn error_responses() -> Value {
    let retry = || json!({ "Retry-After": header("seconds to wait before retrying", json!({ "type": "string", "pattern": "^[0-9]+$" })) });
    json!({
        "BadRequest": error_answer("a parameter is invalid, repeated or not UTF-8, or the query string is over 4096 bytes; `error.parameter` names it", json!({})),
        "Unauthorized": error_answer("the server requires a token (or an API key with the scope this route needs)", json!({
            "WWW-Authenticate": header("the Bearer challenge with the scope asked for", json!({ "type": "string", "pattern": "^Bearer " })) })),
        "Forbidden": error_answer("the credential may not reach the project named, or a state-changing request from another site: its Origin (or Referer) is neither this server nor a --cors-origin, or a POST /api/* carries none of X-Pathwise-Request, a JSON content type or a bearer token", json!({})),
        "NotFound": error_answer("no such thing (the message says which)", json!({})),
        "PayloadTooLarge": error_answer("the request body is over the route's limit", json!({})),
        "UnsupportedMediaType": error_answer("the body's Content-Type (or Content-Encoding) is not one the route reads", json!({})),
        "Unprocessable": error_answer("the form body lacks a field the route needs", json!({})),
        "TooManyRequests": error_answer("too many attempts; wait Retry-After seconds", retry()),
        "ServiceUnavailable": error_answer("the store cannot answer now (unreadable, or the request ran out of its time budget) or ingest is off or behind; retry after Retry-After seconds", retry()),
    })
}
