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

/// Seconds a client is asked to wait before retrying a `503`.
const RETRY_AFTER_SECS: &str = "5";

fn refuse(status: StatusCode, message: String) -> Response {
    let mut response = (
        status,
        axum::Json(json!({ "error": { "status": status.as_u16(), "message": message } })),
    )
        .into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    response
}

pub async fn otlp_traces(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(ingest) = state.ingest.clone() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "ingest is off on this server: it runs no recording pipeline".into(),
        );
    };
    let limit = ingest.limits().max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes (or was cut off)"),
        );
    };
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = text(header::CONTENT_TYPE);
    let content_encoding = text(header::CONTENT_ENCODING);
    let work = tokio::task::spawn_blocking(move || {
        ingest.export_traces(&bytes, content_type.as_deref(), content_encoding.as_deref())
    });
    match work.await {
        Ok(Ok(reply)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, reply.content_type)],
            reply.body,
        )
            .into_response(),
        Ok(Err(error)) => refuse(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
            error.to_string(),
        ),
        Err(e) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("ingest task failed: {e}"),
        ),
    }
}
