//! Cross-site request forgery: a page on another site can make a browser send this server a
//! form POST or a `no-cors` fetch, carrying the sign-in cookie (or none, when the server has no
//! token). So every state-changing request (any method but GET, HEAD, OPTIONS) must come from
//! this server's own pages or a configured CORS origin, judged by `Origin` or, without it,
//! `Referer`; and a state-changing `/api/*` call must also carry what a cross-site form or
//! `no-cors` fetch cannot: an `X-Pathwise-Request` header, a JSON content type, or a bearer
//! token. Programs (curl, exporters) send no `Origin`, so they pass the first check as they are.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// The header the dashboard sends with its actions; any value will do.
pub const REQUEST_HEADER: &str = "x-pathwise-request";

/// Refuses state-changing requests that may come from another site (403, JSON).
pub async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let method = request.method();
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        return next.run(request).await;
    }
    match check(&state.cors_origins, request.headers(), request.uri().path()) {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

fn check(allowed: &[String], headers: &HeaderMap, path: &str) -> Result<(), ApiError> {
    if let Some(origin) = sender(headers) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let own = host.is_some_and(|host| {
            ["http://", "https://"].iter().any(|scheme| {
                origin
                    .strip_prefix(scheme)
                    .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
            })
        });
        if !own && !allowed.iter().any(|a| a.eq_ignore_ascii_case(&origin)) {
            return Err(ApiError::Forbidden(format!(
                "cross-site request refused: {origin} is neither this server nor an allowed CORS origin"
            )));
        }
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if path.starts_with("/api/")
        && !json
        && !headers.contains_key(REQUEST_HEADER)
        && !headers.contains_key(header::AUTHORIZATION)
    {
        return Err(ApiError::Forbidden(format!(
            "a state-changing API call needs an {REQUEST_HEADER}: 1 header, a JSON content type \
             or a bearer token (so that other sites cannot forge it)"
        )));
    }
    Ok(())
}

/// The origin (`scheme://host[:port]`) the request says it comes from: `Origin`, else that of
/// `Referer`; `None` when it names neither (not a browser, or an old one). An unreadable or
/// `null` origin is returned as is, and so refused.
fn sender(headers: &HeaderMap) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return Some(origin.to_str().unwrap_or("null").to_string());
    }
    let referer = headers.get(header::REFERER)?.to_str().unwrap_or("null");
    let Some((scheme, rest)) = referer.split_once("://") else {
        return Some(referer.to_string());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn own_and_allowed_origins_pass_others_do_not() {
        let none: &[String] = &[];
        let host = ("host", "127.0.0.1:7070");
        let own = headers(&[host, ("origin", "http://127.0.0.1:7070")]);
        assert!(check(none, &own, "/login").is_ok());
        let evil = headers(&[host, ("origin", "https://evil.example")]);
        assert!(check(none, &evil, "/login").is_err());
        let allowed = ["https://ops.example".to_string()];
        let ops = headers(&[host, ("origin", "https://ops.example")]);
        assert!(check(&allowed, &ops, "/login").is_ok());
        let null = headers(&[host, ("origin", "null")]);
        assert!(check(none, &null, "/login").is_err());
        let referred = headers(&[host, ("referer", "https://evil.example/page?x=1")]);
        assert!(check(none, &referred, "/login").is_err());
        let from_here = headers(&[host, ("referer", "http://127.0.0.1:7070/#alerts")]);
        assert!(check(none, &from_here, "/login").is_ok());
    }

    #[test]
    fn api_calls_need_a_header_json_or_a_bearer() {
        let none: &[String] = &[];
        assert!(check(none, &headers(&[]), "/api/silences").is_err());
        assert!(
            check(
                none,
                &headers(&[("x-pathwise-request", "1")]),
                "/api/silences"
            )
            .is_ok()
        );
        let json = headers(&[("content-type", "application/json")]);
        assert!(check(none, &json, "/api/silences").is_ok());
        let bearer = headers(&[("authorization", "Bearer t")]);
        assert!(check(none, &bearer, "/api/silences").is_ok());
        assert!(
            check(none, &headers(&[]), "/v1/traces").is_ok(),
            "ingest: programs"
        );
    }
}
