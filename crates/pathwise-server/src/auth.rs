//! Optional bearer-token protection of the API and the dashboard. The token is compared in
//! constant time; the dashboard gets it once through a login form and keeps it in an HttpOnly
//! cookie, so pages and their API calls carry it without scripts ever seeing it.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "pathwise_token";

fn presented(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = || {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|line| {
                line.split(';')
                    .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
            })
    };
    bearer.or_else(cookie)
}

/// Whether the request carries the configured token (always true when none is configured).
pub fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    match &state.token {
        None => true,
        Some(_) => presented(headers).is_some_and(|given| is_token(state, given)),
    }
}

/// Constant-time comparison with the configured token (false when none is configured).
fn is_token(state: &AppState, given: &str) -> bool {
    state
        .token
        .as_ref()
        .is_some_and(|t| bool::from(given.as_bytes().ct_eq(t.as_bytes())))
}

/// Guards `/api/*`: 401 JSON without the token.
pub async fn require_for_api(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(&state, request.headers()) {
        next.run(request).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

/// Guards the dashboard: the login form without the token.
pub async fn require_for_ui(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(&state, request.headers()) {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, Html(LOGIN_PAGE)).into_response()
    }
}

/// The login form.
#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /login` with form field `token`: sets the cookie when it is right.
pub async fn login(State(state): State<Arc<AppState>>, Form(form): Form<LoginForm>) -> Response {
    let ok = is_token(&state, &form.token);
    if !ok {
        return (StatusCode::UNAUTHORIZED, Html(LOGIN_PAGE)).into_response();
    }
    // The cookie value is the token itself; it must be a valid cookie value.
    if !form
        .token
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
    {
        return (
            StatusCode::BAD_REQUEST,
            "token contains characters a cookie cannot carry",
        )
            .into_response();
    }
    let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", form.token);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

const LOGIN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pathwise — sign in</title>
<link rel="stylesheet" href="/assets/app.css"></head>
<body class="login"><form method="post" action="/login">
<h1>Pathwise</h1><p>This dashboard requires a token.</p>
<input type="password" name="token" placeholder="token" autofocus required>
<button type="submit">Sign in</button></form></body></html>"#;
