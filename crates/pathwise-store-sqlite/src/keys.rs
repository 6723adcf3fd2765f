//! API keys in the `api_keys` table (schema v7).

use std::path::Path;

use pathwise_store::StoreError;
use pathwise_store::keys::{ApiKey, KeyStore};
use rusqlite::{Connection, OpenFlags, params};

use crate::{Error, SqliteStore, connect};

/// The key table's connection.
///
/// ```
/// use pathwise_store::keys::{ApiKey, KeyStore, Scope};
/// let dir = tempfile::tempdir().unwrap();
/// let mut keys = pathwise_store_sqlite::SqliteKeyStore::open(&dir.path().join("p.db")).unwrap();
/// let key = ApiKey { id: "k1".into(), name: "app".into(), scopes: vec![Scope::Ingest],
///     projects: vec![], secret_sha256: "00".into(), created_ns: 1, revoked_ns: None, last_used_ns: None, uses: 0 };
/// keys.create_key(&key).unwrap();
/// keys.record_use("k1", 5, 3).unwrap();
/// assert_eq!(keys.keys().unwrap()[0].uses, 3);
/// assert!(keys.revoke_key("k1", 9).unwrap());
/// assert!(!keys.revoke_key("k1", 10).unwrap());
/// ```
pub struct SqliteKeyStore {
    conn: Connection,
}

impl SqliteKeyStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteKeyStore, StoreError> {
        drop(SqliteStore::open(path)?);
        let conn = connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Ok(SqliteKeyStore { conn })
    }
}

impl KeyStore for SqliteKeyStore {
    fn create_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO api_keys (id, name, scopes, secret_sha256, created_ns, revoked_ns,
                                       last_used_ns, uses)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    key.id,
                    key.name,
                    ApiKey::scopes_text(&key.scopes, &key.projects),
                    key.secret_sha256,
                    key.created_ns,
                    key.revoked_ns,
                    key.last_used_ns,
                    key.uses
                ],
            )
            .map_err(Error::from)?;
        Ok(())
    }

    fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT id, name, scopes, secret_sha256, created_ns, revoked_ns, last_used_ns, uses
                 FROM api_keys ORDER BY created_ns, id",
            )
            .map_err(Error::from)?;
        let rows = statement
            .query_map([], |r| {
                let (scopes, projects) = ApiKey::parse_scopes(&r.get::<_, String>(2)?);
                Ok(ApiKey {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    scopes,
                    projects,
                    secret_sha256: r.get(3)?,
                    created_ns: r.get(4)?,
                    revoked_ns: r.get(5)?,
                    last_used_ns: r.get(6)?,
                    uses: r.get(7)?,
                })
            })
            .map_err(Error::from)?;
        Ok(rows.collect::<Result<_, _>>().map_err(Error::from)?)
    }

    fn revoke_key(&mut self, id: &str, at_ns: i64) -> Result<bool, StoreError> {
        let changed = self
            .conn
            .execute(
                "UPDATE api_keys SET revoked_ns = ?2 WHERE id = ?1 AND revoked_ns IS NULL",
                params![id, at_ns],
            )
            .map_err(Error::from)?;
        Ok(changed > 0)
    }

    fn record_use(&mut self, id: &str, last_used_ns: i64, uses: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE api_keys SET uses = uses + ?3,
                    last_used_ns = max(coalesce(last_used_ns, 0), ?2) WHERE id = ?1",
                params![id, last_used_ns, uses],
            )
            .map_err(Error::from)?;
        Ok(())
    }
}
