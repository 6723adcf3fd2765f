//! `GET /api/funnel`: the decision funnel of one trace name over a window
//! (`pathwise_analysis::funnel`).

use axum::Json;
use pathwise_analysis::funnel::{MAX_TRACES, decision_funnel};
use serde_json::{Value, json};

use crate::analytics::{analysis_error, window, window_json};
use crate::error::ApiError;
use crate::params::Params;

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
