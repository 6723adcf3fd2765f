//! [`Backend`] over one SQLite file: pooled read-only readers, a writer, the alert store and
//! the SQL rule connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pathwise_store::alerts::{AlertStateStore, SqlRules};
use pathwise_store::{Backend, Reader, Store, StoreError};

use crate::read::{Pool, SqliteReader};
use crate::{SqliteAlertStore, SqliteSqlRules, SqliteStore};

/// One SQLite database file as a backend.
///
/// ```
/// use pathwise_store::Backend;
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// assert!(pathwise_store_sqlite::SqliteBackend::open(&db).is_err()); // not created yet
/// let backend = pathwise_store_sqlite::SqliteBackend::create(&db).unwrap();
/// assert_eq!(backend.describe(), format!("sqlite:{}", db.display()));
/// ```
pub struct SqliteBackend {
    path: PathBuf,
    pool: Pool,
}

impl SqliteBackend {
    /// A backend over an existing database; fails early if it cannot be read.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteBackend, StoreError> {
        let backend = SqliteBackend::unchecked(path.as_ref());
        drop(backend.reader()?);
        Ok(backend)
    }

    /// A backend over the database at `path`, creating and migrating it first.
    pub fn create(path: impl AsRef<Path>) -> Result<SqliteBackend, StoreError> {
        drop(SqliteStore::open(path.as_ref())?);
        SqliteBackend::open(path)
    }

    /// A backend whose file may not exist yet (readers fail until it does).
    pub fn unchecked(path: &Path) -> SqliteBackend {
        SqliteBackend {
            path: path.to_path_buf(),
            pool: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Backend for SqliteBackend {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn reader(&self) -> Result<Box<dyn Reader>, StoreError> {
        Ok(Box::new(SqliteReader::pooled(&self.path, &self.pool)?))
    }

    fn writer(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(SqliteStore::open(&self.path)?))
    }

    fn alert_store(&self) -> Result<Box<dyn AlertStateStore>, StoreError> {
        Ok(Box::new(SqliteAlertStore::open(&self.path)?))
    }

    fn sql_rules(&self) -> Result<Box<dyn SqlRules>, StoreError> {
        Ok(Box::new(SqliteSqlRules::open(&self.path)?))
    }

    fn key_store(&self) -> Result<Box<dyn pathwise_store::keys::KeyStore>, StoreError> {
        Ok(Box::new(crate::SqliteKeyStore::open(&self.path)?))
    }
}
