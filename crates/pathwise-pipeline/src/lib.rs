//! The recording pipeline: how a finished span gets from the thread that made it into the
//! store without slowing that thread down and without ever being dropped.
//!
//! ```text
//! span end ─► per-thread buffer ──(batch)──► bounded queue ──► writer thread ──► Store
//!                 │                              │ full                 ▲
//!                 │ error span                   └─► spill segments ────┘ (replayed in order)
//!                 └─► error lane file (written before the call returns) ─┘
//! ```
//!
//! ```
//! use pathwise_model::{SpanKind, SpanRecord, TraceId};
//! use pathwise_pipeline::{PipelineConfig, install};
//! use pathwise_store::MemoryStore;
//! let dir = tempfile::tempdir().unwrap();
//! let store = MemoryStore::default();
//! let pipeline = install(PipelineConfig::new(dir.path()), Box::new(store.clone())).unwrap();
//! // Trace ids begin with the start time; a 1970 id would fall to the 7-day retention at once.
//! let now_ms = pathwise_pipeline::clock().wall_now_ns() as u64 / 1_000_000;
//! let trace = TraceId::from_parts(now_ms, 1);
//! pathwise_pipeline::submit(SpanRecord::new(trace, 1, 0, "main".into(), SpanKind::Span));
//! pathwise_pipeline::flush_thread();
//! pipeline.shutdown();
//! assert_eq!(store.records().len(), 1);
//! ```

mod batch;
pub mod cache;
mod clock;
mod fork;
mod handover;
mod lane;
mod local;
pub mod paths;
mod privacy;
mod reserve;
mod sampling;
mod shared;
mod spill;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use pathwise_store::{FunctionInfo, PipelineStats, Store};

pub use batch::BatchPipeline;
pub use clock::{Clock, clock};
pub use handover::available as timed_handover_available;
pub use local::{
    SubmitError, flush_thread, late_records, submit, submit_batch, submit_error, submit_now,
};
pub use privacy::{HASHED_PREFIX, Privacy};

use shared::Shared;

/// How the pipeline behaves. Every field has a sensible default.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Where spill segments and the error lane live.
    pub data_dir: PathBuf,
    /// The writer commits at least this often.
    pub flush_interval: Duration,
    /// Records held in memory before producers spill to disk.
    pub queue_capacity: usize,
    /// Records a thread buffers before handing them over.
    pub thread_batch: usize,
    /// How often the writer takes the records waiting in threads' buffers, so that a span is
    /// stored soon after it ends even on a thread that then goes quiet under an open root.
    pub handover_interval: Duration,
    /// How often pipeline statistics are stored.
    pub stats_interval: Duration,
    /// Whether this pipeline stores its statistics (and cache counters) at all. A server that
    /// records ingested spans into a store an application also writes to turns it off, so the
    /// dashboard's pipeline figures stay the application's.
    pub store_stats: bool,
    /// Data older than this is deleted; `None` keeps everything.
    pub retention: Option<Duration>,
    /// When the store holds more than this many bytes, its oldest hours are deleted until it
    /// holds less (checked with age-based retention); `None`: no size limit.
    pub retention_bytes: Option<u64>,
    /// How often retention runs.
    pub retention_interval: Duration,
    /// Functions registered at link time, stored at start-up.
    pub functions: Vec<FunctionInfo>,
    /// How long shutdown may drain a backlog; past it, what is left stays in the spill for the
    /// next start (nothing is lost). `None` drains everything, however long it takes.
    pub shutdown_timeout: Option<Duration>,
    /// Memory (estimated) for error spans that neither the store nor the spill can take — a
    /// full disk: they wait here and are offered to the store again every round, while other
    /// records are counted as dropped. Past it, error spans are dropped (and counted) too.
    pub error_reserve_bytes: usize,
    /// Attributes and captured fields hashed or dropped as records enter the pipeline, so no
    /// file the pipeline or the store writes holds them; `None` records values as given.
    pub privacy: Option<Privacy>,
}

impl PipelineConfig {
    /// Defaults, with spill files and the error lane under `data_dir`.
    pub fn new(data_dir: impl AsRef<Path>) -> Self {
        PipelineConfig {
            data_dir: data_dir.as_ref().to_path_buf(),
            flush_interval: Duration::from_millis(100),
            queue_capacity: 262_144,
            thread_batch: 1024,
            handover_interval: Duration::from_millis(250),
            stats_interval: Duration::from_secs(1),
            store_stats: true,
            retention: Some(Duration::from_secs(7 * 24 * 3600)),
            retention_bytes: None,
            retention_interval: Duration::from_secs(3600),
            functions: Vec::new(),
            shutdown_timeout: Some(Duration::from_secs(5)),
            error_reserve_bytes: 64 << 20,
            privacy: None,
        }
    }
}

/// The pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("a pipeline is already running in this process; shut it down first")]
    AlreadyRunning,
    #[error("invalid pipeline configuration: {0}")]
    InvalidConfig(String),
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// Another process (or a pipeline not yet shut down) records into this directory: two
    /// writers would replay and delete each other's files.
    #[error(
        "data directory {path} is in use by {}; give this process its own data directory",
        holder.map_or_else(|| "another process".to_string(), |pid| format!("process {pid}"))
    )]
    DataDirInUse { path: String, holder: Option<u32> },
    #[error(transparent)]
    Store(#[from] pathwise_store::StoreError),
}

static CURRENT: RwLock<Option<Arc<Shared>>> = RwLock::new(None);

/// The running pipeline; dropping it shuts it down (flushing everything).
pub struct PipelineHandle {
    shared: Option<Arc<Shared>>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// The process that started it: a forked child's copy of the handle must not join a
    /// writer thread that only its parent has.
    owner: u32,
    _lock: fork::DirLock,
}

/// Starts the writer thread and makes the pipeline the process's destination for records.
/// Records left by a previous process (spill segments, error lane) are replayed first.
pub fn install(
    config: PipelineConfig,
    store: Box<dyn Store>,
) -> Result<PipelineHandle, PipelineError> {
    check_config(&config)?;
    let mut current = CURRENT.write();
    if current.is_some() {
        return Err(PipelineError::AlreadyRunning);
    }
    let lock = fork::DirLock::acquire(&config.data_dir)?;
    let privacy = privacy_filter(&config)?;
    privacy::install(privacy);
    fork::watch_forks();
    clock(); // calibrate before the first span, not inside it
    let shared = Arc::new(Shared::new(config, true));
    let writer = writer::spawn(shared.clone(), store).map_err(|source| PipelineError::DataDir {
        path: "writer thread".into(),
        source,
    })?;
    local::set_thread_batch(shared.config.thread_batch);
    *current = Some(shared.clone());
    Ok(PipelineHandle {
        shared: Some(shared),
        writer: Some(writer),
        owner: std::process::id(),
        _lock: lock,
    })
}

/// Refuses a configuration no pipeline can run with, and makes the data directory.
fn check_config(config: &PipelineConfig) -> Result<(), PipelineError> {
    if config.queue_capacity == 0 || config.thread_batch == 0 {
        return Err(PipelineError::InvalidConfig(
            "queue_capacity and thread_batch must be at least 1".into(),
        ));
    }
    if config.flush_interval.is_zero() {
        return Err(PipelineError::InvalidConfig(
            "flush_interval must be positive".into(),
        ));
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| PipelineError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })
}

/// The configured privacy rules, compiled with their key (kept in the data directory).
fn privacy_filter(
    config: &PipelineConfig,
) -> Result<Option<privacy::PrivacyFilter>, PipelineError> {
    config
        .privacy
        .as_ref()
        .map(|privacy| {
            privacy::PrivacyFilter::new(privacy, &config.data_dir).map_err(|source| {
                PipelineError::DataDir {
                    path: config.data_dir.join("privacy.key").display().to_string(),
                    source,
                }
            })
        })
        .transpose()
}

/// Whether a pipeline is running (records made while none is are discarded).
#[inline]
pub fn is_running() -> bool {
    local::enabled()
}

impl PipelineHandle {
    /// Hands this thread's buffer over and waits until everything recorded so far is committed
    /// (or `timeout` passes). Returns `true` when fully flushed.
    pub fn flush(&self, timeout: Duration) -> bool {
        flush_thread();
        self.shared.as_ref().is_none_or(|s| s.flush(timeout))
    }

    /// Current counters.
    pub fn stats(&self) -> PipelineStats {
        self.shared.as_ref().map(|s| s.stats()).unwrap_or_default()
    }

    /// Stops accepting records, writes everything pending and stops the writer.
    pub fn shutdown(mut self) -> PipelineStats {
        self.stop()
    }

    fn stop(&mut self) -> PipelineStats {
        if std::process::id() != self.owner {
            // A forked child's copy: the parent's pipeline, left to the parent.
            std::mem::forget(self.writer.take());
            std::mem::forget(self.shared.take());
            return PipelineStats::default();
        }
        flush_thread();
        let Some(shared) = self.shared.take() else {
            return PipelineStats::default();
        };
        {
            let mut current = CURRENT.write();
            if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, &shared)) {
                *current = None;
            }
            local::set_enabled(false);
            privacy::install(None);
        }
        shared.begin_shutdown();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        shared.stats()
    }
}

impl Drop for PipelineHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until everything queued so far by any producer is committed, or `timeout` passes;
/// `true` when committed (also when no pipeline runs: there is nothing to wait for).
pub fn flush_committed(timeout: Duration) -> bool {
    let shared = CURRENT.read().clone();
    shared.is_none_or(|s| s.flush(timeout))
}

/// Registers functions with the running pipeline's store at the writer's next round (a
/// [`flush_committed`] after this call covers them); for functions that come into being after
/// start-up, such as a Python module's, decorated when it is imported. `false` when no
/// pipeline runs.
///
/// ```
/// use pathwise_store::FunctionInfo;
/// let info = FunctionInfo {
///     name: "fetch".into(),
///     group: None,
///     module_path: "app::db".into(),
///     file: "src/db.rs".into(),
///     line: 12,
///     is_async: false,
/// };
/// assert!(!pathwise_pipeline::register_functions(vec![info])); // nothing runs here
/// ```
pub fn register_functions(functions: Vec<FunctionInfo>) -> bool {
    let Some(shared) = CURRENT.read().clone() else {
        return false;
    };
    shared.functions.lock().extend(functions);
    true
}

/// Error spans the running pipeline holds in memory because neither the store nor the spill
/// could take them (a full disk); they are stored once there is room. 0 when none is running.
///
/// ```
/// assert_eq!(pathwise_pipeline::reserved_errors(), 0);
/// ```
pub fn reserved_errors() -> u64 {
    CURRENT.read().as_ref().map_or(0, |s| {
        s.counters
            .reserved
            .load(std::sync::atomic::Ordering::Relaxed)
    })
}

/// Counters of the running pipeline, if any.
pub fn stats() -> Option<PipelineStats> {
    CURRENT.read().as_ref().map(|s| s.stats())
}
