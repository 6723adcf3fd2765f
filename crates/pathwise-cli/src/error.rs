//! The one error type of the CLI, and how each failure maps to an exit code.

use std::path::Path;
use std::sync::Arc;

use pathwise_store::{Backend, Reader, StoreError};
use pathwise_store_sqlite::SqliteBackend;

/// A failed command: a message for stderr and an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The user gave something unusable (exit code 2): a malformed id, a missing database.
    #[error("{0}")]
    Input(String),
    /// The request was valid but could not be satisfied (exit code 1).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// The process exit code for this error: 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => 2,
            CliError::Failed(_) => 1,
        }
    }

    /// A store error met while reading `db`.
    pub fn store(db: &Path, error: StoreError) -> Self {
        CliError::Failed(format!("reading {}: {error}", db.display()))
    }
}

/// Opens `db` for reading, turning "no such file" and "not a pathwise database" into input
/// errors with a hint.
pub fn open_reader(db: &Path) -> Result<Box<dyn Reader>, CliError> {
    open_backend(db)?
        .reader()
        .map_err(|e| CliError::store(db, e))
}

/// Like [`open_backend`], but a SQLite file that does not exist yet is created: for the
/// commands that record (`serve` receives spans) or set a store up (`keys create`).
pub fn open_or_create_backend(db: &Path) -> Result<Arc<dyn Backend>, CliError> {
    let text = db.to_string_lossy();
    let file = Path::new(text.strip_prefix("sqlite:").unwrap_or(&text));
    if !text.starts_with("clickhouse://") && !file.exists() {
        let backend = SqliteBackend::create(file).map_err(|e| CliError::store(file, e))?;
        eprintln!("pathwise: created an empty database at {}", file.display());
        return Ok(Arc::new(backend));
    }
    open_backend(db)
}

/// The backend named by `db`: a `clickhouse://` address, or a SQLite file (optionally written
/// `sqlite:PATH`), checked readable (errors as for [`open_reader`]).
pub fn open_backend(db: &Path) -> Result<Arc<dyn Backend>, CliError> {
    let text = db.to_string_lossy();
    if text.starts_with("clickhouse://") {
        let backend = pathwise_store_clickhouse::ClickHouseBackend::connect(&text)
            .map_err(|e| CliError::Input(e.to_string()))?;
        return Ok(Arc::new(backend));
    }
    let db = Path::new(text.strip_prefix("sqlite:").unwrap_or(&text));
    if !db.exists() {
        return Err(CliError::Input(format!(
            "no database at {} (create one with `pathwise demo`, or pass --db PATH)",
            db.display()
        )));
    }
    let backend = SqliteBackend::open(db).map_err(|error| match error {
        StoreError::Open { .. } | StoreError::NewerSchema { .. } => {
            CliError::Input(error.to_string())
        }
        other => CliError::Input(format!(
            "cannot open {} as a pathwise database: {other}",
            db.display()
        )),
    })?;
    Ok(Arc::new(backend))
}
