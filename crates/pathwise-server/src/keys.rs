//! API keys in use: making them, checking presented ones, counting their use.
//!
//! A key reads `pwk_<id>_<secret>`. The store keeps the id, the scopes and the SHA-256 of the
//! secret; a presented key is found by id and its secret compared in constant time. Keys are
//! high-entropy random strings, so a fast hash is the right one (a password hash buys nothing
//! against 160 random bits). The server caches the key table and re-reads it every few seconds
//! (a revocation takes effect within [`REFRESH`]); use counts are summed in memory and
//! flushed on the same beat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::params::now_ns;

use parking_lot::{Mutex, RwLock};
use pathwise_store::keys::{ApiKey, KeyStore, Scope};
use pathwise_store::{Backend, StoreError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How often the key table is re-read and use counts written.
pub const REFRESH: Duration = Duration::from_secs(5);

const PREFIX: &str = "pwk_";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A new key: the row to store and the key text, shown once and never stored.
///
/// ```
/// use pathwise_store::keys::Scope;
/// let (row, text) = pathwise_server::keys::generate("checkout", vec![Scope::Ingest], vec!["shop".into()]);
/// assert!(text.starts_with(&format!("pwk_{}_", row.id)));
/// assert!(!text.contains(&row.secret_sha256));
/// assert!(row.allows_project("shop") && !row.allows_project("billing"));
/// ```
pub fn generate(name: &str, scopes: Vec<Scope>, projects: Vec<String>) -> (ApiKey, String) {
    let id = hex(&rand::random::<[u8; 6]>());
    let secret = hex(&rand::random::<[u8; 20]>());
    let row = ApiKey {
        id: id.clone(),
        name: name.to_string(),
        scopes,
        projects,
        secret_sha256: sha256_hex(&secret),
        created_ns: now_ns(),
        revoked_ns: None,
        last_used_ns: None,
        uses: 0,
    };
    (row, format!("{PREFIX}{id}_{secret}"))
}

struct Known {
    secret_sha256: String,
    grant: Grant,
}

/// What a presented credential may do, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub scopes: Vec<Scope>,
    /// The projects it may reach; `None`: every project (the server's token, a key made
    /// without projects, or a server that requires no credential).
    pub projects: Option<Vec<String>>,
}

impl Grant {
    /// Everything, everywhere.
    pub fn all() -> Grant {
        Grant {
            scopes: vec![Scope::Admin],
            projects: None,
        }
    }

    /// Whether it allows `needed` (`admin` allows everything).
    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.contains(&needed) || self.scopes.contains(&Scope::Admin)
    }

    /// Whether it reaches `project`.
    ///
    /// ```
    /// use pathwise_server::keys::Grant;
    /// use pathwise_store::keys::Scope;
    /// let grant = Grant { scopes: vec![Scope::Read], projects: Some(vec!["shop".into()]) };
    /// assert!(grant.reaches("shop") && !grant.reaches("billing"));
    /// assert!(Grant::all().reaches("billing"));
    /// ```
    pub fn reaches(&self, project: &str) -> bool {
        self.projects
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| p == project))
    }
}

#[derive(Default)]
struct Table {
    /// Unrevoked keys by id.
    active: HashMap<String, Known>,
    loaded: Option<Instant>,
}

/// The server's view of the key table.
pub struct KeyRing {
    backend: Arc<dyn Backend>,
    table: RwLock<Table>,
    /// id → (uses since the last flush, last use).
    uses: Mutex<HashMap<String, (i64, i64)>>,
}

impl KeyRing {
    /// The ring of `backend`, loaded once; `None` when the backend keeps no keys.
    pub fn load(backend: Arc<dyn Backend>) -> Option<Arc<KeyRing>> {
        let ring = KeyRing {
            backend,
            table: RwLock::new(Table::default()),
            uses: Mutex::new(HashMap::new()),
        };
        match ring.refresh() {
            Err(StoreError::Unsupported(_)) => None,
            // A store that cannot be read now is read again on the next beat.
            _ => Some(Arc::new(ring)),
        }
    }

    fn store(&self) -> Result<Box<dyn KeyStore>, StoreError> {
        self.backend.key_store()
    }

    /// Re-reads the key table and writes the use counts gathered since the last time.
    pub fn refresh(&self) -> Result<(), StoreError> {
        let mut store = self.store()?;
        let pending: Vec<(String, (i64, i64))> = self.uses.lock().drain().collect();
        for (id, (count, last)) in &pending {
            if let Err(e) = store.record_use(id, *last, *count) {
                // Counts are kept for the next beat, not lost.
                let mut uses = self.uses.lock();
                let entry = uses.entry(id.clone()).or_default();
                entry.0 += count;
                entry.1 = entry.1.max(*last);
                drop(uses);
                return Err(e);
            }
        }
        let active = store
            .keys()?
            .into_iter()
            .filter(|k| k.revoked_ns.is_none())
            .map(|k| {
                (
                    k.id,
                    Known {
                        secret_sha256: k.secret_sha256,
                        grant: Grant {
                            scopes: k.scopes,
                            projects: (!k.projects.is_empty()).then_some(k.projects),
                        },
                    },
                )
            })
            .collect();
        *self.table.write() = Table {
            active,
            loaded: Some(Instant::now()),
        };
        Ok(())
    }

    /// Refreshes every [`REFRESH`] on a thread of its own while the ring is alive.
    pub fn spawn_refresher(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let _ = std::thread::Builder::new()
            .name("pathwise-keys".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(REFRESH);
                    let Some(ring) = weak.upgrade() else { return };
                    let _ = ring.refresh();
                }
            });
    }

    /// Whether any unrevoked key exists (then every request needs a key or the token).
    pub fn any_active(&self) -> bool {
        !self.table.read().active.is_empty()
    }

    /// The scopes of a presented key, if it is a valid, unrevoked one; counts the use.
    pub fn scopes_of(&self, presented: &str) -> Option<Vec<Scope>> {
        self.grant_of(presented).map(|g| g.scopes)
    }

    /// What a presented key may do and where, if it is a valid, unrevoked one; counts the use.
    pub fn grant_of(&self, presented: &str) -> Option<Grant> {
        let (id, secret) = presented.strip_prefix(PREFIX)?.split_once('_')?;
        let table = self.table.read();
        let known = table.active.get(id)?;
        let given = sha256_hex(secret);
        if !bool::from(given.as_bytes().ct_eq(known.secret_sha256.as_bytes())) {
            return None;
        }
        let grant = known.grant.clone();
        drop(table);
        let mut uses = self.uses.lock();
        let entry = uses.entry(id.to_string()).or_default();
        entry.0 += 1;
        entry.1 = now_ns();
        Some(grant)
    }

    /// When the table was last read, for the pipeline page.
    pub fn loaded(&self) -> Option<Instant> {
        self.table.read().loaded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_check_by_secret_and_count_uses() {
        let dir = tempfile::tempdir().unwrap();
        let backend: Arc<dyn Backend> = Arc::new(
            pathwise_store_sqlite::SqliteBackend::create(dir.path().join("k.db")).unwrap(),
        );
        let ring = KeyRing::load(backend.clone()).unwrap();
        assert!(!ring.any_active());
        let (row, text) = generate("app", vec![Scope::Ingest], vec![]);
        backend.key_store().unwrap().create_key(&row).unwrap();
        ring.refresh().unwrap();
        assert!(ring.any_active());
        assert_eq!(ring.scopes_of(&text), Some(vec![Scope::Ingest]));
        assert_eq!(ring.scopes_of(&text), Some(vec![Scope::Ingest]));
        // A longer secret is always a wrong one (replacing the last digit may keep it).
        let wrong = format!("{text}0");
        assert_eq!(ring.scopes_of(&wrong), None);
        assert_eq!(ring.scopes_of("pwk_nope_x"), None);
        assert_eq!(ring.scopes_of("garbage"), None);
        ring.refresh().unwrap();
        let stored = &backend.key_store().unwrap().keys().unwrap()[0];
        assert_eq!(stored.uses, 2);
        assert!(stored.last_used_ns.is_some());
        backend
            .key_store()
            .unwrap()
            .revoke_key(&row.id, now_ns())
            .unwrap();
        ring.refresh().unwrap();
        assert_eq!(ring.scopes_of(&text), None);
        assert!(!ring.any_active());
    }
}
