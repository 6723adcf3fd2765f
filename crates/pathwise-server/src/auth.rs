//! Bearer-token and API-key protection of the API, the dashboard and ingest. The token
//! (`--token`) is the admin key and is compared in constant time; API keys carry scopes
//! (`ingest` for `/v1/*`, `read` for the API and dashboard, `admin` for everything, including
//! acknowledging and silencing alerts). With neither a token nor an unrevoked key, the server
//! is open (loopback by default); once either exists, every request needs one with the scope
//! it asks for. The dashboard gets its credential once through a login form and keeps it in an
//! HttpOnly cookie, so pages and their API calls carry it without scripts ever seeing it.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use pathwise_store::keys::Scope;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "pathwise_token";

fn presented(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            // The scheme is case-insensitive (RFC 9110 §11.1).
            let (scheme, credential) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| credential.trim())
        });
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

/// Whether the request may do what `needed` allows: always when the server has no token and
/// no unrevoked key; otherwise with the token or a key holding `needed` (or `admin`).
pub fn authorized(state: &AppState, headers: &HeaderMap, needed: Scope) -> bool {
    credential_allows(state, presented(headers), needed)
}

fn credential_allows(state: &AppState, given: Option<&str>, needed: Scope) -> bool {
    let keys_on = state.keys.as_ref().is_some_and(|k| k.any_active());
    if state.token.is_none() && !keys_on {
        return true;
    }
    let Some(given) = given else { return false };
    if is_token(state, given) {
        return true;
    }
    state
        .keys
        .as_ref()
        .and_then(|k| k.scopes_of(given))
        .is_some_and(|scopes| scopes.contains(&needed) || scopes.contains(&Scope::Admin))
}

fn unauthorized(needed: Scope) -> Response {
    let mut response = ApiError::Unauthorized.into_response();
    let challenge = format!("Bearer realm=\"pathwise\", scope=\"{}\"", needed.as_str());
    if let Ok(value) = header::HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Constant-time comparison with the configured token (false when none is configured).
fn is_token(state: &AppState, given: &str) -> bool {
    state
        .token
        .as_ref()
        .is_some_and(|t| bool::from(given.as_bytes().ct_eq(t.as_bytes())))
}

/// Guards `/api/*`: reading needs `read`, changing (POST) needs `admin`; 401 JSON otherwise.
pub async fn require_for_api(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let needed = if request.method() == axum::http::Method::GET {
        Scope::Read
    } else {
        Scope::Admin
    };
    if authorized(&state, request.headers(), needed) {
        next.run(request).await
    } else {
        unauthorized(needed)
    }
}

/// Guards `/v1/*` (ingest): needs `ingest`.
pub async fn require_for_ingest(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(&state, request.headers(), Scope::Ingest) {
        next.run(request).await
    } else {
        unauthorized(Scope::Ingest)
    }
}

/// Guards the dashboard: the login form without the token.
pub async fn require_for_ui(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if authorized(&state, request.headers(), Scope::Read) {
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

/// `POST /login` with form field `token` (the token or a `read` key): sets the cookie when it
/// is right.
pub async fn login(State(state): State<Arc<AppState>>, Form(form): Form<LoginForm>) -> Response {
    let ok = (state.token.is_some() || state.keys.as_ref().is_some_and(|k| k.any_active()))
        && credential_allows(&state, Some(&form.token), Scope::Read);
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
