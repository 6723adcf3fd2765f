//! Analytics routes: thin wrappers over `pathwise-analysis` (which holds the SQL).

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pathwise_analysis::{Analysis, Window};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::params::{Params, trace_id};

type Shared = crate::state::Scoped;

/// `Invalid` is "nothing to answer with" (no trace, an empty window): parameters are
/// checked here before analysis runs.
pub(crate) fn analysis_error(e: pathwise_analysis::AnalysisError) -> ApiError {
    match e {
        pathwise_analysis::AnalysisError::Invalid(message) => ApiError::NotFound(message),
        pathwise_analysis::AnalysisError::Store(e) => ApiError::Store(e),
        other => ApiError::Internal(other.to_string()),
    }
}

/// `since`/`until` (and their `base_` twins for comparisons) as a window; default: 24 h.
pub(crate) fn window(
    p: &Params,
    since: &'static str,
    until: &'static str,
) -> Result<Window, ApiError> {
    let now = Window::last(std::time::Duration::from_secs(86_400));
    let window = Window {
        since_ns: p.time(since)?.unwrap_or(now.since_ns),
        until_ns: p.time(until)?.unwrap_or(i64::MAX),
    };
    if window.until_ns < window.since_ns {
        return Err(ApiError::bad(until, format!("{until} is before {since}")));
    }
    Ok(window)
}

async fn load(state: &crate::state::Scoped, window: Window) -> Result<Analysis, ApiError> {
    state
        .read(move |r| Analysis::load(r, window).map_err(analysis_error))
        .await
}

pub(crate) fn window_json(w: Window) -> Value {
    json!({ "since_ns": w.since_ns, "until_ns": (w.until_ns != i64::MAX).then_some(w.until_ns) })
}

/// `GET /api/nodes`: metrics of every node (span name).
pub async fn nodes(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let a = load(&state, w).await?;
    Ok(Json(
        json!({ "window": window_json(w), "requests": a.requests, "nodes": a.nodes }),
    ))
}

/// The rankings of `/api/paths/{kind}`.
pub const PATH_RANKINGS: [&str; 3] = ["hot", "slow", "errors"];

/// `GET /api/paths/{hot,slow,errors}`.
pub async fn paths(
    state: Shared,
    axum::extract::Path(kind): axum::extract::Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let limit = p.limit(20, 1000)?;
    let min_calls = p.int("min_calls", 1..=i64::MAX)?.unwrap_or(1);
    if !PATH_RANKINGS.contains(&kind.as_str()) {
        return Err(ApiError::bad(
            "kind",
            format!("no path ranking {kind:?} (hot, slow or errors)"),
        ));
    }
    let a = load(&state, w).await?;
    let paths = match kind.as_str() {
        "hot" => a.hot_paths(limit),
        "slow" => a.slow_paths(limit, min_calls),
        _ => a.error_paths(limit),
    };
    Ok(Json(
        json!({ "window": window_json(w), "requests": a.requests, "paths": paths }),
    ))
}

/// `GET /api/consumers`: nodes by self time.
pub async fn consumers(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let limit = p.limit(20, 1000)?;
    let a = load(&state, w).await?;
    Ok(Json(
        json!({ "window": window_json(w), "consumers": a.time_consumers(limit), "opportunities": a.opportunities() }),
    ))
}

/// `GET /api/unused`: registered functions never executed in the window.
pub async fn unused(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let a = load(&state, w).await?;
    Ok(Json(
        json!({ "window": window_json(w), "registered": a.registered.len(), "never_executed": a.never_executed() }),
    ))
}

/// `GET /api/graph`: caller → callee edges.
pub async fn graph(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let a = load(&state, w).await?;
    Ok(Json(
        json!({ "window": window_json(w), "nodes": a.nodes, "edges": pathwise_analysis::dependency_graph(&a) }),
    ))
}

/// `GET /api/error-patterns?attr=`: error rate per value of a span attribute.
pub async fn error_patterns(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let attr = p.required_text("attr", 200, "the attribute to group by")?;
    let patterns = state
        .read(move |r| pathwise_analysis::error_patterns(r, w, &attr).map_err(analysis_error))
        .await?;
    Ok(Json(
        serde_json::to_value(patterns).map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

/// `GET /api/attributes`: the application attributes on the window's spans (a sample of its
/// most recent), those on failed spans first — the error-pattern picker's choices.
pub async fn attributes(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let keys = state
        .read(move |r| pathwise_analysis::attribute_keys(r, w).map_err(analysis_error))
        .await?;
    Ok(Json(
        json!({ "window": window_json(w), "attributes": keys }),
    ))
}

/// `GET /api/flamegraph.svg?trace=ID` (one trace), or a window (`since`/`until`), or the
/// difference between a window and a base window (`base_since`/`base_until`).
pub async fn flamegraph(state: Shared, p: Params) -> Result<Response, ApiError> {
    let svg = if let Some(id) = p.trace_id("trace")? {
        state
            .read(move |r| pathwise_analysis::trace_flamegraph_svg(r, id).map_err(analysis_error))
            .await?
    } else {
        let w = window(&p, "since", "until")?;
        let base = match (p.time("base_since")?, p.time("base_until")?) {
            (None, None) => None,
            _ => Some(window(&p, "base_since", "base_until")?),
        };
        let current = load(&state, w).await?;
        match base {
            Some(base) => {
                let before = load(&state, base).await?;
                pathwise_analysis::diff_flamegraph_svg(&before, &current).map_err(analysis_error)?
            }
            None => pathwise_analysis::window_flamegraph_svg(&current).map_err(analysis_error)?,
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
            ),
        ],
        svg,
    )
        .into_response())
}

/// `GET /api/traces/{id}/critical-path`.
pub async fn critical_path(
    state: Shared,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = trace_id(&id)?;
    let path = state
        .read(move |r| pathwise_analysis::critical_path(r, id).map_err(analysis_error))
        .await?;
    if path.is_empty() {
        return Err(ApiError::NotFound(format!("no trace {id}")));
    }
    Ok(Json(
        json!({ "trace_id": id.to_hex(), "critical_path": path }),
    ))
}

/// `GET /api/queries`: database statements (normalised) over a window, by `sort`.
pub async fn queries(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    use pathwise_analysis::queries::{QueryOrder, query_report};
    let w = window(&p, "since", "until")?;
    let order = p
        .choice("sort", &QueryOrder::NAMES)?
        .and_then(QueryOrder::parse)
        .unwrap_or(QueryOrder::Slowest);
    let limit = p.limit(50, 1000)?;
    let report = state
        .read(move |r| query_report(r, w, order, limit).map_err(analysis_error))
        .await?;
    let mut body = serde_json::to_value(report).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["window"] = window_json(w);
    body["slow_threshold_ms"] = json!(state.slow_query_threshold.as_secs_f64() * 1e3);
    Ok(Json(body))
}

/// `GET /api/queries/slow`: the slow-query log, executions over `threshold_ms` (default: the
/// server's `--slow-query-ms`), newest first.
pub async fn slow_queries(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let w = window(&p, "since", "until")?;
    let threshold = match p.millis("threshold_ms")? {
        Some(ns) => std::time::Duration::from_nanos(ns as u64),
        None => state.slow_query_threshold,
    };
    let limit = p.limit(100, 1000)?;
    let slow = state
        .read(move |r| {
            pathwise_analysis::queries::slow_queries(r, w, threshold, limit).map_err(analysis_error)
        })
        .await?;
    Ok(Json(json!({
        "window": window_json(w),
        "threshold_ms": threshold.as_secs_f64() * 1e3,
        "queries": slow,
    })))
}
