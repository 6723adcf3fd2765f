//! Stored, versioned, pinnable latency baselines.

use serde::Serialize;

/// One stored baseline version. Times are in milliseconds.
///
/// ```
/// let row = pathwise_store::BaselineRow { name: "search".into(), version: 1, learned_ns: 0,
///     pinned: false, samples: 100, kept: 98, outliers: 2, p50: 10.0, p95: 20.0, p99: 30.0,
///     mean: 11.0, std_dev: 3.0, confidence: 0.9 };
/// assert_eq!(row.samples - row.kept, row.outliers);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BaselineRow {
    pub name: String,
    pub version: i64,
    pub learned_ns: i64,
    pub pinned: bool,
    pub samples: i64,
    pub kept: i64,
    pub outliers: i64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
    pub std_dev: f64,
    pub confidence: f64,
}
