//! `clickhouse://host:port[,host:port…]/database?cluster=name` as a backend address.

use pathwise_store::StoreError;

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClickHouseConfig {
    /// HTTP endpoints (`http://host:port`); the first serves queries. With a cluster, list
    /// every shard: tables are created on each (no ZooKeeper is needed for that).
    pub endpoints: Vec<String>,
    pub database: String,
    /// The `remote_servers` cluster the Distributed tables span; `None` for one server.
    pub cluster: Option<String>,
}

fn invalid(url: &str, why: &str) -> StoreError {
    StoreError::Open {
        path: url.to_string(),
        reason: why.to_string(),
    }
}

/// A name ClickHouse accepts unquoted: letters, digits and `_`, not starting with a digit.
fn identifier(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl ClickHouseConfig {
    /// Parses a `clickhouse://` URL.
    ///
    /// ```
    /// use pathwise_store_clickhouse::ClickHouseConfig;
    /// let c = ClickHouseConfig::parse("clickhouse://127.0.0.1:18123,127.0.0.1:18124/pw?cluster=pathwise").unwrap();
    /// assert_eq!(c.endpoints, ["http://127.0.0.1:18123", "http://127.0.0.1:18124"]);
    /// assert_eq!((c.database.as_str(), c.cluster.as_deref()), ("pw", Some("pathwise")));
    /// assert!(ClickHouseConfig::parse("clickhouse://h:1/bad-name").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<ClickHouseConfig, StoreError> {
        let rest = url
            .strip_prefix("clickhouse://")
            .ok_or_else(|| invalid(url, "a ClickHouse address starts with clickhouse://"))?;
        let (hosts, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let (database, query) = tail.split_once('?').unwrap_or((tail, ""));
        let database = if database.is_empty() {
            "pathwise"
        } else {
            database
        };
        if !identifier(database) {
            return Err(invalid(
                url,
                "the database name may hold only letters, digits and _",
            ));
        }
        let mut endpoints = Vec::new();
        for host in hosts.split(',').filter(|h| !h.is_empty()) {
            let with_port = if host.contains(':') {
                host.to_string()
            } else {
                format!("{host}:8123")
            };
            endpoints.push(format!("http://{with_port}"));
        }
        if endpoints.is_empty() {
            return Err(invalid(url, "no host given"));
        }
        let mut cluster = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("cluster", name)) if identifier(name) => cluster = Some(name.to_string()),
                Some(("cluster", _)) => {
                    return Err(invalid(
                        url,
                        "the cluster name may hold only letters, digits and _",
                    ));
                }
                _ => {
                    return Err(invalid(
                        url,
                        &format!("unknown option {pair:?} (known: cluster)"),
                    ));
                }
            }
        }
        Ok(ClickHouseConfig {
            endpoints,
            database: database.to_string(),
            cluster,
        })
    }
}
