//! Configuration of an instrumented process.

use std::path::PathBuf;
use std::time::Duration;

use pathwise_capture::CaptureOptions;

/// How Pathwise records. `Config::default()` writes `./pathwise.db`.
///
/// ```
/// let config = pathwise::Config { sample_rate: 0.25, ..pathwise::Config::default() };
/// assert!(config.validate().is_ok());
/// assert!(pathwise::Config { sample_rate: 2.0, ..config.clone() }.validate().is_err());
/// let too_often = Some(std::time::Duration::from_millis(10));
/// assert!(pathwise::Config { resource_interval: too_often, ..config.clone() }.validate().is_err());
/// assert!(pathwise::Config { resource_interval: None, ..config }.validate().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// The SQLite database file.
    pub db_path: PathBuf,
    /// A ClickHouse server or cluster to record into instead of the SQLite file
    /// (`clickhouse://host:8123[,host2:8123]/db?cluster=name`; feature `clickhouse`). Set
    /// it, or `db_path`, with [`Config::store`].
    pub store: Option<String>,
    /// Spill segments and the error lane; default: `<db_path>.spool`.
    pub data_dir: Option<PathBuf>,
    /// Share of traces kept, 0.0–1.0; traces holding an error are always kept.
    pub sample_rate: f64,
    /// At most so many traces per hour for each root name, besides sampling; traces holding
    /// an error are always kept (`PATHWISE_MAX_TRACES_PER_HOUR`). What was left out:
    /// [`traces_left_out`](crate::traces_left_out).
    pub trace_limit: Option<crate::TraceLimit>,
    /// The writer commits at least this often.
    pub flush_interval: Duration,
    /// Records held in memory before spilling to disk.
    pub queue_capacity: usize,
    /// Data older than this is deleted; `None` keeps everything.
    pub retention: Option<Duration>,
    /// When the store holds more than this many bytes, its oldest hours are deleted until it
    /// holds less, and the file shrinks (`PATHWISE_RETENTION_MB`); checked every
    /// `retention_interval`. `None`: no size limit.
    pub retention_bytes: Option<u64>,
    /// How long shutdown (dropping the guard) may spend writing a backlog; what is left then
    /// stays in `data_dir` and is written at the next start. `None` waits for all of it.
    pub shutdown_timeout: Option<Duration>,
    /// How often retention runs.
    pub retention_interval: Duration,
    /// Memory for error spans while the disk is full (neither the store nor the spill can
    /// take them): they wait in memory, up to about this many bytes, and are stored once
    /// there is room, while other records are counted as dropped. Default 64 MiB.
    pub error_reserve_bytes: usize,
    /// Attributes and captured fields hashed (keyed, so equal values still group) or dropped
    /// before anything is written: [`Privacy::recommended`](crate::Privacy::recommended) is
    /// the documented default list (`PATHWISE_PRIVACY=recommended`; the key from
    /// `PATHWISE_PRIVACY_KEY`). `None` records values as given (secrets are masked anyway).
    pub privacy: Option<crate::Privacy>,
    /// Defaults for argument and result capture (`max_repr`, extra secret names, ...).
    pub capture: CaptureOptions,
    /// How often process and host resources (CPU, memory, disk and network I/O, threads, open
    /// files) are sampled on the `pathwise-resources` thread; at least 100 ms. `None` turns
    /// sampling off.
    pub resource_interval: Option<Duration>,
    /// Where records go besides (or instead of) the local file: a Pathwise server or an OTLP
    /// collector. While one is down, records wait on disk in `data_dir` and follow in order.
    pub export: Vec<Export>,
    /// The project of a server with several that these records belong to
    /// (`PATHWISE_PROJECT`): sent with every export, so the server files them there. `None`:
    /// the server's default project (or the one the key is limited to).
    pub project: Option<String>,
    /// Whether the local SQLite file is written too (default). `false` with an export records
    /// only remotely.
    pub keep_local: bool,
    /// `false` turns recording off altogether: `init` starts nothing and every span, call and
    /// step costs one atomic load (`PATHWISE_ENABLED=0`).
    pub enabled: bool,
    /// Argument and result capture of `#[monitor]` calls: on or off for every function, and
    /// per function name (see [`CaptureSwitch`]).
    pub capture_switch: CaptureSwitch,
    /// Whether database queries ([`db_query`](crate::db_query), the `rusqlite` wrapper) also
    /// keep their statement as written, values included, as `db.statement.full`
    /// (`PATHWISE_DB_FULL_STATEMENTS=1`). Off by default: the values are often user data. The
    /// normalised statement (values replaced by `?`) is always kept.
    pub db_full_statements: bool,
}

/// Which `#[monitor]` functions capture their arguments and results, decided when recording
/// starts, without recompiling. Patterns are globs on the function's recorded name (`*` any
/// run of characters, `?` one): `"search::*"`, `"*::login"`, `"auth.*"`. A function captures
/// when capture is on, it matches `include` (or `include` is empty) and matches no `exclude`;
/// what its own `#[monitor(skip(..), capture_args = false)]` turns off stays off.
///
/// ```
/// let switch = pathwise::CaptureSwitch {
///     exclude: vec!["*::login".into(), "auth::*".into()],
///     ..pathwise::CaptureSwitch::default()
/// };
/// assert!(switch.captures("search::execute"));
/// assert!(!switch.captures("web::login"));
/// assert!(!pathwise::CaptureSwitch { enabled: false, ..switch }.captures("search::execute"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureSwitch {
    /// Capture at all (`PATHWISE_CAPTURE=0` turns it off).
    pub enabled: bool,
    /// Only functions matching one of these capture (`PATHWISE_CAPTURE_INCLUDE`, comma-separated).
    pub include: Vec<String>,
    /// Functions matching one of these never capture (`PATHWISE_CAPTURE_EXCLUDE`).
    pub exclude: Vec<String>,
}

impl Default for CaptureSwitch {
    fn default() -> Self {
        CaptureSwitch {
            enabled: true,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

impl CaptureSwitch {
    /// Whether the function recorded as `name` captures its arguments and results.
    pub fn captures(&self, name: &str) -> bool {
        let matches = |patterns: &[String]| {
            patterns
                .iter()
                .any(|p| wildmatch::WildMatch::new(p).matches(name))
        };
        self.enabled
            && (self.include.is_empty() || matches(&self.include))
            && !matches(&self.exclude)
    }
}

/// A comma-separated list of patterns; empty entries are ignored.
fn pattern_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// `0`/`1`/`true`/`false` of variable `name`.
fn flag(name: &str, value: &str) -> Result<bool, String> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(format!("{name}={value:?} is not 0 or 1")),
    }
}

/// A destination for records besides the local file.
///
/// ```
/// let config = pathwise::Config {
///     export: vec![pathwise::Export::Pathwise { url: "http://127.0.0.1:7070".into(), key: None }],
///     keep_local: false,
///     ..pathwise::Config::default()
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Export {
    /// A Pathwise server (`pathwise serve`), natively; `key` is an ingest key or its token.
    Pathwise { url: String, key: Option<String> },
    /// An OTLP/HTTP endpoint (`http://collector:4318`); spans without a group are reported
    /// as `service`.
    Otlp {
        endpoint: String,
        service: String,
        headers: Vec<(String, String)>,
    },
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db_path: PathBuf::from("pathwise.db"),
            store: None,
            data_dir: None,
            sample_rate: 1.0,
            trace_limit: None,
            flush_interval: Duration::from_millis(100),
            queue_capacity: 262_144,
            retention: Some(Duration::from_secs(7 * 24 * 3600)),
            retention_bytes: None,
            shutdown_timeout: Some(Duration::from_secs(5)),
            retention_interval: Duration::from_secs(3600),
            error_reserve_bytes: 64 << 20,
            privacy: None,
            capture: CaptureOptions::default(),
            resource_interval: Some(Duration::from_secs(1)),
            export: Vec::new(),
            keep_local: true,
            enabled: true,
            capture_switch: CaptureSwitch::default(),
            db_full_statements: false,
            project: None,
        }
    }
}

impl Config {
    /// Where records are kept, written as the `pathwise` command's `--store` takes it: a
    /// SQLite file (`pathwise.db`, `sqlite:pathwise.db`) or a ClickHouse server or cluster
    /// (`clickhouse://…`, which needs the SDK's `clickhouse` feature).
    ///
    /// ```
    /// let config = pathwise::Config::default().store("clickhouse://127.0.0.1:8123/pathwise");
    /// assert_eq!(config.store.as_deref(), Some("clickhouse://127.0.0.1:8123/pathwise"));
    /// let config = config.store("sqlite:app.db");
    /// assert_eq!((config.store, config.db_path), (None, "app.db".into()));
    /// assert!(pathwise::Config::default().store("postgres://db").validate().is_err());
    /// ```
    pub fn store(mut self, location: impl Into<String>) -> Config {
        let location = location.into();
        // Any other scheme is kept as given so that `validate` refuses it, rather than
        // becoming a SQLite file named `postgres:/…`.
        if location.starts_with("clickhouse://") || location.contains("://") {
            self.store = Some(location);
        } else {
            self.store = None;
            self.db_path = location.strip_prefix("sqlite:").unwrap_or(&location).into();
        }
        self
    }

    /// Defaults overridden by `PATHWISE_STORE` (as [`Config::store`] takes it), `PATHWISE_DB`, `PATHWISE_SAMPLE_RATE`,
    /// `PATHWISE_MAX_TRACES_PER_HOUR`, `PATHWISE_PRIVACY`, `PATHWISE_RETENTION_HOURS`,
    /// `PATHWISE_RETENTION_MB`, `PATHWISE_REMOTE` (a server URL) with `PATHWISE_KEY`,
    /// `PATHWISE_OTLP_ENDPOINT` with `PATHWISE_SERVICE`, `PATHWISE_KEEP_LOCAL` (`0` or `1`),
    /// `PATHWISE_ENABLED` (`0` records nothing), `PATHWISE_CAPTURE` (`0` captures no arguments
    /// or results), `PATHWISE_CAPTURE_INCLUDE` / `PATHWISE_CAPTURE_EXCLUDE` (comma-separated
    /// function-name globs) and `PATHWISE_DB_FULL_STATEMENTS` (`1` keeps database statements as
    /// written); a malformed value is an error, not a silent default.
    pub fn from_env() -> Result<Self, String> {
        let mut config = Config::default();
        if let Ok(db) = std::env::var("PATHWISE_DB") {
            config.db_path = db.into();
        }
        if let Ok(store) = std::env::var("PATHWISE_STORE") {
            config = config.store(store);
        }
        if let Ok(rate) = std::env::var("PATHWISE_SAMPLE_RATE") {
            config.sample_rate = rate
                .parse()
                .map_err(|_| format!("PATHWISE_SAMPLE_RATE={rate:?} is not a number"))?;
        }
        if let Ok(limit) = std::env::var("PATHWISE_MAX_TRACES_PER_HOUR") {
            let per_hour: u32 = limit.parse().map_err(|_| {
                format!("PATHWISE_MAX_TRACES_PER_HOUR={limit:?} is not a whole number")
            })?;
            config.trace_limit = Some(crate::TraceLimit::per_hour(per_hour));
        }
        if let Ok(privacy) = std::env::var("PATHWISE_PRIVACY") {
            config.privacy = match privacy.as_str() {
                "recommended" => Some(crate::Privacy::recommended()),
                "" | "off" => None,
                other => {
                    return Err(format!(
                        "PATHWISE_PRIVACY={other:?}: expected `recommended` or `off`"
                    ));
                }
            };
        }
        if let Ok(mb) = std::env::var("PATHWISE_RETENTION_MB") {
            let mb: u64 = mb
                .parse()
                .map_err(|_| format!("PATHWISE_RETENTION_MB={mb:?} is not a whole number"))?;
            config.retention_bytes = (mb > 0).then_some(mb << 20);
        }
        if let Ok(hours) = std::env::var("PATHWISE_RETENTION_HOURS") {
            let hours: u64 = hours
                .parse()
                .map_err(|_| format!("PATHWISE_RETENTION_HOURS={hours:?} is not a whole number"))?;
            config.retention = (hours > 0).then(|| Duration::from_secs(hours * 3600));
        }
        if let Ok(project) = std::env::var("PATHWISE_PROJECT") {
            config.project = Some(project).filter(|p| !p.is_empty());
        }
        if let Ok(url) = std::env::var("PATHWISE_REMOTE") {
            let key = std::env::var("PATHWISE_KEY").ok().filter(|k| !k.is_empty());
            config.export.push(Export::Pathwise { url, key });
        }
        if let Ok(endpoint) = std::env::var("PATHWISE_OTLP_ENDPOINT") {
            let service =
                std::env::var("PATHWISE_SERVICE").unwrap_or_else(|_| "pathwise-app".into());
            config.export.push(Export::Otlp {
                endpoint,
                service,
                headers: Vec::new(),
            });
        }
        if let Ok(keep) = std::env::var("PATHWISE_KEEP_LOCAL") {
            config.keep_local = flag("PATHWISE_KEEP_LOCAL", &keep)?;
        }
        if let Ok(enabled) = std::env::var("PATHWISE_ENABLED") {
            config.enabled = flag("PATHWISE_ENABLED", &enabled)?;
        }
        if let Ok(capture) = std::env::var("PATHWISE_CAPTURE") {
            config.capture_switch.enabled = flag("PATHWISE_CAPTURE", &capture)?;
        }
        if let Ok(include) = std::env::var("PATHWISE_CAPTURE_INCLUDE") {
            config.capture_switch.include = pattern_list(&include);
        }
        if let Ok(exclude) = std::env::var("PATHWISE_CAPTURE_EXCLUDE") {
            config.capture_switch.exclude = pattern_list(&exclude);
        }
        if let Ok(keep) = std::env::var("PATHWISE_DB_FULL_STATEMENTS") {
            config.db_full_statements = flag("PATHWISE_DB_FULL_STATEMENTS", &keep)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every field; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(format!(
                "sample_rate must be within 0.0..=1.0, got {}",
                self.sample_rate
            ));
        }
        if self.flush_interval.is_zero() || self.flush_interval > Duration::from_secs(60) {
            return Err(format!(
                "flush_interval must be within (0, 60 s], got {:?}",
                self.flush_interval
            ));
        }
        if let Some(limit) = &self.trace_limit {
            limit.validate()?;
        }
        if self.queue_capacity < 1024 {
            return Err(format!(
                "queue_capacity must be at least 1024, got {}",
                self.queue_capacity
            ));
        }
        if self.retention.is_some_and(|r| r < Duration::from_secs(60)) {
            return Err(
                "retention must be at least one minute (or None to keep everything)".into(),
            );
        }
        if self.retention_interval.is_zero() {
            return Err("retention_interval must be positive".into());
        }
        if let Some(interval) = self.resource_interval
            && interval < Duration::from_millis(100)
        {
            return Err(format!(
                "resource_interval must be at least 100 ms (or None to turn sampling off), got {interval:?}"
            ));
        }
        if !self.keep_local && self.export.is_empty() {
            return Err(
                "keep_local is false but there is no export: records would go nowhere".into(),
            );
        }
        for export in &self.export {
            let url = match export {
                Export::Pathwise { url, .. } => url,
                Export::Otlp { endpoint, .. } => endpoint,
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "export URL {url:?} must start with http:// or https://"
                ));
            }
        }
        if self.capture.max_repr == 0 {
            return Err("capture.max_repr must be at least 1".into());
        }
        if self.db_path.as_os_str().is_empty() {
            return Err("db_path must not be empty".into());
        }
        if let Some(store) = &self.store
            && !store.starts_with("clickhouse://")
        {
            return Err(format!(
                "store {store:?} is not one Pathwise knows: give clickhouse://host:port/db or a SQLite file (sqlite:PATH)"
            ));
        }
        Ok(())
    }

    /// Where spill segments and the error lane live: `data_dir`, else `<db_path>.spool`, or
    /// `pathwise.spool` for a ClickHouse store.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            if self.store.is_some() {
                return PathBuf::from("pathwise.spool");
            }
            let mut dir = self.db_path.clone().into_os_string();
            dir.push(".spool");
            dir.into()
        })
    }
}
