//! A Pathwise store on ClickHouse, for teams that outgrow one machine: one server, or a
//! cluster with Distributed tables sharded by trace id. Talks HTTP with RowBinary rows (the
//! `clickhouse` crate), reads the server's version and picks the schema variant it supports
//! ([`schema`]). Implements every trait of `pathwise-store`, so the server, the analysis and
//! the alerts work on it unchanged.
//!
//! ```no_run
//! use pathwise_store::Backend;
//! let backend = pathwise_store_clickhouse::ClickHouseBackend::connect(
//!     "clickhouse://127.0.0.1:8123/pathwise").unwrap();
//! let reader = backend.reader().unwrap();
//! ```

mod alerts;
mod analytics;
mod config;
mod keys;
mod maintenance;
mod read;
mod rows;
mod scaling;
pub mod schema;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
mod write;

use std::future::Future;
use std::sync::Arc;

use pathwise_store::alerts::{AlertStateStore, SqlRules};
use pathwise_store::{Backend, Reader, Store, StoreError};

pub use config::ClickHouseConfig;
pub use read::ClickHouseReader;
pub use schema::Variant;
pub use write::ClickHouseStore;

/// A connection to the server (or the cluster's query endpoint) and the runtime its async
/// client runs on: the store traits are blocking, so calls `block_on` a small private runtime.
#[derive(Clone)]
pub(crate) struct Conn {
    pub client: clickhouse::Client,
    /// One client per listed shard, for maintenance that runs on local tables.
    pub shards: Vec<clickhouse::Client>,
    pub runtime: Arc<tokio::runtime::Runtime>,
    pub config: Arc<ClickHouseConfig>,
    pub variant: Variant,
}

pub(crate) fn backend_error(e: clickhouse::error::Error) -> StoreError {
    StoreError::Backend(format!("clickhouse: {e}"))
}

impl Conn {
    /// Runs `future` to completion on the private runtime.
    pub fn run<T: Send>(
        &self,
        future: impl Future<Output = Result<T, clickhouse::error::Error>> + Send,
    ) -> Result<T, StoreError> {
        block_on(&self.runtime, future).map_err(backend_error)
    }

    /// The table a query names (Distributed with a cluster).
    pub fn table(&self, name: &str) -> String {
        format!("{}.{name}", self.config.database)
    }
}

/// `runtime.block_on(future)`, also when called from inside another tokio runtime (an async
/// application, a test): there it runs on a short-lived thread instead of panicking.
pub(crate) fn block_on<T: Send>(
    runtime: &tokio::runtime::Runtime,
    future: impl Future<Output = T> + Send,
) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(future);
    }
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(future))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn client(endpoint: &str) -> clickhouse::Client {
    clickhouse::Client::default()
        .with_url(endpoint)
        .with_validation(false)
        // A Distributed insert returns once every shard has the rows: "written" means stored.
        .with_setting("insert_distributed_sync", "1")
}

/// A ClickHouse server or cluster as a backend.
pub struct ClickHouseBackend {
    conn: Conn,
}

impl ClickHouseBackend {
    /// Connects to `url` (`clickhouse://host:port[,host:port…]/db?cluster=name`), checks the
    /// server's version and creates the database and tables that are missing (on every listed
    /// shard). An unreachable server, a refused database or a server too old is an error here,
    /// at startup.
    pub fn connect(url: &str) -> Result<ClickHouseBackend, StoreError> {
        let config = ClickHouseConfig::parse(url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("pathwise-clickhouse")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("clickhouse: cannot start a runtime: {e}")))?;
        let open_error = |endpoint: &str, e: clickhouse::error::Error| StoreError::Open {
            path: endpoint.to_string(),
            reason: format!("clickhouse: {e}"),
        };
        let mut variant = None;
        for endpoint in &config.endpoints {
            let shard = client(endpoint);
            let version: String = block_on(
                &runtime,
                shard.query("SELECT version()").fetch_one::<String>(),
            )
            .map_err(|e| open_error(endpoint, e))?;
            let found = Variant::for_version(&version).ok_or_else(|| StoreError::Open {
                path: endpoint.clone(),
                reason: format!("ClickHouse {version} is too old: Pathwise needs 18.14 or later"),
            })?;
            // The oldest server decides: every shard must understand the tables.
            variant = Some(match (variant, found) {
                (Some(Variant::Legacy), _) | (_, Variant::Legacy) => Variant::Legacy,
                _ => Variant::Modern,
            });
        }
        let variant = variant.expect("at least one endpoint");
        for endpoint in &config.endpoints {
            let shard = client(endpoint);
            for statement in schema::ddl(variant, &config.database, config.cluster.as_deref()) {
                // Distributed tables are created on every shard too, so any shard can serve.
                block_on(&runtime, shard.query(&statement).execute())
                    .map_err(|e| open_error(endpoint, e))?;
            }
        }
        let client = client(&config.endpoints[0]).with_database(config.database.clone());
        let shards = config
            .endpoints
            .iter()
            .map(|e| self::client(e).with_database(config.database.clone()))
            .collect();
        Ok(ClickHouseBackend {
            conn: Conn {
                client,
                shards,
                runtime: Arc::new(runtime),
                config: Arc::new(config),
                variant,
            },
        })
    }

    /// The schema variant in use.
    pub fn variant(&self) -> Variant {
        self.conn.variant
    }
}

impl Backend for ClickHouseBackend {
    fn describe(&self) -> String {
        let c = &self.conn.config;
        format!(
            "clickhouse:{}/{}{}",
            c.endpoints.join(","),
            c.database,
            c.cluster
                .as_ref()
                .map_or(String::new(), |n| format!(" (cluster {n})"))
        )
    }

    fn reader(&self) -> Result<Box<dyn Reader>, StoreError> {
        Ok(Box::new(ClickHouseReader::new(self.conn.clone())))
    }

    fn writer(&self) -> Result<Box<dyn Store>, StoreError> {
        Ok(Box::new(ClickHouseStore::new(self.conn.clone())))
    }

    fn alert_store(&self) -> Result<Box<dyn AlertStateStore>, StoreError> {
        Ok(Box::new(alerts::ClickHouseAlertStore::new(
            self.conn.clone(),
        )))
    }

    fn sql_rules(&self) -> Result<Box<dyn SqlRules>, StoreError> {
        Ok(Box::new(sql::ClickHouseSqlRules::new(self.conn.clone())))
    }

    fn key_store(&self) -> Result<Box<dyn pathwise_store::keys::KeyStore>, StoreError> {
        Ok(Box::new(keys::ClickHouseKeyStore::new(self.conn.clone())))
    }
}
