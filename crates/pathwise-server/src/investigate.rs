//! Views over many traces: `GET /api/funnel`, the decision funnel of one trace name
//! (`pathwise_analysis::funnel`); `GET /api/heatmap`, a node's or path's latency heatmap, and
//! `GET /api/heatmap/steps`, the slowest steps of a decision trace name over time
//! (`pathwise_analysis::heatmap`).

use axum::Json;
use pathwise_analysis::funnel::{MAX_TRACES, decision_funnel};
use pathwise_analysis::heatmap::{MAX_COLUMNS, MAX_ROWS, latency_heatmap, step_heatmap};
use pathwise_store::RollupKey;
use serde_json::{Value, json};

use crate::analytics::{analysis_error, window, window_json};
use crate::error::ApiError;
use crate::params::Params;
use crate::params::now_ns;

/// `GET /api/funnel?name=&since=&until=`: for the window's newest decision traces named
/// exactly `name`, how many reach and fail each step, candidates in and out of each step, and
/// what each filter rejects; `truncated` when the window holds more traces than were read.
pub async fn funnel(state: crate::state::Scoped, p: Params) -> Result<Json<Value>, ApiError> {
    let name = p.required_text("name", crate::MAX_QUERY_BYTES, "the decision traces' name")?;
    let w = window(&p, "since", "until")?;
    let (funnel, truncated) = state
        .read(move |r| decision_funnel(r, &name, w).map_err(analysis_error))
        .await?;
    let mut body = serde_json::to_value(funnel).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["window"] = window_json(w);
    body["truncated"] = json!(truncated);
    body["max_traces"] = json!(MAX_TRACES);
    Ok(Json(body))
}

/// Default grid of a heatmap.
const COLUMNS: i64 = 60;
const ROWS: i64 = 20;

fn columns(p: &Params) -> Result<usize, ApiError> {
    Ok(p.int("columns", 1..=MAX_COLUMNS as i64)?.unwrap_or(COLUMNS) as usize)
}

/// `GET /api/heatmap?node=|path=&since=&until=&columns=&rows=`: calls of one node (its paths
/// merged) or one path by start time (columns of whole minutes) and duration (log-spaced rows
/// from the fastest to the slowest call), from the minute rollups.
pub async fn heatmap(state: crate::state::Scoped, p: Params) -> Result<Json<Value>, ApiError> {
    let node = p.name("node", crate::MAX_QUERY_BYTES)?;
    let path = p.name("path", crate::MAX_QUERY_BYTES)?;
    let w = window(&p, "since", "until")?;
    let (columns, rows) = (
        columns(&p)?,
        p.int("rows", 1..=MAX_ROWS as i64)?.unwrap_or(ROWS) as usize,
    );
    let (kind, key) = match (node, path) {
        (Some(node), None) => ("node", node),
        (None, Some(path)) => ("path", path),
        (Some(_), Some(_)) => return Err(ApiError::bad("path", "give node or path, not both")),
        (None, None) => {
            return Err(ApiError::bad(
                "node",
                "required: a node (span name) or a path",
            ));
        }
    };
    let now = now_ns();
    let map = state
        .read(move |r| {
            let of = if kind == "node" {
                RollupKey::Node(&key)
            } else {
                RollupKey::Path(&key)
            };
            latency_heatmap(r, of, w, now, columns, rows).map_err(analysis_error)
        })
        .await?;
    let mut body = serde_json::to_value(map).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["kind"] = json!(kind);
    body["window"] = window_json(w);
    Ok(Json(body))
}

/// `GET /api/heatmap/steps?name=&since=&until=&columns=`: per step of the decision traces
/// named `name`, its p95 per column, slowest step first.
pub async fn step_heatmap_route(
    state: crate::state::Scoped,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let name = p.required_text("name", crate::MAX_QUERY_BYTES, "the decision traces' name")?;
    let w = window(&p, "since", "until")?;
    let columns = columns(&p)?;
    let now = now_ns();
    let map = state
        .read(move |r| step_heatmap(r, &name, w, now, columns).map_err(analysis_error))
        .await?;
    let mut body = serde_json::to_value(map).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["window"] = window_json(w);
    Ok(Json(body))
}
