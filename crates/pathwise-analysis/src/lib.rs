//! Execution-path analytics over a Pathwise store: per node (span name) and per path (the
//! root→node chain) metrics from the writer's minute/hour rollups, rankings (hot, slow,
//! error-prone, time consumers), never-executed functions, optimisation hints, error patterns
//! by attribute, flame graphs, critical paths and the dependency graph.
//!
//! ```
//! use pathwise_analysis::{Analysis, Window};
//! let dir = tempfile::tempdir().unwrap();
//! let db = dir.path().join("p.db");
//! pathwise_store::SqliteStore::open(&db).unwrap();
//! let reader = pathwise_store::SqliteReader::open(&db).unwrap();
//! let analysis = Analysis::load(reader.connection(), Window::all()).unwrap();
//! assert!(analysis.hot_paths(10).is_empty());
//! ```

mod flame;
mod graph;
mod metrics;
pub mod monitoring;
mod patterns;
pub mod perf;
mod rankings;
pub mod report;
mod rollups;
pub mod snapshot;

pub use flame::{
    CriticalSpan, critical_path, diff_flamegraph_svg, trace_flamegraph_svg, window_flamegraph_svg,
};
pub use graph::{DependencyEdge, dependency_graph};
pub use metrics::{Analysis, Metrics};
pub use pathwise_store::sqlite::rollup::SKETCH_RELATIVE_ERROR;
pub use patterns::{AttributeValueStats, ErrorPatterns, error_patterns};

/// A time window `[since_ns, until_ns)` in Unix nanoseconds; rollups resolve it to whole
/// minutes (the edges are widened to the enclosing minutes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub since_ns: i64,
    pub until_ns: i64,
}

impl Window {
    /// Everything ever recorded.
    pub fn all() -> Self {
        Window {
            since_ns: 0,
            until_ns: i64::MAX,
        }
    }

    /// The last `duration` up to now.
    pub fn last(duration: std::time::Duration) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        Window {
            since_ns: now.saturating_sub(duration.as_nanos() as i64),
            until_ns: now,
        }
    }
}

/// Analytics failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("flame graph: {0}")]
    Flame(String),
    #[error("{0}")]
    Invalid(String),
}
