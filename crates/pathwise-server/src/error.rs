//! API errors: always JSON, always naming what was wrong; a malformed request is never a 500.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A request parameter is malformed or out of range.
    #[error("invalid parameter {parameter}: {message}")]
    BadParameter {
        parameter: &'static str,
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
    pub fn bad(parameter: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadParameter {
            parameter,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, parameter) = match &self {
            ApiError::BadParameter { parameter, .. } => (StatusCode::BAD_REQUEST, Some(*parameter)),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, None),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, None),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, None),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, None),
            ApiError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, None),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        };
        let body = json!({ "error": { "status": status.as_u16(), "parameter": parameter, "message": self.to_string() } });
        let mut response = (status, Json(body)).into_response();
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
