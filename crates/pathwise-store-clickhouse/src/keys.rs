//! API keys in a replacing table: every change (revocation, a flush of use counts) writes a
//! new version of the key's row, and reads take the newest (`FINAL`).

use clickhouse::Row;
use pathwise_store::StoreError;
use pathwise_store::keys::{ApiKey, KeyStore};
use serde::{Deserialize, Serialize};

use crate::Conn;
use crate::alerts::version;
use crate::write::insert;

#[derive(Row, Serialize, Deserialize, Clone)]
struct KeyRowCh {
    id: String,
    name: String,
    scopes: String,
    secret_sha256: String,
    created_ns: i64,
    revoked_ns: Option<i64>,
    last_used_ns: Option<i64>,
    uses: i64,
    updated_ns: i64,
}

impl From<KeyRowCh> for ApiKey {
    fn from(r: KeyRowCh) -> Self {
        let (scopes, projects) = ApiKey::parse_scopes(&r.scopes);
        ApiKey {
            id: r.id,
            name: r.name,
            scopes,
            projects,
            secret_sha256: r.secret_sha256,
            created_ns: r.created_ns,
            revoked_ns: r.revoked_ns,
            last_used_ns: r.last_used_ns,
            uses: r.uses,
        }
    }
}

pub(crate) struct ClickHouseKeyStore {
    conn: Conn,
}

impl ClickHouseKeyStore {
    pub(crate) fn new(conn: Conn) -> Self {
        ClickHouseKeyStore { conn }
    }

    fn rows(&self, id: Option<&str>) -> Result<Vec<KeyRowCh>, StoreError> {
        let table = self.conn.table("api_keys");
        let columns = "id, name, scopes, secret_sha256, created_ns, revoked_ns, last_used_ns, uses, updated_ns";
        self.conn.run(async {
            match id {
                Some(id) => {
                    self.conn
                        .client
                        .query(&format!("SELECT {columns} FROM {table} FINAL WHERE id = ?"))
                        .bind(id)
                        .fetch_all()
                        .await
                }
                None => {
                    self.conn
                        .client
                        .query(&format!(
                            "SELECT {columns} FROM {table} FINAL ORDER BY created_ns, id"
                        ))
                        .fetch_all()
                        .await
                }
            }
        })
    }

    fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut KeyRowCh) -> bool,
    ) -> Result<bool, StoreError> {
        let Some(mut row) = self.rows(Some(id))?.pop() else {
            return Ok(false);
        };
        if !change(&mut row) {
            return Ok(false);
        }
        row.updated_ns = version();
        insert(&self.conn, "api_keys", &[row])?;
        Ok(true)
    }
}

impl KeyStore for ClickHouseKeyStore {
    fn create_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        if !self.rows(Some(&key.id))?.is_empty() {
            return Err(StoreError::InvalidQuery(format!(
                "a key {} exists already",
                key.id
            )));
        }
        let row = KeyRowCh {
            id: key.id.clone(),
            name: key.name.clone(),
            scopes: ApiKey::scopes_text(&key.scopes, &key.projects),
            secret_sha256: key.secret_sha256.clone(),
            created_ns: key.created_ns,
            revoked_ns: key.revoked_ns,
            last_used_ns: key.last_used_ns,
            uses: key.uses,
            updated_ns: version(),
        };
        insert(&self.conn, "api_keys", &[row])
    }

    fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        Ok(self.rows(None)?.into_iter().map(ApiKey::from).collect())
    }

    fn revoke_key(&mut self, id: &str, at_ns: i64) -> Result<bool, StoreError> {
        self.update(id, |row| {
            let open = row.revoked_ns.is_none();
            row.revoked_ns = row.revoked_ns.or(Some(at_ns));
            open
        })
    }

    fn record_use(&mut self, id: &str, last_used_ns: i64, uses: i64) -> Result<(), StoreError> {
        // Read-modify-write: fine for one server flushing every few seconds; two servers
        // flushing the same key at once may lose one flush's count.
        self.update(id, |row| {
            row.uses += uses;
            row.last_used_ns = Some(row.last_used_ns.unwrap_or(0).max(last_used_ns));
            true
        })
        .map(drop)
    }
}
