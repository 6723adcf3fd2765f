//! The dashboard: static files compiled into the binary (no CDN, no build step).

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// (path under /assets/, content type, body)
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "util.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/util.js"),
    ),
    (
        "list.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/list.js"),
    ),
    (
        "tail.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/tail.js"),
    ),
    (
        "detail.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/detail.js"),
    ),
    (
        "waterfall.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/waterfall.js"),
    ),
    (
        "wf_tools.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/wf_tools.js"),
    ),
    (
        "critical.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/critical.js"),
    ),
    (
        "wf_rows.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/wf_rows.js"),
    ),
    (
        "funnel.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/funnel.js"),
    ),
    (
        "heatmap.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/heatmap.js"),
    ),
    (
        "window_compare.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/window_compare.js"),
    ),
    (
        "compare.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/compare.js"),
    ),
    (
        "panels.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/panels.js"),
    ),
    (
        "analysis.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/analysis.js"),
    ),
    (
        "drill.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/drill.js"),
    ),
    (
        "error_types.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/error_types.js"),
    ),
    (
        "scaling.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/scaling.js"),
    ),
    (
        "health.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/health.js"),
    ),
    (
        "baselines.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/baselines.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/charts.js"),
    ),
    (
        "alerts.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/alerts.js"),
    ),
    (
        "alert_rules.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/alert_rules.js"),
    ),
    (
        "queries.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/queries.js"),
    ),
    (
        "json.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/json.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "investigate.css",
        "text/css; charset=utf-8",
        include_str!("../assets/investigate.css"),
    ),
];

/// Scripts and styles only from this origin, no inline code: user data rendered by mistake as
/// HTML still cannot run.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `GET /`: the single page.
pub async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../assets/index.html"),
    )
        .into_response()
}

/// `GET /assets/{file}`.
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => crate::ApiError::NotFound("no such asset".into()).into_response(),
    }
}
