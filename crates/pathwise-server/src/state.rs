//! Shared server state: the projects (each a backend with its optional alert engine and
//! ingest), credentials and limits. Store calls block (SQLite reads a file, ClickHouse waits
//! on HTTP), so they run on tokio's blocking pool, never on the async workers, a bounded
//! number at once and each within the handler budget.

use std::sync::Arc;

use pathwise_store::{Backend, Reader};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::limits::{Limits, retry_after};

/// One project as the handlers see it.
pub struct ProjectState {
    pub name: String,
    pub(crate) backend: Arc<dyn Backend>,
    /// The alert engine, when the project has a rules file.
    pub alerts: Option<Arc<pathwise_alerts::EngineHandle>>,
    /// The OTLP ingest endpoint's state, when this server records into the project.
    pub ingest: Option<Arc<pathwise_ingest::Ingest>>,
    /// The pipeline that records what the project's ingest receives.
    pub pipeline: Option<Arc<pathwise_pipeline::BatchPipeline>>,
    /// The skeletons of the big traces read last.
    pub(crate) skeletons: crate::skeletons::SkeletonCache,
}

/// What every handler can reach.
pub struct AppState {
    /// The served projects; the first is the default one (requests that name none).
    pub projects: Vec<Arc<ProjectState>>,
    /// When set, API and UI require it (bearer header or cookie).
    pub token: Option<String>,
    /// API keys of the default project's backend (`None` when it keeps none).
    pub keys: Option<Arc<crate::keys::KeyRing>>,
    pub limits: Limits,
    /// Origins allowed by CORS, also trusted to send state-changing requests (see `csrf`).
    pub cors_origins: Vec<String>,
    /// Dashboard sign-ins.
    pub sessions: crate::session::Sessions,
    pub logins: crate::session::LoginLimiter,
    /// The slow-query log's threshold when a request names none.
    pub slow_query_threshold: std::time::Duration,
    /// Model prices, for the cost of LLM calls.
    pub prices: Arc<pathwise_analysis::llm_cost::PriceTable>,
    /// One permit per blocking call running (`limits.max_blocking`).
    blocking: Arc<Semaphore>,
}

impl AppState {
    /// State for `config`; fails early if its backend cannot be read.
    pub fn new(
        config: &crate::ServerConfig,
        projects: Vec<ProjectState>,
    ) -> Result<Arc<Self>, pathwise_store::StoreError> {
        let limits = config.limits.clone();
        for project in &projects {
            drop(project.backend.reader()?);
        }
        let keys = crate::keys::KeyRing::load(config.backend.clone());
        if let Some(ring) = &keys {
            ring.spawn_refresher();
        }
        Ok(Arc::new(AppState {
            keys,
            projects: projects.into_iter().map(Arc::new).collect(),
            token: config.token.clone(),
            cors_origins: config.cors_origins.clone(),
            sessions: crate::session::Sessions::new(limits.session_ttl),
            logins: crate::session::LoginLimiter::default(),
            slow_query_threshold: config.slow_query_threshold,
            prices: config.prices.clone(),
            blocking: Arc::new(Semaphore::new(limits.max_blocking.max(1))),
            limits,
        }))
    }

    /// Runs blocking `work` (on `what`: "the store", "the alert engine") on tokio's blocking
    /// pool: `503` at once when `max_blocking` calls are already running, `503` when the answer
    /// takes longer than the handler budget, rather than requests queueing without bound.
    pub async fn blocking<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let Ok(permit) = self.blocking.clone().try_acquire_owned() else {
            return Err(ApiError::Unavailable {
                message: format!(
                    "server busy: {} calls to the store or the alert engine already running",
                    self.limits.max_blocking
                ),
                retry_after_s: 1,
            });
        };
        let task = tokio::task::spawn_blocking(move || {
            // Held until the work ends, past the budget too: its thread is busy until then.
            let _permit = permit;
            work()
        });
        let budget = self.limits.handler_budget;
        match tokio::time::timeout(budget, task).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => Err(ApiError::Internal(format!("a call to {what} failed: {e}"))),
            Err(_) => Err(ApiError::Unavailable {
                message: format!(
                    "{what} did not answer within {}",
                    humantime::format_duration(budget)
                ),
                retry_after_s: retry_after(budget),
            }),
        }
    }

    /// The project named `name`, if served.
    pub fn project(&self, name: &str) -> Option<&Arc<ProjectState>> {
        self.projects.iter().find(|p| p.name == name)
    }

    /// The project of requests that name none.
    pub fn default_project(&self) -> &Arc<ProjectState> {
        &self.projects[0]
    }
}

/// A request's project (its `project` query parameter, else the default one), checked
/// against what the request's credential may reach: the state a handler works with.
#[derive(Clone)]
pub struct Scoped {
    pub app: Arc<AppState>,
    pub project: Arc<ProjectState>,
    /// What the request's credential allows.
    pub grant: crate::keys::Grant,
}

impl std::ops::Deref for Scoped {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.app
    }
}

impl Scoped {
    /// The project's alert engine, if it has one.
    pub fn alerts(&self) -> Option<&Arc<pathwise_alerts::EngineHandle>> {
        self.project.alerts.as_ref()
    }

    /// Runs `query` with the project's alert store on the blocking pool: for a server that
    /// shows the alerts another server evaluates on the same store.
    pub async fn read_alerts<T: Send + 'static>(
        &self,
        query: impl FnOnce(&dyn pathwise_store::alerts::AlertStateStore) -> Result<T, ApiError>
        + Send
        + 'static,
    ) -> Result<T, ApiError> {
        let backend = self.project.backend.clone();
        self.app
            .blocking("the store", move || {
                let store = backend.alert_store()?;
                query(store.as_ref())
            })
            .await
    }

    /// Runs `change` with a writer of the project's backend on the blocking pool (function
    /// registration from remote senders; spans go through the pipeline instead).
    pub async fn write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut dyn pathwise_store::Store) -> Result<T, pathwise_store::StoreError>
        + Send
        + 'static,
    ) -> Result<T, ApiError> {
        let backend = self.project.backend.clone();
        self.app
            .blocking("the store", move || {
                let mut store = backend.writer()?;
                Ok(change(store.as_mut())?)
            })
            .await
    }

    /// Runs `query` with a reader of the project's backend (pooled) on the blocking pool.
    pub async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&dyn Reader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let backend = self.project.backend.clone();
        self.app
            .blocking("the store", move || {
                let reader = backend.reader()?;
                query(reader.as_ref())
            })
            .await
    }
}

impl axum::extract::FromRequestParts<Arc<AppState>> for Scoped {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let named = crate::params::Params::parse(parts.uri.query().unwrap_or(""))?.project()?;
        let project = match &named {
            Some(name) => app.project(name).cloned().ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no project {name:?} on this server (projects: {})",
                    app.projects
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
            None => app.default_project().clone(),
        };
        let grant = match parts.extensions.get::<crate::keys::Grant>() {
            Some(grant) => grant.clone(),
            None => crate::auth::grant(app, &parts.headers),
        };
        if !grant.reaches(&project.name) {
            return Err(ApiError::Forbidden(format!(
                "this credential may not reach project {:?}",
                project.name
            )));
        }
        Ok(Scoped {
            app: app.clone(),
            project,
            grant,
        })
    }
}
