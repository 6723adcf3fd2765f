//! Scaling analysis: how the cost of one node (span name) grows with the size of its input.
//!
//! The size of each call comes from a span attribute or a captured argument ([`SizeField`]);
//! the newest calls of the node in the window (at most a limit) are read raw through the
//! store's [`ScalingStore`], and a power law is fitted to their durations
//! ([`perf::scaling`](crate::perf::scaling): the exponent with its 95 % interval, the growth
//! class, the refusals). Failed calls are left out: a call that fails early says nothing about
//! how the work grows. The answer also carries the points (at most [`MAX_POINTS`], spread
//! evenly over the sizes) for a scatter plot.
//!
//! ```
//! use pathwise_analysis::Window;
//! use pathwise_analysis::scaling::{SizeField, scaling};
//! let dir = tempfile::tempdir().unwrap();
//! let db = dir.path().join("p.db");
//! pathwise_store_sqlite::SqliteStore::open(&db).unwrap();
//! let reader = pathwise_store_sqlite::SqliteReader::open(&db).unwrap();
//! let size = SizeField::parse("dataset_count").unwrap();
//! let report = scaling(&reader, "Catalog.merge", &size, Window::all(), 5000).unwrap();
//! assert!(report.fit.is_none());
//! assert!(report.refused.unwrap().contains("no calls of Catalog.merge"));
//! ```

mod render;
mod size;

use std::collections::BTreeMap;

use pathwise_store::{NodePayload, PayloadColumn, ScalingStore, Window};
use serde::Serialize;

use crate::AnalysisError;
use crate::perf::scaling::{PowerLaw, fit_power_law};

pub use render::{add_to_report, render, to_json};
pub use size::{SizeField, size_of};

/// Calls read by default: enough for a tight interval, bounded in memory.
pub const DEFAULT_LIMIT: usize = 5000;
/// Most points handed out for a scatter plot.
pub const MAX_POINTS: usize = 500;
/// Calls sampled per column when listing a node's candidate size fields.
pub const FIELD_SAMPLE: usize = 200;

/// One call: its size and duration.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ScalingPoint {
    pub size: f64,
    pub duration_ms: f64,
}

/// The scaling of one node by one size field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScalingReport {
    pub node: String,
    /// The size field in its text form (`dataset_count`, `input.items`).
    pub size: String,
    /// `attribute` or `input`.
    pub source: &'static str,
    /// The attribute or argument name.
    pub field: String,
    /// Calls read: the newest calls of the node in the window that carry attributes (or
    /// captured input), at most `limit`.
    pub calls: usize,
    pub limit: usize,
    /// Calls left out because they failed.
    pub failed: usize,
    /// Calls without the field, or whose value is not a size.
    pub without_size: usize,
    /// Calls whose size or duration is not above zero (a log-log fit cannot place them).
    pub not_positive: usize,
    /// Calls fitted.
    pub used: usize,
    /// The fitted power law, when there was a basis for one.
    pub fit: Option<PowerLaw>,
    /// Why there is no fit, in words.
    pub refused: Option<String>,
    /// The fitted calls (at most [`MAX_POINTS`], spread evenly over the sizes), durations in ms.
    pub points: Vec<ScalingPoint>,
}

impl ScalingReport {
    /// The report for calls already read (`rows`, as [`ScalingStore::node_payloads`] returns
    /// them for the field's column).
    ///
    /// ```
    /// use pathwise_analysis::scaling::{ScalingReport, SizeField};
    /// use pathwise_store::NodePayload;
    /// let rows: Vec<NodePayload> = (1..=40).map(|n| NodePayload {
    ///     start_ns: 0, duration_ns: 1_000 * n * n, failed: false, json: format!(r#"{{"n":{n}}}"#),
    /// }).collect();
    /// let report = ScalingReport::from_rows("sort", &SizeField::parse("n").unwrap(), &rows, 5000);
    /// let fit = report.fit.unwrap();
    /// assert!((fit.exponent - 2.0).abs() < 1e-9 && fit.super_linear);
    /// ```
    pub fn from_rows(
        node: &str,
        size: &SizeField,
        rows: &[NodePayload],
        limit: usize,
    ) -> ScalingReport {
        let (mut failed, mut without_size, mut not_positive) = (0, 0, 0);
        let mut points = Vec::with_capacity(rows.len());
        for row in rows {
            if row.failed {
                failed += 1;
                continue;
            }
            let Some(value) = size.size_in(&row.json) else {
                without_size += 1;
                continue;
            };
            if value > 0.0 && row.duration_ns > 0 {
                points.push(ScalingPoint {
                    size: value,
                    duration_ms: row.duration_ns as f64 / 1e6,
                });
            } else {
                not_positive += 1;
            }
        }
        let pairs: Vec<(f64, f64)> = points.iter().map(|p| (p.size, p.duration_ms)).collect();
        let (fit, refused) = match fit_power_law(&pairs) {
            Ok(fit) => (Some(fit), None),
            Err(_) if rows.is_empty() => (
                None,
                Some(format!(
                    "no calls of {node} with {} in the window",
                    match size.column() {
                        PayloadColumn::Attrs => "attributes",
                        PayloadColumn::Input => "captured input",
                    }
                )),
            ),
            Err(_) if points.is_empty() && without_size == rows.len() - failed => (
                None,
                Some(format!(
                    "none of the {without_size} calls has a size in {size} (a number, an array \
                     or a captured collection)"
                )),
            ),
            Err(refusal) if without_size > 0 => (
                None,
                Some(format!(
                    "{refusal} ({without_size} of {} calls have no size in {size})",
                    rows.len()
                )),
            ),
            Err(refusal) => (None, Some(refusal.to_string())),
        };
        ScalingReport {
            node: node.to_string(),
            size: size.to_string(),
            source: size.source(),
            field: size.key().to_string(),
            calls: rows.len(),
            limit,
            failed,
            without_size,
            not_positive,
            used: points.len(),
            fit,
            refused,
            points: spread(points, MAX_POINTS),
        }
    }
}

/// At most `max` of `points`, sorted by size and taken at even steps, so every size range
/// keeps its share and the same calls give the same plot.
fn spread(mut points: Vec<ScalingPoint>, max: usize) -> Vec<ScalingPoint> {
    points.sort_by(|a, b| {
        a.size
            .total_cmp(&b.size)
            .then(a.duration_ms.total_cmp(&b.duration_ms))
    });
    if points.len() <= max {
        return points;
    }
    let total = points.len();
    (0..max).map(|i| points[i * total / max]).collect()
}

/// The scaling of `node` by `size` over the newest `limit` calls in the window.
pub fn scaling(
    store: &(impl ScalingStore + ?Sized),
    node: &str,
    size: &SizeField,
    window: Window,
    limit: usize,
) -> Result<ScalingReport, AnalysisError> {
    let rows = store.node_payloads(node, size.column(), window, limit)?;
    Ok(ScalingReport::from_rows(node, size, &rows, limit))
}

/// A field of a node's calls that holds a size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SizeCandidate {
    /// The field in the text form `size=` takes.
    pub size: String,
    /// `attribute` or `input`.
    pub source: &'static str,
    /// Sampled calls in which it is a size.
    pub calls: usize,
    pub min: f64,
    pub max: f64,
    /// The sizes span at least the factor an exponent needs.
    pub enough_range: bool,
}

/// The attributes and captured arguments of `node`'s newest calls (a sample of
/// [`FIELD_SAMPLE`] per column) that hold a size: those whose sizes span enough range first,
/// then by how many calls carry them, then by name.
///
/// ```
/// use pathwise_analysis::{Window, scaling::size_fields};
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// pathwise_store_sqlite::SqliteStore::open(&db).unwrap();
/// let reader = pathwise_store_sqlite::SqliteReader::open(&db).unwrap();
/// assert!(size_fields(&reader, "any", Window::all()).unwrap().is_empty());
/// ```
pub fn size_fields(
    store: &(impl ScalingStore + ?Sized),
    node: &str,
    window: Window,
) -> Result<Vec<SizeCandidate>, AnalysisError> {
    let mut found: BTreeMap<String, SizeCandidate> = BTreeMap::new();
    for column in [PayloadColumn::Attrs, PayloadColumn::Input] {
        for row in store.node_payloads(node, column, window, FIELD_SAMPLE)? {
            let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(&row.json) else {
                continue;
            };
            for (key, value) in &fields {
                let Some(size) = size_of(value) else { continue };
                let field = match column {
                    PayloadColumn::Attrs => SizeField::Attribute(key.clone()),
                    PayloadColumn::Input => SizeField::Input(key.clone()),
                };
                let text = field.to_string();
                let entry = found.entry(text.clone()).or_insert(SizeCandidate {
                    size: text,
                    source: field.source(),
                    calls: 0,
                    min: size,
                    max: size,
                    enough_range: false,
                });
                entry.calls += 1;
                entry.min = entry.min.min(size);
                entry.max = entry.max.max(size);
            }
        }
    }
    let mut candidates: Vec<SizeCandidate> = found
        .into_values()
        .map(|mut c| {
            c.enough_range = c.min > 0.0 && c.max / c.min >= crate::perf::scaling::MIN_SIZE_RATIO;
            c
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.enough_range
            .cmp(&a.enough_range)
            .then(b.calls.cmp(&a.calls))
            .then_with(|| a.size.cmp(&b.size))
    });
    Ok(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(duration_ns: i64, failed: bool, json: &str) -> NodePayload {
        NodePayload {
            start_ns: 0,
            duration_ns,
            failed,
            json: json.into(),
        }
    }

    #[test]
    fn failed_sizeless_and_zero_calls_are_counted_and_left_out() {
        let mut rows: Vec<NodePayload> = (1..=12)
            .map(|n| row(1_000_000 * n, false, &format!(r#"{{"n":{n}}}"#)))
            .collect();
        rows.push(row(5, true, r#"{"n":3}"#));
        rows.push(row(5, false, r#"{"m":3}"#));
        rows.push(row(5, false, r#"{"n":"three"}"#));
        rows.push(row(0, false, r#"{"n":3}"#));
        rows.push(row(5, false, r#"{"n":0}"#));
        let report = ScalingReport::from_rows("x", &SizeField::parse("n").unwrap(), &rows, 99);
        assert_eq!(
            (
                report.calls,
                report.failed,
                report.without_size,
                report.not_positive,
                report.used
            ),
            (17, 1, 2, 2, 12)
        );
        let fit = report.fit.unwrap();
        assert!((fit.exponent - 1.0).abs() < 1e-9, "{}", fit.summary);
        assert_eq!(report.points.len(), 12);
        assert_eq!(
            report.points[0],
            ScalingPoint {
                size: 1.0,
                duration_ms: 1.0
            }
        );
        assert_eq!(
            (report.source, report.field.as_str(), report.limit),
            ("attribute", "n", 99)
        );
    }

    #[test]
    fn refusals_say_what_is_missing() {
        let size = SizeField::parse("input.items").unwrap();
        let none = ScalingReport::from_rows("load", &size, &[], 10);
        assert_eq!(
            none.refused.as_deref(),
            Some("no calls of load with captured input in the window")
        );
        let mut sizeless: Vec<NodePayload> =
            (0..20).map(|_| row(5, false, r#"{"other":1}"#)).collect();
        let report = ScalingReport::from_rows("load", &size, &sizeless, 10);
        assert_eq!(
            report.refused.as_deref(),
            Some(
                "none of the 20 calls has a size in input.items (a number, an array or a \
                 captured collection)"
            )
        );
        sizeless.extend((1..=5).map(|n| row(5, false, &format!(r#"{{"items":{n}}}"#))));
        let reason = ScalingReport::from_rows("load", &size, &sizeless, 10)
            .refused
            .unwrap();
        assert!(reason.contains("only 5 usable calls"), "{reason}");
        assert!(
            reason.contains("20 of 25 calls have no size in input.items"),
            "{reason}"
        );
    }

    #[test]
    fn points_are_spread_over_the_sizes() {
        let points: Vec<ScalingPoint> = (0..2000)
            .rev()
            .map(|i| ScalingPoint {
                size: f64::from(i),
                duration_ms: 1.0,
            })
            .collect();
        let kept = spread(points, 500);
        assert_eq!(kept.len(), 500);
        assert_eq!(
            (kept[0].size, kept[1].size, kept[499].size),
            (0.0, 4.0, 1996.0)
        );
    }
}
