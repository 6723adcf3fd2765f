//! Shared server state: the backend and the optional alert engine. Store calls block (SQLite
//! reads a file, ClickHouse waits on HTTP), so they run on tokio's blocking pool, never on the
//! async workers.

use std::sync::Arc;

use pathwise_store::{Backend, Reader};

use crate::error::ApiError;

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
}

impl AppState {
    /// State over `backend`; fails early if it cannot be read.
    pub fn new(
        backend: Arc<dyn Backend>,
        token: Option<String>,
        alerts: Option<pathwise_alerts::EngineHandle>,
        ingest: Option<Arc<pathwise_ingest::Ingest>>,
    ) -> Result<Arc<Self>, pathwise_store::StoreError> {
        drop(backend.reader()?);
        let keys = crate::keys::KeyRing::load(backend.clone());
        if let Some(ring) = &keys {
            ring.spawn_refresher();
        }
        Ok(Arc::new(AppState {
            keys,
            backend,
            token,
            alerts: alerts.map(Arc::new),
            ingest,
        }))
    }

    /// Runs `query` with the backend's alert store on the blocking pool: for a server that
    /// shows the alerts another server evaluates on the same store.
    pub async fn read_alerts<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&dyn pathwise_store::alerts::AlertStateStore) -> Result<T, ApiError>
        + Send
        + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = state.backend.alert_store()?;
            query(store.as_ref())
        })
        .await
        .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))?
    }

    /// Runs `change` with a writer of the backend on the blocking pool (function registration
    /// from remote senders; spans go through the pipeline instead).
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        change: impl FnOnce(&mut dyn pathwise_store::Store) -> Result<T, pathwise_store::StoreError>
        + Send
        + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = state.backend.writer()?;
            Ok(change(store.as_mut())?)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("write task failed: {e}")))?
    }

    /// Runs `query` with a reader (pooled by the backend) on the blocking pool.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&dyn Reader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let reader = state.backend.reader()?;
            query(reader.as_ref())
        })
        .await
        .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))?
    }
}
