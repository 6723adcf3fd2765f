//! API errors: always JSON, always naming what was wrong; a malformed request is never a 500.
//!
//! Handlers return [`ApiError`]; what answers before a handler runs (axum's rejections of a
//! path that is not UTF-8 or a method the route lacks, the body limit's 413) is given the same
//! shape by [`json_errors`], so a client parses every error one way.

use std::borrow::Cow;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Seconds a client is asked to wait before retrying a `503`.
pub const RETRY_AFTER_SECS: u32 = 5;

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request parameter is malformed or out of range.
    #[error("invalid parameter {parameter}: {message}")]
    BadParameter {
        parameter: Cow<'static, str>,
        message: String,
    },
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The bearer token is missing or wrong.
    #[error("a valid token is required")]
    Unauthorized,
    /// A state-changing request that may come from another site (see `csrf`).
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts (login): answered 429 with `Retry-After`.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    /// Too busy, or the answer took longer than its budget: answered 503 with `Retry-After`.
    #[error("{message}")]
    Unavailable { message: String, retry_after_s: u64 },
    /// The store failed (the database is unreadable, say).
    #[error("store error: {0}")]
    Store(#[from] pathwise_store::StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A bad value for `parameter`.
    pub fn bad(parameter: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        ApiError::BadParameter {
            parameter: parameter.into(),
            message: message.into(),
        }
    }
}

/// The error shape the OpenAPI document declares: `{"error": {status, parameter, message}}`,
/// with `Retry-After` on a `503`.
pub fn error_response(status: StatusCode, parameter: Option<&str>, message: &str) -> Response {
    let body = json!({ "error": { "status": status.as_u16(), "parameter": parameter, "message": message } });
    with_retry_after((status, Json(body)).into_response())
}

/// A `503` without `Retry-After` gets the default one: the document promises it on every
/// `503`, whichever layer gave it.
fn with_retry_after(mut response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(header::RETRY_AFTER)
            .or_insert(HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, parameter) = match &self {
            ApiError::BadParameter { parameter, .. } => {
                (StatusCode::BAD_REQUEST, Some(parameter.as_ref()))
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, None),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, None),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, None),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, None),
            ApiError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, None),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        let mut response = error_response(status, parameter, &self.to_string());
        if let ApiError::TooManyRequests { retry_after_s, .. }
        | ApiError::Unavailable { retry_after_s, .. } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        response
    }
}

/// Longest message kept from a plain-text error body.
const MAX_MESSAGE_BYTES: usize = 1024;

/// Rewrites error answers that are not JSON, HTML (the login page) or protobuf into the JSON
/// shape, keeping their status and headers (`Allow`, `WWW-Authenticate`, `Retry-After`).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| t.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if !plain {
        return with_retry_after(response);
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE_BYTES)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|t| !t.is_empty());
    let message = text.unwrap_or_else(|| match status {
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".into(),
        other => other.canonical_reason().unwrap_or("error").to_lowercase(),
    });
    let mut rewritten = error_response(status, None, &message);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    rewritten.headers_mut().extend(parts.headers);
    rewritten
}
