//! Shared server state: the backend and the optional alert engine. Store calls block (SQLite
//! reads a file, ClickHouse waits on HTTP), so they run on tokio's blocking pool, never on the
//! async workers, a bounded number at once and each within the handler budget.

use std::sync::Arc;

use pathwise_store::{Backend, Reader};
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::limits::{Limits, retry_after};

/// What every handler can reach.
pub struct AppState {
    backend: Arc<dyn Backend>,
    /// When set, API and UI require it (bearer header or cookie).
    pub token: Option<String>,
    /// The alert engine, when the server was given a rules file.
    pub alerts: Option<Arc<pathwise_alerts::EngineHandle>>,
    /// The OTLP ingest endpoint's state, when this server records (it runs a pipeline).
    pub ingest: Option<Arc<pathwise_ingest::Ingest>>,
    /// API keys of the backend (`None` when it keeps none).
    pub keys: Option<Arc<crate::keys::KeyRing>>,
    pub limits: Limits,
    /// Origins allowed by CORS, also trusted to send state-changing requests (see `csrf`).
    pub cors_origins: Vec<String>,
    /// Dashboard sign-ins.
    pub sessions: crate::session::Sessions,
    pub logins: crate::session::LoginLimiter,
    /// The slow-query log's threshold when a request names none.
    pub slow_query_threshold: std::time::Duration,
    /// One permit per blocking call running (`limits.max_blocking`).
    blocking: Arc<Semaphore>,
}

impl AppState {
    /// State for `config`; fails early if its backend cannot be read.
    pub fn new(
        config: &crate::ServerConfig,
        alerts: Option<pathwise_alerts::EngineHandle>,
    ) -> Result<Arc<Self>, pathwise_store::StoreError> {
        let backend = config.backend.clone();
        let limits = config.limits.clone();
        drop(backend.reader()?);
        let keys = crate::keys::KeyRing::load(backend.clone());
        if let Some(ring) = &keys {
            ring.spawn_refresher();
        }
        Ok(Arc::new(AppState {
            keys,
            backend,
            token: config.token.clone(),
            alerts: alerts.map(Arc::new),
            ingest: config.ingest.clone(),
            cors_origins: config.cors_origins.clone(),
            sessions: crate::session::Sessions::new(limits.session_ttl),
            logins: crate::session::LoginLimiter::default(),
            slow_query_threshold: config.slow_query_threshold,
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

    /// Runs `query` with the backend's alert store on the blocking pool: for a server that
    /// shows the alerts another server evaluates on the same store.
    pub async fn read_alerts<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&dyn pathwise_store::alerts::AlertStateStore) -> Result<T, ApiError>
        + Send
        + 'static,
    ) -> Result<T, ApiError> {
        let backend = self.backend.clone();
        self.blocking("the store", move || {
            let store = backend.alert_store()?;
            query(store.as_ref())
        })
        .await
    }

    /// Runs `change` with a writer of the backend on the blocking pool (function registration
    /// from remote senders; spans go through the pipeline instead).
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        change: impl FnOnce(&mut dyn pathwise_store::Store) -> Result<T, pathwise_store::StoreError>
        + Send
        + 'static,
    ) -> Result<T, ApiError> {
        let backend = self.backend.clone();
        self.blocking("the store", move || {
            let mut store = backend.writer()?;
            Ok(change(store.as_mut())?)
        })
        .await
    }

    /// Runs `query` with a reader (pooled by the backend) on the blocking pool.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&dyn Reader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let backend = self.backend.clone();
        self.blocking("the store", move || {
            let reader = backend.reader()?;
            query(reader.as_ref())
        })
        .await
    }
}
