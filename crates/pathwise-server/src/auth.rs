//! Bearer-token and API-key protection of the API, the dashboard and ingest. The token
//! (`--token`) is the admin key and is compared in constant time; API keys carry scopes
//! (`ingest` for `/v1/*`, `read` for the API and dashboard, `admin` for everything, including
//! acknowledging and silencing alerts). With neither a token nor an unrevoked key, the server
//! is open (loopback by default); once either exists, every request needs one with the scope
//! it asks for. The dashboard signs in once through a login form and gets a session (see
//! `session`) in an HttpOnly, SameSite=Strict cookie, so pages and their API calls carry it
//! without scripts ever seeing it, and the cookie never holds the credential itself.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use pathwise_store::keys::Scope;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::keys::Grant;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "pathwise_session";

/// The credential a request presents: its bearer token, else its session's.
fn presented<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<Cow<'a, str>> {
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
    match bearer {
        Some(bearer) => Some(Cow::Borrowed(bearer)),
        None => state.sessions.credential(cookie()?).map(Cow::Owned),
    }
}

/// What the request's credential allows: everything when the server has no token and no
/// unrevoked key; otherwise what the token (everything) or the key grants — nothing without
/// a valid one.
pub fn grant(state: &AppState, headers: &HeaderMap) -> Grant {
    grant_of(state, presented(state, headers).as_deref())
}

fn grant_of(state: &AppState, given: Option<&str>) -> Grant {
    let keys_on = state.keys.as_ref().is_some_and(|k| k.any_active());
    if state.token.is_none() && !keys_on {
        return Grant::all();
    }
    let nothing = Grant {
        scopes: Vec::new(),
        projects: Some(Vec::new()),
    };
    let Some(given) = given else { return nothing };
    if is_token(state, given) {
        return Grant::all();
    }
    state
        .keys
        .as_ref()
        .and_then(|k| k.grant_of(given))
        .unwrap_or(nothing)
}

/// Lets the request on when its credential allows `needed`, handing the grant to the
/// handlers (which check the project they are asked about against it).
async fn require(
    state: &AppState,
    needed: Scope,
    mut request: Request,
    next: Next,
) -> Result<Response, Grant> {
    let grant = grant(state, request.headers());
    if !grant.allows(needed) {
        return Err(grant);
    }
    request.extensions_mut().insert(grant);
    Ok(next.run(request).await)
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
    require(&state, needed, request, next)
        .await
        .unwrap_or_else(|_| unauthorized(needed))
}

/// Guards `/v1/*` (ingest): needs `ingest`.
pub async fn require_for_ingest(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    require(&state, Scope::Ingest, request, next)
        .await
        .unwrap_or_else(|_| unauthorized(Scope::Ingest))
}

/// Guards the dashboard: the login form without the token.
pub async fn require_for_ui(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    require(&state, Scope::Read, request, next)
        .await
        .unwrap_or_else(|_| (StatusCode::UNAUTHORIZED, Html(LOGIN_PAGE)).into_response())
}

/// The login form.
#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
}

/// `POST /login` with form field `token` (the token or a `read` key): opens a session and sets
/// its cookie when it is right. Attempts are rate-limited (429 with `Retry-After`).
pub async fn login(
    State(state): State<Arc<AppState>>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let client = client.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(refused) = state.logins.attempt(client) {
        return refused.into_response();
    }
    let ok = (state.token.is_some() || state.keys.as_ref().is_some_and(|k| k.any_active()))
        && grant_of(&state, Some(&form.token)).allows(Scope::Read);
    if !ok {
        return (StatusCode::UNAUTHORIZED, Html(LOGIN_PAGE)).into_response();
    }
    let id = state.sessions.open(&form.token);
    let cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        state.sessions.ttl().as_secs()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

const LOGIN_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pathwise — sign in</title>
<link rel="stylesheet" href="/assets/app.css"></head>
<body class="login"><form method="post" action="/login">
<h1>Pathwise</h1><p>This dashboard requires a token.</p>
<input type="password" name="token" placeholder="token" autofocus required>
<button type="submit">Sign in</button></form></body></html>"#;
