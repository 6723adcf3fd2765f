//! Spans whose latency heatmap is known by construction, written through the real SQLite
//! store twenty minutes before now.
//!
//! Minute M is the first whole minute of the fixture; each trace is a `job` root with one
//! `fetch` child:
//! - minute M+2: `fetch` of 1, 1, 3 and 300 ms;
//! - minute M+5: `fetch` of 30, 30 and 1000 ms (the 1000 ms one failed);
//! - minute M+7: `fetch` of 30 ms under another root, `other` (same node, another path).
//!
//! Over M..M+10 in 10 columns and 3 rows, the rows are [1, 10), [10, 100), [100, 1000] ms, so
//! the node `fetch` has column 2 = (3, 0, 1), column 5 = (0, 2, 1), column 7 = (0, 1, 0); the
//! path `job → fetch` the same without column 7.

use std::sync::Arc;

use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{Backend, PathList, WriteBatch};

const MS: i64 = 1_000_000;

/// The fixture's first minute, Unix ms.
pub struct LatencyGrid {
    pub first_minute_ms: u64,
}

/// The paths of the fixture's spans: `job`, `job → fetch`, `other`, `other → fetch`.
fn paths() -> PathList {
    let mut paths = PathList::default();
    for root in ["job", "other"] {
        let at = paths.push(0, root);
        paths.push(at, "fetch");
    }
    paths
}

/// A trace of `root` and its `fetch` child, with the path ids of [`paths`].
fn trace(root: &str, at_ms: u64, seed: u128, fetch_ms: i64, failed: bool) -> Vec<Record> {
    let root_path = if root == "job" { 1 } else { 3 };
    let id = TraceId::from_parts(at_ms, seed);
    let start = at_ms as i64 * MS;
    let mut parent = SpanRecord::new(id, 1, 0, root.to_string().into(), SpanKind::Function);
    parent.path = root_path;
    parent.start_ns = start;
    parent.duration_ns = ((fetch_ms + 1) * MS) as u64;
    let mut child = SpanRecord::new(id, 2, 1, "fetch".into(), SpanKind::Function);
    child.path = root_path + 1;
    child.start_ns = start;
    child.duration_ns = (fetch_ms * MS) as u64;
    if failed {
        child.status = Status::Error;
        parent.status = Status::Error;
    }
    vec![Record::Span(parent), Record::Span(child)]
}

/// Writes the fixture into `backend`.
pub fn write(backend: &Arc<dyn Backend>) -> LatencyGrid {
    let first = (super::db_queries::now_ms() / 60_000 - 20) * 60_000;
    let mut records = Vec::new();
    let spans = [
        ("job", 2, 1, false),
        ("job", 2, 1, false),
        ("job", 2, 3, false),
        ("job", 2, 300, false),
        ("job", 5, 30, false),
        ("job", 5, 30, false),
        ("job", 5, 1000, true),
        ("other", 7, 30, false),
    ];
    for (i, (root, minute, ms, failed)) in spans.into_iter().enumerate() {
        // Spread within the minute, clear of its edges.
        let at = first + minute * 60_000 + 1_000 + i as u64 * 100;
        records.extend(trace(root, at, 500 + i as u128, ms, failed));
    }
    let batch = WriteBatch {
        records: &records,
        cache: &[],
        stats: None,
    };
    backend
        .writer()
        .unwrap()
        .write_batch(&batch, &paths())
        .unwrap();
    LatencyGrid {
        first_minute_ms: first,
    }
}

/// A server over the heatmap fixture (written once per test binary) and its first minute.
pub fn server() -> &'static (tempfile::TempDir, String, LatencyGrid) {
    static SERVER: std::sync::OnceLock<(tempfile::TempDir, String, LatencyGrid)> =
        std::sync::OnceLock::new();
    SERVER.get_or_init(|| super::server_over("grid.db", write))
}
