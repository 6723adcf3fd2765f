//! The embedded default backend: one SQLite file in WAL mode, so the `sqlite3` CLI, the server
//! and the CLI can read while the application writes. Implements every trait of
//! `pathwise-store`; no type of this crate's database client leaves it.
//!
//! ```
//! use pathwise_store::{Backend, TraceFilter};
//! let dir = tempfile::tempdir().unwrap();
//! let backend = pathwise_store_sqlite::SqliteBackend::create(dir.path().join("p.db")).unwrap();
//! let reader = backend.reader().unwrap();
//! assert!(reader.list_traces(&TraceFilter::default()).unwrap().traces.is_empty());
//! ```

mod alerts;
mod analytics;
mod backend;
mod baselines;
mod keys;
mod maintenance;
mod payload;
mod query;
mod read;
mod rollup;
mod scaling;
mod schema;
mod spans;
mod sql;
mod stats;
mod storage;
mod write;

use std::path::Path;
use std::time::Duration;

use pathwise_store::StoreError;
use rusqlite::{Connection, OpenFlags};

pub use alerts::SqliteAlertStore;
pub use backend::SqliteBackend;
pub use keys::SqliteKeyStore;
pub use payload::{PayloadDecoder, SQL_FUNCTION as PAYLOAD_SQL_FUNCTION};
pub use read::SqliteReader;
pub use schema::SCHEMA_VERSION;
pub use sql::SqliteSqlRules;
pub use write::{SqliteStore, wal_reopened};

/// Errors inside this crate: the database client's, or the API's own.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Store(e) => e,
            Error::Sqlite(e) => StoreError::Backend(format!("sqlite: {e}")),
        }
    }
}

fn open_error(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Opens a connection with the settings every Pathwise connection shares.
fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, Error> {
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    // Readers and the writer meet on the same file: wait for a lock rather than fail at once.
    conn.busy_timeout(Duration::from_secs(5))?;
    payload::register(&conn, path)?;
    Ok(conn)
}
