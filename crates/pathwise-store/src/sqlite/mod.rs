//! The embedded default backend: one SQLite file in WAL mode, so the `sqlite3` CLI, the server
//! and the CLI can read while the application writes.

mod baselines;
mod maintenance;
mod read;
pub mod rollup;
mod schema;
mod spans;
mod stats;
mod write;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use baselines::BaselineRow;
pub use read::SqliteReader;
pub use schema::SCHEMA_VERSION;
pub use write::SqliteStore;

use crate::StoreError;

fn open_error(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Opens a connection with the settings every Pathwise connection shares.
fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    // Readers and the writer meet on the same file: wait for a lock rather than fail at once.
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}
