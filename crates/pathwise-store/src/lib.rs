//! The storage API: the traits and types every backend implements, and nothing of any
//! backend (no SQL, no database client).
//!
//! - Write side: [`Store`], the only thing the pipeline knows about storage.
//! - Read side: [`ReadStore`] (traces, spans, registry, pipeline, resources, caches,
//!   baselines), [`RollupStore`] (rollups by window, raw recent spans, attribute patterns)
//!   and [`ScalingStore`] (a node's raw spans with their attributes or input, for scaling
//!   analysis), together [`Reader`]; alert state, history and silences in [`alerts::AlertStateStore`];
//!   the SQL rule as a backend capability, [`alerts::SqlRules`].
//! - [`Backend`] hands out readers, writers and alert stores, so a server holds one value
//!   whichever database it runs on.
//!
//! `pathwise-store-sqlite` (embedded, WAL) is the default backend; [`MemoryStore`] keeps
//! records in memory for tests and [`DiscardStore`] keeps nothing, for benchmarks.
//!
//! ```
//! use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
//! use pathwise_store::{MemoryStore, NoPaths, Store, WriteBatch};
//! let mut store = MemoryStore::default();
//! let span = SpanRecord::new(TraceId::from_parts(1, 1), 1, 0, "main".into(), SpanKind::Span);
//! store.write_batch(&WriteBatch { records: &[Record::Span(span)], ..WriteBatch::EMPTY }, &NoPaths).unwrap();
//! assert_eq!(store.records().len(), 1);
//! ```

pub mod alerts;
/// The query language, re-exported for the surfaces that parse queries.
pub use pathwise_query as query;

mod analytics;
mod backend;
mod baseline;
pub mod keys;
mod memory;
mod read;
pub mod rollup;
mod scaling;
mod storage;
mod window;

use pathwise_model::{Name, Record};

pub use analytics::{
    AttrValueKey, GroupAttributeSum, PathErrors, PathInfo, PathRollup, RollupKey, RollupStore,
    TraceSpan,
};
pub use backend::{Backend, Reader};
pub use baseline::BaselineRow;
pub use memory::{DiscardStore, MemoryStore};
pub use read::{
    CacheRow, CacheTotals, Cursor, ErrorRate, FunctionRow, PipelineStatsRow, ReadStore, SpanRow,
    SpanSkeleton, TraceFilter, TraceOrder, TracePage, TraceStats, TraceSummary, attr_json,
};
pub use scaling::{NodePayload, PayloadColumn, ScalingStore};
pub use storage::{Reclaimed, StorageUse};
pub use window::Window;

/// Storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend reported an error (its own message, prefixed with the backend's name).
    #[error("{0}")]
    Backend(String),
    /// The backend cannot do this (e.g. a store that keeps nothing asked for its contents).
    #[error("not supported by this store: {0}")]
    Unsupported(String),
    #[error("cannot open store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); upgrade pathwise"
    )]
    NewerSchema { found: i64, supported: i64 },
    #[error("invalid query: {0}")]
    InvalidQuery(String),
}

/// Maps the pipeline's process-local path ids to `(parent path id, span name)`.
pub trait PathDictionary {
    /// `None` for an unknown id; id 0 is the empty path and is never looked up.
    fn lookup(&self, path: u32) -> Option<(u32, Name)>;
}

/// A dictionary from a list: path id `i + 1` is entry `i`, `(parent path id, name)`; for
/// tests, fixtures and tools that build spans with paths of their own.
///
/// ```
/// use pathwise_store::{PathList, path_text};
/// let mut paths = PathList::default();
/// let root = paths.push(0, "api.handle");
/// let child = paths.push(root, "db.query");
/// assert_eq!(path_text(&paths, child, "db.query"), "api.handle → db.query");
/// ```
#[derive(Clone, Debug, Default)]
pub struct PathList(pub Vec<(u32, Name)>);

impl PathList {
    /// Adds a path under `parent` (0 for a root) and returns its id.
    pub fn push(&mut self, parent: u32, name: impl Into<Name>) -> u32 {
        self.0.push((parent, name.into()));
        self.0.len() as u32
    }
}

impl PathDictionary for PathList {
    fn lookup(&self, path: u32) -> Option<(u32, Name)> {
        self.0.get((path as usize).checked_sub(1)?).cloned()
    }
}

/// A dictionary that knows no paths: every span's path is just its own name.
pub struct NoPaths;

impl PathDictionary for NoPaths {
    fn lookup(&self, _path: u32) -> Option<(u32, Name)> {
        None
    }
}

/// A `#[monitor]`ed function known at link time, stored so "never executed" is exact.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FunctionInfo {
    pub name: Name,
    pub group: Option<Name>,
    pub module_path: Name,
    pub file: Name,
    pub line: u32,
    pub is_async: bool,
}

/// Cache hits and misses of one component since the previous delta.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheDelta {
    pub component: Name,
    pub hits: u64,
    pub misses: u64,
}

/// The pipeline's own counters at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PipelineStats {
    pub ts_ns: i64,
    /// Records handed to the pipeline.
    pub recorded: u64,
    /// Records committed to the store.
    pub written: u64,
    /// Records written to spill segments because the queue was full.
    pub spilled: u64,
    /// Records read back from spill segments or the error lane.
    pub replayed: u64,
    /// Records lost. Must stay 0; counted only when even the spill file cannot be written.
    pub dropped: u64,
    /// Records of traces that lost the sampling draw and held no error.
    pub sampled_out: u64,
    /// Records waiting in memory.
    pub queue_depth: u64,
    /// Age of the oldest record in the last committed batch, in nanoseconds.
    pub write_lag_ns: u64,
}

/// One unit of work for [`Store::write_batch`], written in one transaction.
#[derive(Clone, Copy)]
pub struct WriteBatch<'a> {
    pub records: &'a [Record],
    pub cache: &'a [CacheDelta],
    pub stats: Option<&'a PipelineStats>,
}

impl WriteBatch<'_> {
    /// A batch with nothing in it, for struct-update syntax.
    pub const EMPTY: WriteBatch<'static> = WriteBatch {
        records: &[],
        cache: &[],
        stats: None,
    };
}

/// The write side of a backend. Writes must be idempotent by `(trace_id, span_id)` because the
/// error lane and spill replay may deliver a record twice after a crash.
pub trait Store: Send {
    /// Writes a batch atomically.
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError>;

    /// Writes `records` alone, each span's path being its name (no dictionary): for tools,
    /// fixtures and tests that build records themselves.
    ///
    /// ```
    /// use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
    /// use pathwise_store::{MemoryStore, Store};
    /// let store = MemoryStore::default();
    /// let span = SpanRecord::new(TraceId::from_parts(1, 1), 1, 0, "main".into(), SpanKind::Span);
    /// store.clone().write_records(&[Record::Span(span)]).unwrap();
    /// assert_eq!(store.paths(), ["main"]);
    /// ```
    fn write_records(&mut self, records: &[Record]) -> Result<(), StoreError> {
        self.write_batch(
            &WriteBatch {
                records,
                ..WriteBatch::EMPTY
            },
            &NoPaths,
        )
    }

    /// Records the functions registered at link time (idempotent).
    fn register_functions(&mut self, functions: &[FunctionInfo]) -> Result<(), StoreError>;

    /// Deletes everything that started before `cutoff_unix_ms`; returns the rows removed.
    fn delete_before(&mut self, cutoff_unix_ms: u64) -> Result<u64, StoreError>;

    /// Saves a new version of a learned baseline (its `version` and `pinned` are ignored);
    /// returns the version number given.
    fn save_baseline(&mut self, baseline: &BaselineRow) -> Result<i64, StoreError> {
        let _ = baseline;
        Err(StoreError::Unsupported("baselines".into()))
    }

    /// Pins the newest baseline version of `name` (unpinning the others), or unpins all;
    /// `None` when the operation has no stored baseline.
    fn pin_baseline(&mut self, name: &str, pinned: bool) -> Result<Option<i64>, StoreError> {
        let _ = (name, pinned);
        Err(StoreError::Unsupported("baselines".into()))
    }

    /// Writes cache rows with the timestamps they carry, in one transaction where the backend
    /// has them. [`WriteBatch::cache`] stamps deltas with the time of the batch, which is
    /// right for the pipeline but would move another store's history to the time of a copy.
    /// Not idempotent: the caller (`pathwise migrate`) skips the rows the store holds.
    fn write_cache_rows(&mut self, rows: &[CacheRow]) -> Result<(), StoreError> {
        let _ = rows;
        Err(StoreError::Unsupported("cache rows".into()))
    }

    /// Writes pipeline statistics rows as read from another store, in one write rather than
    /// one batch each. Not idempotent on every backend: the caller skips the rows the store
    /// holds.
    fn write_pipeline_stats(&mut self, rows: &[PipelineStats]) -> Result<(), StoreError> {
        let _ = rows;
        Err(StoreError::Unsupported("pipeline statistics".into()))
    }

    /// The room the store takes now, without counting rows: what size-based retention
    /// compares with its limit after each deletion.
    fn storage_use(&mut self) -> Result<StorageUse, StoreError> {
        Err(StoreError::Unsupported("storage measurement".into()))
    }

    /// Gives space freed by deletions back to the file system where the backend can (SQLite:
    /// an incremental vacuum; `full`: a whole `VACUUM`). A backend that reclaims space by
    /// itself (ClickHouse merges) does nothing.
    fn reclaim(&mut self, full: bool) -> Result<Reclaimed, StoreError> {
        let _ = full;
        Ok(Reclaimed::default())
    }
}

/// Separator between path segments: `A → B → C`.
pub const PATH_SEPARATOR: &str = " → ";

/// The names of a path, root first; `[name]` alone when the dictionary does not know `path`
/// (how a path crosses a process boundary: ids are process-local, names are not).
///
/// ```
/// use pathwise_store::{PathList, path_segments};
/// let mut paths = PathList::default();
/// let root = paths.push(0, "api.handle");
/// let child = paths.push(root, "db.query");
/// assert_eq!(path_segments(&paths, child, "db.query"), vec!["api.handle", "db.query"]);
/// assert_eq!(path_segments(&paths, 99, "orphan"), vec!["orphan"]);
/// ```
pub fn path_segments(paths: &dyn PathDictionary, path: u32, name: &str) -> Vec<Name> {
    let mut segments = Vec::new();
    let mut current = path;
    while current != 0 && segments.len() < 1024 {
        match paths.lookup(current) {
            Some((parent, segment)) => {
                segments.push(segment);
                current = parent;
            }
            None => break,
        }
    }
    if segments.is_empty() {
        return vec![Name::Owned(name.to_string())];
    }
    segments.reverse();
    segments
}

/// The full text of a path, root first; `name` alone when the dictionary does not know `path`.
pub fn path_text(paths: &dyn PathDictionary, path: u32, name: &str) -> String {
    path_segments(paths, path, name).join(PATH_SEPARATOR)
}
