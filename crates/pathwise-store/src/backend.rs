//! One handle on a backend, whichever database it is.

use crate::alerts::{AlertStateStore, SqlRules};
use crate::{ReadStore, RollupStore, ScalingStore, Store, StoreError};

/// Everything the read side offers: what analysis, alerts and the server use.
pub trait Reader: ReadStore + RollupStore + ScalingStore + Send {}

impl<T: ReadStore + RollupStore + ScalingStore + Send> Reader for T {}

/// A database that Pathwise can record into and read from. Cheap to share (`Arc<dyn Backend>`);
/// readers are pooled or stateless as the backend sees fit.
pub trait Backend: Send + Sync {
    /// What this is, for messages: `sqlite:pathwise.db`, `clickhouse://host/db`.
    fn describe(&self) -> String;
    /// A reader; may block briefly (opening a connection).
    fn reader(&self) -> Result<Box<dyn Reader>, StoreError>;
    /// The writer the pipeline (or a migration, or `baseline learn`) writes through.
    fn writer(&self) -> Result<Box<dyn Store>, StoreError>;
    /// Where the alert engine keeps its state.
    fn alert_store(&self) -> Result<Box<dyn AlertStateStore>, StoreError>;
    /// A connection for SQL alert rules, separate from the analytics readers.
    fn sql_rules(&self) -> Result<Box<dyn SqlRules>, StoreError>;
    /// Where API keys are kept; backends without one answer `Unsupported`.
    fn key_store(&self) -> Result<Box<dyn crate::keys::KeyStore>, StoreError> {
        Err(StoreError::Unsupported("API keys".into()))
    }
}
