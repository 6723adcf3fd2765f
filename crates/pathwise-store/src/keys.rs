//! API keys at rest: who may send (`ingest`), look (`read`) or change (`admin`). A key's secret
//! is never stored, only its SHA-256; the server checks presented keys against these rows and
//! counts their use.

use crate::StoreError;

/// What a key may do. `Admin` may do everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Send spans (`/v1/*`).
    Ingest,
    /// Read the API and the dashboard.
    Read,
    /// Everything, including acknowledging and silencing alerts.
    Admin,
}

impl Scope {
    /// `"ingest"`, `"read"` or `"admin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    /// Parses [`Scope::as_str`] names.
    ///
    /// ```
    /// use pathwise_store::keys::Scope;
    /// assert_eq!(Scope::parse("read"), Some(Scope::Read));
    /// assert_eq!(Scope::parse("root"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Scope> {
        match text.trim() {
            "ingest" => Some(Scope::Ingest),
            "read" => Some(Scope::Read),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    /// Scopes as stored: comma-separated names.
    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Inverse of [`Scope::join`]; unknown names are left out.
    pub fn split(text: &str) -> Vec<Scope> {
        text.split(',').filter_map(Scope::parse).collect()
    }
}

/// One key as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    /// Public part of the key (also in the key text), unique.
    pub id: String,
    /// What it is for ("checkout-service").
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The projects the key may reach; empty: every project.
    pub projects: Vec<String>,
    /// Lowercase hex SHA-256 of the secret part.
    pub secret_sha256: String,
    pub created_ns: i64,
    pub revoked_ns: Option<i64>,
    pub last_used_ns: Option<i64>,
    pub uses: i64,
}

impl ApiKey {
    /// Scopes and projects as stored in one text column: `ingest,read,project:checkout`. A
    /// project is a scope of its own kind, so no store needs a column for it, and a build
    /// that knows no projects reads such a key's scopes unchanged.
    ///
    /// ```
    /// use pathwise_store::keys::{ApiKey, Scope};
    /// let text = ApiKey::scopes_text(&[Scope::Ingest], &["checkout".to_string()]);
    /// assert_eq!(text, "ingest,project:checkout");
    /// assert_eq!(ApiKey::parse_scopes(&text), (vec![Scope::Ingest], vec!["checkout".to_string()]));
    /// ```
    pub fn scopes_text(scopes: &[Scope], projects: &[String]) -> String {
        let mut parts: Vec<String> = scopes.iter().map(|s| s.as_str().to_string()).collect();
        parts.extend(projects.iter().map(|p| format!("{PROJECT_PREFIX}{p}")));
        parts.join(",")
    }

    /// Inverse of [`ApiKey::scopes_text`]; unknown names are left out.
    pub fn parse_scopes(text: &str) -> (Vec<Scope>, Vec<String>) {
        let projects = text
            .split(',')
            .filter_map(|part| part.trim().strip_prefix(PROJECT_PREFIX))
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        (Scope::split(text), projects)
    }

    /// Whether the key may reach `project`.
    pub fn allows_project(&self, project: &str) -> bool {
        self.projects.is_empty() || self.projects.iter().any(|p| p == project)
    }
}

const PROJECT_PREFIX: &str = "project:";

/// Where keys are kept (a backend capability: `Backend::key_store`).
pub trait KeyStore: Send {
    /// Stores a new key.
    fn create_key(&mut self, key: &ApiKey) -> Result<(), StoreError>;
    /// Every key, revoked ones included, oldest first.
    fn keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a key; `false` when there is no such (unrevoked) key.
    fn revoke_key(&mut self, id: &str, at_ns: i64) -> Result<bool, StoreError>;
    /// Adds `uses` to a key's count and moves its last use to `last_used_ns` (if later).
    fn record_use(&mut self, id: &str, last_used_ns: i64, uses: i64) -> Result<(), StoreError>;
}
