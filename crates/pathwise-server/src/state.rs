//! Shared server state: where the database is and a small pool of read-only connections.
//! SQLite calls block, so they run on tokio's blocking pool, never on the async workers.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pathwise_store::SqliteReader;

use crate::error::ApiError;

/// Connections kept open between requests.
const POOL_SIZE: usize = 8;

/// What every handler can reach.
pub struct AppState {
    db: PathBuf,
    readers: Mutex<Vec<SqliteReader>>,
    /// When set, API and UI require it (bearer header or cookie).
    pub token: Option<String>,
    /// The alert engine, when the server was given a rules file.
    pub alerts: Option<Arc<pathwise_alerts::EngineHandle>>,
}

impl AppState {
    /// State for the database at `db`; fails early if it cannot be opened.
    pub fn new(
        db: PathBuf,
        token: Option<String>,
        alerts: Option<pathwise_alerts::EngineHandle>,
    ) -> Result<Arc<Self>, pathwise_store::StoreError> {
        let first = SqliteReader::open(&db)?;
        Ok(Arc::new(AppState {
            db,
            readers: Mutex::new(vec![first]),
            token,
            alerts: alerts.map(Arc::new),
        }))
    }

    /// Runs `query` with a pooled read connection on the blocking pool.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        query: impl FnOnce(&SqliteReader) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = state
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let reader = match pooled {
                Some(reader) => reader,
                None => SqliteReader::open(&state.db)?,
            };
            let result = query(&reader);
            let mut pool = state.readers.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < POOL_SIZE {
                pool.push(reader);
            }
            result
        })
        .await
        .map_err(|e| ApiError::Internal(format!("query task failed: {e}")))?
    }
}
