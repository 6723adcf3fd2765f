//! How much room a store takes and what it holds: the database-size alert signal, size-based
//! retention and `pathwise db stats` read it, each backend measuring itself its own way.

use serde::Serialize;

/// The room a store takes.
///
/// ```
/// use pathwise_store::StorageUse;
/// let usage = StorageUse { file_bytes: 10 << 20, used_bytes: 8 << 20, ..StorageUse::default() };
/// assert!(usage.used_bytes <= usage.file_bytes);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StorageUse {
    /// Bytes on disk: the database file and its write-ahead log (SQLite), or the active parts
    /// of every table on every shard (ClickHouse).
    pub file_bytes: u64,
    /// Bytes holding data: what size-based retention compares with its limit (SQLite: the
    /// pages in use, whatever the log holds at the moment).
    pub used_bytes: u64,
    /// Bytes the store holds free for reuse (SQLite's free pages): what a vacuum can give
    /// back to the file system.
    pub free_bytes: u64,
    /// Start of the oldest trace kept (Unix ms), if any.
    pub oldest_trace_ms: Option<u64>,
    /// Start of the newest trace kept (Unix ms), if any.
    pub newest_trace_ms: Option<u64>,
    /// Rows per table, largest first, where the backend counts them cheaply.
    pub tables: Vec<(String, u64)>,
    /// How free space goes back to the file system (`"incremental"`, `"full vacuum only"`,
    /// `"merges"`).
    pub reclaim: String,
}

/// What [`Store::reclaim`](crate::Store::reclaim) gave back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reclaimed {
    pub bytes_before: u64,
    pub bytes_after: u64,
}
