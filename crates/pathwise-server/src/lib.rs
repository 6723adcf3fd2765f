//! The Pathwise server: a JSON API and a web dashboard over a Pathwise database, in one
//! process. Loopback by default; an optional bearer token guards API and dashboard.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let backend = pathwise_store_sqlite::SqliteBackend::open("pathwise.db")?;
//! let config = pathwise_server::ServerConfig::new(std::sync::Arc::new(backend));
//! let server = pathwise_server::Server::bind(config).await?;
//! println!("dashboard: http://{}/", server.local_addr());
//! server.run().await?;
//! # Ok(()) }
//! ```

mod alerts;
mod analytics;
mod api;
mod assets;
mod auth;
mod baselines;
mod compare;
mod csrf;
mod error;
mod ingest;
mod investigate;
pub mod keys;
mod limits;
mod live;
mod metrics;
mod openapi;
mod params;
mod perf;
mod scaling;
mod serve;
mod session;
mod skeletons;
mod state;
mod tree;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use csrf::REQUEST_HEADER;
pub use error::ApiError;
pub use limits::Limits;
use state::AppState;

/// Longest query string accepted.
const MAX_QUERY_BYTES: usize = 4096;
/// Largest request body accepted (only the login form has one).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// How to serve.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where the data is.
    pub backend: Arc<dyn pathwise_store::Backend>,
    /// Default `127.0.0.1:7070`.
    pub listen: SocketAddr,
    /// Required from clients when set (bearer header or dashboard session); never empty.
    pub token: Option<String>,
    /// Origins allowed by CORS; none by default (CORS off).
    pub cors_origins: Vec<String>,
    /// An alert rules file (`alerts.toml`); alerting is off without one.
    pub alert_rules: Option<PathBuf>,
    /// Webhook URLs that receive every alert notification.
    pub alert_webhooks: Vec<String>,
    /// OTLP/HTTP ingest at `POST /v1/traces`, into the process's recording pipeline; the
    /// endpoint answers `503` without it. The caller installs the pipeline and sweeps.
    pub ingest: Option<Arc<pathwise_ingest::Ingest>>,
    /// Timeouts and caps (connections, request time, handler budget, sessions).
    pub limits: Limits,
    /// Database queries at least this long are in the slow-query log
    /// (`/api/queries/slow` without `threshold_ms`); default 100 ms.
    pub slow_query_threshold: std::time::Duration,
    /// The name of the project `backend` holds (requests naming no project read it; its
    /// backend also keeps the API keys); default `default`.
    pub project: String,
    /// The pipeline behind `ingest`, for its counters.
    pub pipeline: Option<Arc<pathwise_pipeline::BatchPipeline>>,
    /// More projects, each in a store of its own (`?project=NAME`).
    pub more_projects: Vec<ServedProject>,
    /// Model prices for the cost of LLM calls (default: the shipped list prices).
    pub prices: Arc<pathwise_analysis::llm_cost::PriceTable>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("backend", &self.backend.describe())
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("cors_origins", &self.cors_origins)
            .field("alert_rules", &self.alert_rules)
            .field("alert_webhooks", &self.alert_webhooks)
            .field("ingest", &self.ingest.is_some())
            .field("limits", &self.limits)
            .field("slow_query_threshold", &self.slow_query_threshold)
            .field("project", &self.project)
            .field(
                "more_projects",
                &self
                    .more_projects
                    .iter()
                    .map(|p| &p.name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ServerConfig {
    /// Loopback on port 7070, no token, no CORS.
    pub fn new(backend: Arc<dyn pathwise_store::Backend>) -> Self {
        ServerConfig {
            backend,
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            token: None,
            cors_origins: Vec::new(),
            alert_rules: None,
            alert_webhooks: Vec::new(),
            ingest: None,
            limits: Limits::default(),
            slow_query_threshold: DEFAULT_SLOW_QUERY_THRESHOLD,
            project: "default".into(),
            pipeline: None,
            more_projects: Vec::new(),
            prices: Arc::default(),
        }
    }
}

/// A project as the server is given it: its store, and optionally its ingest (with the
/// pipeline behind it) and alert rules.
#[derive(Clone)]
pub struct ServedProject {
    /// A name matching [`PROJECT_NAME_PATTERN`].
    pub name: String,
    pub backend: Arc<dyn pathwise_store::Backend>,
    /// OTLP/native ingest into this project (answers `503` without).
    pub ingest: Option<Arc<pathwise_ingest::Ingest>>,
    /// The pipeline behind `ingest`, for its counters.
    pub pipeline: Option<Arc<pathwise_pipeline::BatchPipeline>>,
    /// An alert rules file evaluated over this project's store.
    pub alert_rules: Option<PathBuf>,
}

impl ServedProject {
    /// A project over `backend`, with no ingest and no alerting.
    pub fn new(name: impl Into<String>, backend: Arc<dyn pathwise_store::Backend>) -> Self {
        ServedProject {
            name: name.into(),
            backend,
            ingest: None,
            pipeline: None,
            alert_rules: None,
        }
    }
}

/// What a project's name may look like: lowercase letters, digits, `-` and `_`, at most 64,
/// beginning with a letter or digit (it appears in URLs, file names and database names).
pub const PROJECT_NAME_PATTERN: &str = "^[a-z0-9][a-z0-9_-]{0,63}$";

/// Checks a project name against [`PROJECT_NAME_PATTERN`].
///
/// ```
/// assert!(pathwise_server::check_project_name("checkout-eu").is_ok());
/// assert!(pathwise_server::check_project_name("../etc").is_err());
/// assert!(pathwise_server::check_project_name("").is_err());
/// ```
pub fn check_project_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a project name: lowercase letters, digits, '-' and '_', at most 64, \
             beginning with a letter or digit"
        ))
    }
}

/// The slow-query threshold of [`ServerConfig::new`].
pub const DEFAULT_SLOW_QUERY_THRESHOLD: std::time::Duration = std::time::Duration::from_millis(100);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] pathwise_store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid CORS origin {0:?}")]
    Cors(String),
    #[error("the token is empty: give a token, or none to serve without one")]
    EmptyToken,
    #[error("alerting: {0}")]
    Alerts(String),
    #[error("{0}")]
    Project(String),
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The API paths, also listed in the OpenAPI document (checked by a test).
pub const API_PATHS: &[&str] = &[
    "/health",
    "/login",
    "/api/openapi.json",
    "/api/projects",
    "/api/traces",
    "/api/traces/live",
    "/api/traces/{id}",
    "/api/traces/{id}/spans",
    "/api/traces/{id}/search",
    "/api/stats",
    "/api/pipeline",
    "/api/nodes",
    "/api/paths/{kind}",
    "/api/consumers",
    "/api/unused",
    "/api/graph",
    "/api/error-patterns",
    "/api/flamegraph.svg",
    "/api/traces/{id}/critical-path",
    "/api/compare",
    "/api/compare/windows",
    "/api/funnel",
    "/api/heatmap",
    "/api/heatmap/steps",
    "/api/snapshot",
    "/api/health",
    "/api/regressions",
    "/api/baselines",
    "/api/trends",
    "/api/resources",
    "/api/attributes",
    "/api/scaling",
    "/api/scaling/fields",
    "/api/queries",
    "/api/queries/slow",
    "/api/alerts",
    "/api/alerts/{fingerprint}/ack",
    "/api/silences",
    "/api/silences/{id}/end",
    "/v1/traces",
    "/v1/pathwise/frames",
    "/v1/pathwise/functions",
    "/metrics",
];

/// The whole application.
pub fn router(config: &ServerConfig) -> Result<Router, ServeError> {
    // An empty token would let an empty credential in; it is a mistake, not "no token".
    if config.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ServeError::EmptyToken);
    }
    let state = AppState::new(config, projects(config)?)?;
    let request_timeout = config.limits.request_timeout;
    let api = Router::new()
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/projects", get(api::projects))
        .route("/api/traces", get(api::list_traces))
        .route("/api/traces/live", get(live::live))
        .route("/api/traces/{id}", get(api::trace_detail))
        .route("/api/traces/{id}/spans", get(api::trace_spans))
        .route("/api/traces/{id}/search", get(api::trace_search))
        .route("/api/stats", get(api::stats))
        .route("/api/pipeline", get(api::pipeline))
        .route("/api/nodes", get(analytics::nodes))
        .route("/api/paths/{kind}", get(analytics::paths))
        .route("/api/consumers", get(analytics::consumers))
        .route("/api/unused", get(analytics::unused))
        .route("/api/graph", get(analytics::graph))
        .route("/api/error-patterns", get(analytics::error_patterns))
        .route("/api/attributes", get(analytics::attributes))
        .route("/api/scaling", get(scaling::scaling))
        .route("/api/scaling/fields", get(scaling::fields))
        .route("/api/queries", get(analytics::queries))
        .route("/api/queries/slow", get(analytics::slow_queries))
        .route("/api/flamegraph.svg", get(analytics::flamegraph))
        .route(
            "/api/traces/{id}/critical-path",
            get(analytics::critical_path),
        )
        .route("/api/compare", get(compare::compare))
        .route("/api/compare/windows", get(compare::compare_windows))
        .route("/api/funnel", get(investigate::funnel))
        .route("/api/heatmap", get(investigate::heatmap))
        .route("/api/heatmap/steps", get(investigate::step_heatmap_route))
        .route("/api/snapshot", get(perf::snapshot_route))
        .route("/api/health", get(perf::health))
        .route("/api/regressions", get(perf::regressions))
        .route("/api/baselines", get(perf::baselines))
        .route("/api/trends", get(perf::trends))
        .route("/api/resources", get(perf::resources))
        .route("/api/alerts", get(alerts::list))
        .route("/api/alerts/{fingerprint}/ack", post(alerts::acknowledge))
        .route("/api/silences", post(alerts::silence))
        .route("/api/silences/{id}/end", post(alerts::end_silence))
        .route("/metrics", get(metrics::prometheus))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_for_api,
        ));
    let ui =
        Router::new()
            .route("/", get(assets::index))
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                auth::require_for_ui,
            ));
    // Its own body limit (the ingest crate's), so it is merged after the API's small one.
    let ingest = Router::new()
        .route("/v1/traces", post(ingest::otlp_traces))
        .route("/v1/pathwise/frames", post(ingest::frames))
        .route("/v1/pathwise/functions", post(ingest::functions))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_for_ingest,
        ));
    let mut app = Router::new()
        .route("/health", get(api::health))
        .route("/login", post(auth::login))
        .route("/assets/{file}", get(assets::asset))
        .merge(api)
        .merge(ui)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(ingest)
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(middleware::from_fn(limit_query))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(
                    move |_: tower::BoxError| async move { too_long(request_timeout) },
                ))
                .timeout(request_timeout),
        )
        .layer(middleware::from_fn(error::json_errors))
        .with_state(state);
    if !config.cors_origins.is_empty() {
        let origins = config
            .cors_origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| ServeError::Cors(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        app = app.layer(
            CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    HeaderName::from_static(REQUEST_HEADER),
                ]),
        );
    }
    // On every response, errors and CORS preflights included. Frames: same origin only, since
    // the dashboard embeds its own flame graphs (`<object>`), which DENY would blank.
    let security = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in security {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    Ok(app)
}

/// The served projects, the default first, each with its alert engine started.
fn projects(config: &ServerConfig) -> Result<Vec<state::ProjectState>, ServeError> {
    let default = ServedProject {
        name: config.project.clone(),
        backend: config.backend.clone(),
        ingest: config.ingest.clone(),
        pipeline: config.pipeline.clone(),
        alert_rules: config.alert_rules.clone(),
    };
    let mut seen = std::collections::HashSet::new();
    std::iter::once(&default)
        .chain(&config.more_projects)
        .map(|p| {
            check_project_name(&p.name).map_err(ServeError::Project)?;
            if !seen.insert(p.name.clone()) {
                return Err(ServeError::Project(format!(
                    "project {:?} is given twice",
                    p.name
                )));
            }
            let alerts = match &p.alert_rules {
                Some(rules) => Some(Arc::new(
                    alerts::start(&p.backend, rules.clone(), &config.alert_webhooks)
                        .map_err(|e| ServeError::Alerts(format!("project {}: {e}", p.name)))?,
                )),
                None => None,
            };
            Ok(state::ProjectState {
                name: p.name.clone(),
                backend: p.backend.clone(),
                alerts,
                ingest: p.ingest.clone(),
                pipeline: p.pipeline.clone(),
                skeletons: Default::default(),
            })
        })
        .collect()
}

/// The answer to a request still unanswered after `limit`: `503` with `Retry-After`.
fn too_long(limit: std::time::Duration) -> ApiError {
    ApiError::Unavailable {
        message: format!(
            "the request took longer than {}",
            humantime::format_duration(limit)
        ),
        retry_after_s: limits::retry_after(limit),
    }
}

/// Rejects oversized query strings before any handler parses them.
async fn limit_query(request: Request, next: Next) -> Response {
    if request
        .uri()
        .query()
        .is_some_and(|q| q.len() > MAX_QUERY_BYTES)
    {
        return ApiError::bad(
            "query",
            format!("query string longer than {MAX_QUERY_BYTES} bytes"),
        )
        .into_response();
    }
    next.run(request).await
}

/// A bound, not yet running server.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
}

impl Server {
    /// Opens the database and binds the address (port 0 picks a free port).
    pub async fn bind(config: ServerConfig) -> Result<Self, ServeError> {
        let app = router(&config)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.listen,
                source,
            })?;
        Ok(Server {
            listener,
            app,
            limits: config.limits,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until the process ends.
    pub async fn run(self) -> Result<(), ServeError> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then lets requests in progress finish.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        serve::serve(self.listener, self.app, &self.limits, shutdown).await?;
        Ok(())
    }
}
