//! Execution-path analytics over a Pathwise store: per node (span name) and per path (the
//! root→node chain) metrics from the writer's minute/hour rollups, rankings (hot, slow,
//! error-prone, time consumers), never-executed functions, optimisation hints, error patterns
//! by attribute, flame graphs, critical paths, the dependency graph, decision funnels, database queries
//! (per normalised statement, and the slow-query log) and two traces compared path by path.
//!
//! ```
//! use pathwise_analysis::{Analysis, Window};
//! let dir = tempfile::tempdir().unwrap();
//! let db = dir.path().join("p.db");
//! pathwise_store_sqlite::SqliteStore::open(&db).unwrap();
//! let reader = pathwise_store_sqlite::SqliteReader::open(&db).unwrap();
//! let analysis = Analysis::load(&reader, Window::all()).unwrap();
//! assert!(analysis.hot_paths(10).is_empty());
//! ```

mod anchor;
pub mod compare;
mod critical;
mod flame;
pub mod funnel;
mod graph;
pub mod heatmap;
pub mod llm_cost;
mod metrics;
pub mod monitoring;
mod patterns;
pub mod perf;
pub mod queries;
mod rankings;
pub mod report;
mod rollups;
pub mod scaling;
pub mod snapshot;

pub use critical::{CriticalSegment, CriticalSpan, critical_path, critical_segments};
pub use flame::{diff_flamegraph_svg, trace_flamegraph_svg, window_flamegraph_svg};
pub use graph::{DependencyEdge, dependency_graph};
pub use metrics::{Analysis, Metrics};
pub use pathwise_store::Window;
pub use pathwise_store::rollup::SKETCH_RELATIVE_ERROR;
pub use patterns::{
    AttributeKey, AttributeValueStats, ErrorPatterns, attribute_keys, error_patterns,
    top_error_patterns,
};

/// Analytics failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("store: {0}")]
    Store(#[from] pathwise_store::StoreError),
    #[error("flame graph: {0}")]
    Flame(String),
    #[error("{0}")]
    Invalid(String),
}
