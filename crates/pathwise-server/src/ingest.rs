//! `POST /v1/traces`: OTLP/HTTP trace export, the endpoint OpenTelemetry exporters are pointed
//! at. The body is read up to the ingest limit (its own, far above the API's), then decoded,
//! mapped and assembled on the blocking pool by `pathwise-ingest`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

fn refuse(status: StatusCode, message: String) -> Response {
    crate::error::error_response(status, None, &message)
}

/// A request body read up to the ingest limit, with what it says about itself.
struct Received {
    ingest: Arc<pathwise_ingest::Ingest>,
    bytes: axum::body::Bytes,
    content_type: Option<String>,
    content_encoding: Option<String>,
}

/// Reads the body for the ingest endpoints; or the refusal to send.
async fn receive(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Received, Response> {
    let Some(ingest) = state.ingest.clone() else {
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "ingest is off on this server: it runs no recording pipeline".into(),
        ));
    };
    let limit = ingest.limits().max_body_bytes;
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Received {
            ingest,
            bytes,
            content_type: header_text(headers, header::CONTENT_TYPE),
            content_encoding: header_text(headers, header::CONTENT_ENCODING),
        }),
        Err(_) => Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes (or was cut off)"),
        )),
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Runs ingest work on the blocking pool; its error becomes the status it names.
async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, pathwise_ingest::IngestError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(refuse(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
            error.to_string(),
        )),
        Err(e) => Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("ingest task failed: {e}"),
        )),
    }
}

/// `POST /v1/traces`: OTLP/HTTP export; the reply in the request's encoding.
pub async fn otlp_traces(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let r = receive(&state, &headers, body).await?;
    let reply = on_blocking_pool(move || {
        r.ingest.export_traces(
            &r.bytes,
            r.content_type.as_deref(),
            r.content_encoding.as_deref(),
        )
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, reply.content_type)], reply.body).into_response())
}

/// `POST /v1/pathwise/frames`: native submission from a Pathwise SDK's remote exporter.
pub async fn frames(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let r = receive(&state, &headers, body).await?;
    let content_type = r.content_type.clone().unwrap_or_default();
    if !content_type.starts_with(pathwise_ingest::FRAMES_CONTENT_TYPE) {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "send {} (got {content_type:?})",
                pathwise_ingest::FRAMES_CONTENT_TYPE
            ),
        ));
    }
    let reply = on_blocking_pool(move || {
        r.ingest
            .submit_frames(&r.bytes, r.content_encoding.as_deref())
    })
    .await?;
    Ok(axum::Json(reply).into_response())
}

/// `POST /v1/pathwise/functions`: the sender's `#[monitor]`ed functions, so "never executed"
/// is exact for remote applications too.
pub async fn functions(State(state): State<Arc<AppState>>, body: Body) -> Response {
    if state.ingest.is_none() {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "ingest is off on this server".into(),
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, 16 << 20).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "function list larger than 16 MiB".into(),
        );
    };
    let list = match function_list(&bytes) {
        Ok(list) => list,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("not a function list: {e}")),
    };
    let count = list.len();
    let stored = state
        .write(move |store| store.register_functions(&list))
        .await;
    match stored {
        Ok(()) => axum::Json(json!({ "registered": count })).into_response(),
        Err(e) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot register functions: {e}"),
        ),
    }
}

/// A JSON array of function objects. Each entry is checked to be an object first: serde would
/// also read a function from an array of its fields in order.
fn function_list(bytes: &[u8]) -> Result<Vec<pathwise_store::FunctionInfo>, String> {
    let entries: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    entries
        .into_iter()
        .map(|entry| {
            if !entry.is_object() {
                return Err(format!("{entry} is not an object"));
            }
            serde_json::from_value(entry).map_err(|e| e.to_string())
        })
        .collect()
}
