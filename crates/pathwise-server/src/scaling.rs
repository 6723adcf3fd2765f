//! Scaling routes: how a node's duration grows with the size of its input
//! (`pathwise_analysis::scaling`), and which fields of a node's calls hold a size.

use axum::Json;
use pathwise_analysis::scaling::{self, SizeField};
use serde_json::{Value, json};

use crate::analytics::{analysis_error, window, window_json};
use crate::error::ApiError;
use crate::params::Params;

/// Longest node name accepted: span names of database statements can be long.
pub const MAX_NODE_CHARS: usize = 1000;
/// Longest size field accepted.
pub const MAX_SIZE_CHARS: usize = 200;
/// Most calls one request may read.
pub const MAX_LIMIT: usize = 20_000;

fn node(p: &Params) -> Result<String, ApiError> {
    p.required_text("node", MAX_NODE_CHARS, "the node (span name) to analyse")
}

/// `GET /api/scaling?node=&size=`: the power law fitted to the node's newest calls in the
/// window (default 24 h), or why there is none, and the calls for a scatter plot.
pub async fn scaling(state: crate::state::Scoped, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let node = node(&p)?;
    let size = p.required_text(
        "size",
        MAX_SIZE_CHARS,
        "the size field: an attribute name, or input.<argument>",
    )?;
    let size = SizeField::parse(&size).map_err(|e| ApiError::bad("size", e))?;
    let limit = p.limit(scaling::DEFAULT_LIMIT, MAX_LIMIT)?;
    let report = state
        .read(move |r| scaling::scaling(r, &node, &size, w, limit).map_err(analysis_error))
        .await?;
    let mut body = serde_json::to_value(report).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["window"] = window_json(w);
    Ok(Json(body))
}

/// `GET /api/scaling/fields?node=`: the attributes and captured arguments of the node's
/// newest calls that hold a size, the likeliest first.
pub async fn fields(state: crate::state::Scoped, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let node = node(&p)?;
    let fields = {
        let node = node.clone();
        state
            .read(move |r| scaling::size_fields(r, &node, w).map_err(analysis_error))
            .await?
    };
    Ok(Json(
        json!({ "window": window_json(w), "node": node, "fields": fields }),
    ))
}
