//! The JSON API handlers. No SQL here: every question goes through `ReadStore`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use pathwise_analysis::llm_cost::PriceTable;
use pathwise_store::{SpanRow, TraceFilter, TraceOrder};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::params::now_ns;
use crate::params::{Params, trace_id};
use crate::tree;

type Shared = crate::state::Scoped;
type ApiResult = Result<Json<Value>, ApiError>;

const NS_PER_MS: f64 = 1e6;

fn to_json(value: impl Serialize) -> ApiResult {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /health`: open to probes, so it reads the default project whatever the credential.
pub async fn health(State(app): State<std::sync::Arc<crate::state::AppState>>) -> ApiResult {
    let state = crate::state::Scoped {
        project: app.default_project().clone(),
        app,
        grant: crate::keys::Grant::all(),
    };
    let functions = state.read(|r| Ok(r.functions()?.len())).await?;
    Ok(Json(
        json!({ "status": "ok", "registered_functions": functions }),
    ))
}

/// `GET /api/projects`: the projects this credential reaches, the default first, with whether
/// each records (ingest) and alerts; `current` is the request's.
pub async fn projects(state: Shared) -> ApiResult {
    let list: Vec<Value> = state
        .app
        .projects
        .iter()
        .filter(|p| state.grant.reaches(&p.name))
        .map(|p| {
            json!({
                "name": p.name,
                "default": Arc::ptr_eq(p, state.app.default_project()),
                "ingest": p.ingest.is_some(),
                "alerting": p.alerts.is_some(),
            })
        })
        .collect();
    Ok(Json(
        json!({ "current": state.project.name, "projects": list }),
    ))
}

/// The traces a list or its figures are about: the filters `/api/traces` and `/api/stats`
/// share, checked.
pub(crate) fn trace_filter(p: &Params) -> Result<TraceFilter, ApiError> {
    let filter = TraceFilter {
        status: p.status()?,
        name_contains: p.text("name", 200)?,
        since_ns: p.time("since")?,
        until_ns: p.time("until")?,
        min_duration_ns: p.millis("min_ms")?,
        max_duration_ns: p.millis("max_ms")?,
        query: p.query("q")?,
        limit: p.limit(50, 1000)?,
        cursor: p.cursor()?,
        order: p
            .choice("sort", &TraceOrder::NAMES.map(|(name, _)| name))?
            .and_then(TraceOrder::parse)
            .unwrap_or_default(),
    };
    if let (Some(since), Some(until)) = (filter.since_ns, filter.until_ns)
        && since > until
    {
        return Err(ApiError::bad("until", "until is before since"));
    }
    if let (Some(min), Some(max)) = (filter.min_duration_ns, filter.max_duration_ns)
        && min > max
    {
        return Err(ApiError::bad("max_ms", "max_ms is below min_ms"));
    }
    Ok(filter)
}

/// `GET /api/traces`: newest first, keyset-paginated.
pub async fn list_traces(state: Shared, p: Params) -> ApiResult {
    let filter = trace_filter(&p)?;
    let page = state.read(move |r| Ok(r.list_traces(&filter)?)).await?;
    to_json(page)
}

/// A span as the API sends it: the row plus what is needed to load its subtree lazily, and
/// the cost of the model call it records (when its model has a price).
#[derive(Serialize)]
struct ApiSpan {
    #[serde(flatten)]
    row: SpanRow,
    child_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    llm_cost_usd: Option<f64>,
}

impl ApiSpan {
    fn new(row: SpanRow, child_count: usize, prices: &PriceTable) -> ApiSpan {
        let llm_cost_usd = row
            .metadata
            .as_ref()
            .and_then(|m| m.get("llm"))
            .and_then(|llm| prices.cost_of_llm(llm));
        ApiSpan {
            row,
            child_count,
            llm_cost_usd,
        }
    }
}

/// The rows of spans `wanted` of trace `id` as the API sends them: with their child counts
/// (from `counts`, the whole trace's) and the cost of their model calls.
fn api_spans(
    r: &dyn pathwise_store::Reader,
    id: pathwise_model::TraceId,
    wanted: &[u64],
    counts: &std::collections::HashMap<u64, usize>,
    prices: &PriceTable,
) -> Result<Vec<ApiSpan>, pathwise_store::StoreError> {
    Ok(r.spans_by_id(id, wanted)?
        .into_iter()
        .map(|row| {
            let children = counts.get(&row.span_id).copied().unwrap_or(0);
            ApiSpan::new(row, children, prices)
        })
        .collect())
}

/// Columns of a trace's overview (the waterfall's minimap) unless `columns=` says otherwise.
const OVERVIEW_COLUMNS: i64 = 600;

/// `GET /api/traces/{id}`: the trace and the top of its span tree (`max_spans`, default
/// 2000); spans whose children were left out have `child_count` > 0 and no children listed.
pub async fn trace_detail(state: Shared, Path(id): Path<String>, p: Params) -> ApiResult {
    let id = trace_id(&id)?;
    let max_spans = p.int("max_spans", 1..=20_000)?.unwrap_or(2_000) as usize;
    let columns = p.int("columns", 1..=4_000)?.unwrap_or(OVERVIEW_COLUMNS) as usize;
    let prices = state.prices.clone();
    let project = state.project.clone();
    let found = state
        .read(move |r| {
            let Some(trace) = r.trace(id)? else {
                return Ok(None);
            };
            let skeleton = project.skeletons.read(r, &trace)?;
            let selection = tree::select(&skeleton, max_spans);
            let spans = api_spans(r, id, &selection.selected, &selection.child_counts, &prices)?;
            Ok(Some(json!({
                "trace": trace,
                "spans": spans,
                "total_spans": skeleton.len(),
                "truncated": spans.len() < skeleton.len(),
                "overview": tree::overview(&skeleton, columns),
            })))
        })
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no trace {id}")))
}

/// Runs `answer` on the blocking pool with the skeleton of trace `id` (through the project's
/// cache) and the price table; a `404` when the trace has neither a row nor spans. Spans
/// without a trace row yet (their trace still being written) are read directly.
async fn with_skeleton(
    state: &Shared,
    id: pathwise_model::TraceId,
    answer: impl FnOnce(
        &dyn pathwise_store::Reader,
        &[pathwise_store::SpanSkeleton],
        &PriceTable,
    ) -> Result<Value, ApiError>
    + Send
    + 'static,
) -> ApiResult {
    let prices = state.prices.clone();
    let project = state.project.clone();
    let found = state
        .read(move |r| {
            let skeleton = match r.trace(id)? {
                Some(trace) => project.skeletons.read(r, &trace)?,
                None => match r.span_skeleton(id)? {
                    spans if spans.is_empty() => return Ok(None),
                    spans => Arc::new(spans),
                },
            };
            answer(r, &skeleton, &prices).map(Some)
        })
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no trace {id}")))
}

/// `GET /api/traces/{id}/spans?parent=`: children of one span (or the roots), for loading a
/// collapsed subtree.
pub async fn trace_spans(state: Shared, Path(id): Path<String>, p: Params) -> ApiResult {
    let id = trace_id(&id)?;
    // Absent means the roots (parent 0); a number beyond any span id has no children.
    let parent = p.span_id("parent")?.unwrap_or(Some(0));
    let limit = p.limit(2_000, 20_000)?;
    let parent_text = match parent {
        Some(id) => id.to_string(),
        None => p.text("parent", 20)?.unwrap_or_default(),
    };
    with_skeleton(&state, id, move |r, skeleton, prices| {
        let counts = tree::child_counts(skeleton);
        let children: Vec<u64> = skeleton
            .iter()
            .filter(|s| Some(s.parent_id) == parent)
            .map(|s| s.span_id)
            .collect();
        let total = children.len();
        let wanted = &children[..total.min(limit)];
        let spans = api_spans(r, id, wanted, &counts, prices)?;
        Ok(json!({ "parent": parent_text, "spans": spans, "total": total, "truncated": wanted.len() < total }))
    })
    .await
}

/// `GET /api/traces/{id}/search?text=`: the spans of one trace whose name, component (group)
/// or error type contains `text` (ASCII letters in any case), or whose id it is; in start order, the first
/// `limit` of `total`, sent with their ancestors so the page can show each in the tree.
pub async fn trace_search(state: Shared, Path(id): Path<String>, p: Params) -> ApiResult {
    let id = trace_id(&id)?;
    let text = p.required_text("text", 200, "the text to find in span names")?;
    let limit = p.limit(200, 2_000)?;
    with_skeleton(&state, id, move |r, skeleton, prices| {
        let mut matches = r.find_spans(id, &text)?;
        if let Ok(span_id) = text.trim().parse::<u64>()
            && !matches.contains(&span_id)
            && skeleton.iter().any(|s| s.span_id == span_id)
        {
            matches.insert(0, span_id);
        }
        let total = matches.len();
        matches.truncate(limit);
        let counts = tree::child_counts(skeleton);
        let wanted = tree::with_ancestors(skeleton, &matches);
        let spans = api_spans(r, id, &wanted, &counts, prices)?;
        let matches: Vec<String> = matches.iter().map(u64::to_string).collect();
        Ok(json!({
            "text": text, "total": total, "matches": matches, "spans": spans,
            "truncated": matches.len() < total,
        }))
    })
    .await
}

/// `GET /api/stats`: counts by status and durations over a window (default: the last 24 h).
pub async fn stats(state: Shared, p: Params) -> ApiResult {
    let mut filter = trace_filter(&p)?;
    let since = *filter
        .since_ns
        .get_or_insert_with(|| now_ns() - 86_400 * 1_000_000_000);
    let until = filter.until_ns;
    if until.is_some_and(|u| u < since) {
        return Err(ApiError::bad("until", "until is before since"));
    }
    let s = state.read(move |r| Ok(r.trace_stats(&filter)?)).await?;
    Ok(Json(json!({
        "since": since,
        "until": until,
        "total": s.total,
        "running": s.running,
        "completed": s.completed,
        "failed": s.failed,
        "avg_duration_ms": s.avg_duration_ns.map(|ns| ns / NS_PER_MS),
        "p95_duration_ms": s.p95_duration_ns.map(|ns| ns as f64 / NS_PER_MS),
    })))
}

/// `GET /api/pipeline`: the recording pipeline's latest counters and the last 5 minutes'
/// span error rate.
pub async fn pipeline(state: Shared) -> ApiResult {
    let since_ms = (now_ns() / 1_000_000 - 5 * 60 * 1000).max(0) as u64;
    let (latest, rate) = state
        .read(move |r| Ok((r.latest_pipeline_stats()?, r.error_rate_since(since_ms)?)))
        .await?;
    let error_rate = (rate.spans > 0).then(|| rate.errors as f64 / rate.spans as f64);
    let firing = crate::alerts::firing(&state).await?;
    Ok(Json(json!({
        "updated_ns": latest.map(|s| s.ts_ns),
        "queue_depth": latest.map(|s| s.queue_depth),
        "write_lag_ms": latest.map(|s| s.write_lag_ns as f64 / NS_PER_MS),
        "recorded": latest.map(|s| s.recorded),
        "written": latest.map(|s| s.written),
        "spilled": latest.map(|s| s.spilled),
        "replayed": latest.map(|s| s.replayed),
        "dropped": latest.map(|s| s.dropped),
        "sampled_out": latest.map(|s| s.sampled_out),
        "alerting": state.alerts().is_some(),
        "firing_alerts": firing.len(),
        "last_5m": { "spans": rate.spans, "errors": rate.errors, "error_rate": error_rate },
    })))
}
