//! Baselines kept in the store: reading them, saving learned ones, and accepting a shifted
//! operation's new level.

use serde::Serialize;

use super::{MonitorConfig, OperationReport, evaluate, representative_samples};
use crate::AnalysisError;
use crate::perf::baseline::{Baseline, Learning, learn};
use crate::rollups::load_node_buckets;
use pathwise_store::{BaselineRow, Reader, Window};

/// A baseline saved in the store (pinned ones are not re-learned).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StoredBaseline {
    pub name: String,
    pub version: i64,
    pub pinned: bool,
    pub learned_ns: i64,
    pub baseline: Baseline,
}

/// Why `accept` stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error(transparent)]
    Analysis(#[from] AnalysisError),
    #[error("no calls of {0:?} in the baseline or recent window")]
    Unknown(String),
    #[error("{0:?} has not shifted against its baseline: there is no new level to accept")]
    NotShifted(String),
    #[error("{name:?} since its shift began: {learning}")]
    TooFew { name: String, learning: Learning },
}

/// A baseline of `name` learned from its calls since its ongoing latency shift began (as
/// [`evaluate`] finds it at `now_ns`), to be saved so the new level is the baseline in force.
///
/// ```no_run
/// # fn demo(store: &dyn pathwise_store::Reader) {
/// use pathwise_analysis::monitoring::{MonitorConfig, accept};
/// match accept(store, 1_790_000_000_000_000_000, &MonitorConfig::default(), &[], "checkout.pay") {
///     Ok(row) => println!("new p50 {:.1} ms", row.p50),
///     Err(e) => eprintln!("{e}"),
/// }
/// # }
/// ```
pub fn accept(
    store: &dyn Reader,
    now_ns: i64,
    config: &MonitorConfig,
    stored: &[StoredBaseline],
    name: &str,
) -> Result<BaselineRow, AcceptError> {
    let reports = evaluate(store, now_ns, config, stored)?;
    let report = reports
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| AcceptError::Unknown(name.to_string()))?;
    let since_ns = report
        .shifted_since_ns
        .ok_or_else(|| AcceptError::NotShifted(name.to_string()))?;
    let window = Window {
        since_ns,
        until_ns: now_ns,
    };
    let samples = load_node_buckets(store, window)?
        .get(name)
        .map(|b| representative_samples(&b.sketch, config.max_samples))
        .unwrap_or_default();
    let baseline = learn(&samples, config.outliers, config.min_samples).map_err(|learning| {
        AcceptError::TooFew {
            name: name.to_string(),
            learning,
        }
    })?;
    Ok(row(name, &baseline, now_ns))
}

impl From<&BaselineRow> for StoredBaseline {
    fn from(row: &BaselineRow) -> Self {
        StoredBaseline {
            name: row.name.clone(),
            version: row.version,
            pinned: row.pinned,
            learned_ns: row.learned_ns,
            baseline: Baseline {
                samples: row.samples as usize,
                kept: row.kept as usize,
                outliers: row.outliers as usize,
                p50: row.p50,
                p95: row.p95,
                p99: row.p99,
                mean: row.mean,
                std_dev: row.std_dev,
                confidence: row.confidence,
            },
        }
    }
}

/// Rows to save for the operations whose baseline was learned in this evaluation (stored and
/// pinned ones are left alone); restrict to `only` when given.
pub fn learned_rows(
    reports: &[OperationReport],
    learned_ns: i64,
    only: Option<&str>,
) -> Vec<BaselineRow> {
    reports
        .iter()
        .filter(|r| r.baseline_source == "learned" && only.is_none_or(|name| r.name == name))
        .filter_map(|r| Some(row(&r.name, r.baseline.as_ref()?, learned_ns)))
        .collect()
}

/// The row that stores `b` as a new version of `name`'s baseline.
fn row(name: &str, b: &Baseline, learned_ns: i64) -> BaselineRow {
    BaselineRow {
        name: name.to_string(),
        version: 0,
        learned_ns,
        pinned: false,
        samples: b.samples as i64,
        kept: b.kept as i64,
        outliers: b.outliers as i64,
        p50: b.p50,
        p95: b.p95,
        p99: b.p99,
        mean: b.mean,
        std_dev: b.std_dev,
        confidence: b.confidence,
    }
}
