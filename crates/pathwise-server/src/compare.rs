//! `GET /api/compare`: two traces side by side (`pathwise_analysis::compare`), B given by id or
//! chosen as a typical successful trace of A's name; `GET /api/compare/windows`: two windows'
//! paths side by side.

use axum::Json;
use pathwise_analysis::compare::{TYPICAL_WINDOW, compare_traces, typical_trace};
use serde_json::{Value, json};

use crate::analytics::analysis_error;
use crate::error::ApiError;
use crate::params::Params;
use crate::params::now_ns;

/// The value of `b` that asks for a typical successful trace of A's name.
pub const TYPICAL: &str = "typical";

/// What B is: a trace id, or the typical trace of A's name.
fn trace_b(p: &Params) -> Result<Option<pathwise_model::TraceId>, ApiError> {
    match p.text("b", crate::MAX_QUERY_BYTES)?.as_deref() {
        None => Err(ApiError::bad(
            "b",
            "required: a trace id (32 lowercase hex digits) or typical",
        )),
        Some(TYPICAL) => Ok(None),
        Some(_) => p
            .trace_id("b")
            .map_err(|_| ApiError::bad("b", "a trace id is 32 lowercase hex digits (or typical)")),
    }
}

/// `GET /api/compare?a=ID&b=ID|typical`: both traces' figures, their spans aligned by path
/// (rows in A's order, B-only paths under their parents) and the totals; with `b=typical`,
/// also what the typical trace was chosen among.
pub async fn compare(state: crate::state::Scoped, p: Params) -> Result<Json<Value>, ApiError> {
    let a = p
        .trace_id("a")?
        .ok_or_else(|| ApiError::bad("a", "required: the id of trace A"))?;
    let b = trace_b(&p)?;
    let now = now_ns();
    let body = state
        .read(move |r| {
            let (b, typical) = match b {
                Some(b) => (b, None),
                None => {
                    let of = r
                        .trace(a)?
                        .ok_or_else(|| ApiError::NotFound(format!("a: no trace {a}")))?;
                    let typical = typical_trace(r, &of, now)
                        .map_err(analysis_error)?
                        .ok_or_else(|| {
                            ApiError::NotFound(format!(
                                "no typical successful trace: no other completed trace named \
                                 {:?} started in the last {} days",
                                of.name,
                                TYPICAL_WINDOW.as_secs() / 86_400
                            ))
                        })?;
                    (typical.trace.trace_id, Some(typical))
                }
            };
            let comparison = compare_traces(r, a, b).map_err(analysis_error)?;
            let mut body =
                serde_json::to_value(comparison).map_err(|e| ApiError::Internal(e.to_string()))?;
            body["typical"] = typical.map_or(Value::Null, |t| {
                json!({
                    "candidates": t.candidates,
                    "median_duration_ms": t.median_duration_ms,
                    "window_days": TYPICAL_WINDOW.as_secs() / 86_400,
                })
            });
            Ok(body)
        })
        .await?;
    Ok(Json(body))
}

/// `GET /api/compare/windows?since=&until=&base_since=&base_until=`: every path's rate, error
/// rate and percentiles in the current window (default: the last 24 h) and the base window
/// (default: as long, just before it), and how it moved.
pub async fn compare_windows(
    state: crate::state::Scoped,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let now = now_ns();
    let current = crate::analytics::window(&p, "since", "until")?;
    let current_end = current.until_ns.min(now);
    let base_since = p.time("base_since")?;
    let base_until = p.time("base_until")?;
    let base = pathwise_store::Window {
        since_ns: base_since.unwrap_or(current.since_ns - (current_end - current.since_ns).max(0)),
        until_ns: base_until.unwrap_or(current.since_ns),
    };
    if base.until_ns < base.since_ns {
        return Err(ApiError::bad(
            "base_until",
            "base_until is before base_since",
        ));
    }
    let body = state
        .read(move |r| {
            pathwise_analysis::compare::windows::compare_stored_windows(r, base, current, now)
                .map_err(analysis_error)
        })
        .await?;
    let mut body = serde_json::to_value(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["window"] = crate::analytics::window_json(current);
    body["base_window"] = crate::analytics::window_json(base);
    Ok(Json(body))
}
