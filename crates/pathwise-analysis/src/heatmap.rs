//! Latency heatmaps from the minute rollups: time across, duration up, colour = how many
//! calls. Each column merges the minute sketches it covers; a cell's count is read off the
//! merged sketch (values below the row's upper edge minus those below its lower edge), so any
//! window costs the rollups it covers, never the raw spans, and a cell's edges hold to the
//! sketches' 1 % relative accuracy. Also the slowest-steps heatmap of decision traces: one row
//! per step, colour = the step's p95 in that column.
//!
//! ```
//! use pathwise_analysis::heatmap::duration_edges;
//! let edges = duration_edges(1_000_000, 1_000_000_000, 3);
//! assert_eq!(edges.len(), 4);
//! assert!((edges[1] as f64 - 1e7).abs() < 1e3 && edges[3] == 1_000_000_000);
//! ```

use pathwise_store::rollup::{Bucket, NS_PER_MINUTE};
use pathwise_store::{Reader, RollupKey, Window};
use serde::Serialize;
use sketches_ddsketch::DDSketch;

use crate::AnalysisError;

/// Most columns and rows a heatmap has.
pub const MAX_COLUMNS: usize = 240;
pub const MAX_ROWS: usize = 60;
/// Recent traces read to learn a decision trace's steps.
const STEP_SAMPLE: usize = 20;

/// A latency heatmap of one node or path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Heatmap {
    /// Start of the first column, ns since the epoch (a whole minute).
    pub since_ns: i64,
    /// Width of every column, ns (whole minutes).
    pub column_ns: i64,
    /// Row edges, ns, ascending: row `r` holds durations in `[edges[r], edges[r + 1])`, the
    /// last row also its upper edge. Log-spaced from the window's fastest to slowest call.
    pub edges_ns: Vec<i64>,
    /// `cells[c][r]`: calls of column `c` in row `r`.
    pub cells: Vec<Vec<u64>>,
    /// Calls and failed calls per column.
    pub calls: Vec<u64>,
    pub errors: Vec<u64>,
    /// The largest cell.
    pub max_cell: u64,
}

/// `rows + 1` edges log-spaced from `min_ns` to `max_ns` (both kept exactly); one row when the
/// two are equal.
pub fn duration_edges(min_ns: i64, max_ns: i64, rows: usize) -> Vec<i64> {
    let (lo, hi) = (min_ns.max(1), max_ns.max(min_ns.max(1)));
    if hi == lo || rows <= 1 {
        return vec![lo, hi];
    }
    let ratio = (hi as f64 / lo as f64).ln();
    let mut edges: Vec<i64> = (0..=rows)
        .map(|k| (lo as f64 * (ratio * k as f64 / rows as f64).exp()).round() as i64)
        .collect();
    edges[0] = lo;
    edges[rows] = hi;
    edges.dedup();
    edges
}

/// The `k`-th smallest value (0-based) the sketch holds, to its accuracy.
fn value_at(sketch: &DDSketch, k: usize, n: usize) -> f64 {
    if k + 1 >= n {
        return sketch.max().unwrap_or(0.0);
    }
    // The sketch ranks `floor(q × (n − 1))`: aiming at the middle of rank k lands on k.
    let q = (k as f64 + 0.5) / (n - 1) as f64;
    sketch.quantile(q.min(1.0)).ok().flatten().unwrap_or(0.0)
}

/// How many values the sketch holds below `v`.
fn count_below(sketch: &DDSketch, v: f64) -> usize {
    let n = sketch.count();
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if value_at(sketch, mid, n) < v {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The grid's columns over `window` (its open end at `now_ns`): first minute, minutes per
/// column, column count.
fn columns_of(window: Window, now_ns: i64, columns: usize) -> (i64, i64, usize) {
    let first = window.since_ns.max(0).div_euclid(NS_PER_MINUTE);
    let until = window.until_ns.min(now_ns).max(window.since_ns);
    let last = (until - 1).max(window.since_ns).div_euclid(NS_PER_MINUTE);
    let minutes = (last - first + 1).max(1);
    let per_column = ((minutes + columns as i64 - 1) / columns.max(1) as i64).max(1);
    let count = ((minutes + per_column - 1) / per_column) as usize;
    (first, per_column, count)
}

/// Minute buckets merged into columns.
fn merge_columns(minutes: &[(i64, Bucket)], first: i64, per: i64, count: usize) -> Vec<Bucket> {
    let mut merged = vec![Bucket::new(); count];
    for (minute, bucket) in minutes {
        let at = (minute - first).div_euclid(per);
        if (0..count as i64).contains(&at) {
            merged[at as usize].merge(bucket);
        }
    }
    merged
}

/// The heatmap of `of` over `window` with at most `columns` × `rows` cells; `now_ns` ends an
/// open window.
pub fn latency_heatmap(
    store: &dyn Reader,
    of: RollupKey<'_>,
    window: Window,
    now_ns: i64,
    columns: usize,
    rows: usize,
) -> Result<Heatmap, AnalysisError> {
    let (first, per, count) = columns_of(window, now_ns, columns.clamp(1, MAX_COLUMNS));
    let minutes = store.minutes_of(window, of)?;
    let merged = merge_columns(&minutes, first, per, count);
    let seen = merged.iter().filter(|b| b.calls > 0);
    let min_ns = seen.clone().map(|b| b.min_ns).min().unwrap_or(1);
    let max_ns = seen.map(|b| b.max_ns).max().unwrap_or(1);
    let edges_ns = duration_edges(min_ns, max_ns, rows.clamp(1, MAX_ROWS));
    let cells: Vec<Vec<u64>> = merged
        .iter()
        .map(|b| {
            if b.calls == 0 {
                return vec![0; edges_ns.len() - 1];
            }
            let n = b.sketch.count();
            let below: Vec<usize> = edges_ns[1..edges_ns.len() - 1]
                .iter()
                .map(|&e| count_below(&b.sketch, e as f64))
                .chain([n])
                .collect();
            let mut previous = 0;
            below
                .into_iter()
                .map(|b| {
                    let cell = b.saturating_sub(previous) as u64;
                    previous = previous.max(b);
                    cell
                })
                .collect()
        })
        .collect();
    Ok(Heatmap {
        since_ns: first * NS_PER_MINUTE,
        column_ns: per * NS_PER_MINUTE,
        max_cell: cells.iter().flatten().copied().max().unwrap_or(0),
        calls: merged.iter().map(|b| b.calls.max(0) as u64).collect(),
        errors: merged.iter().map(|b| b.errors.max(0) as u64).collect(),
        edges_ns,
        cells,
    })
}

/// One step's row of the slowest-steps heatmap.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRow {
    pub name: String,
    /// Per column: the step's p95 (ms), `None` where it did not run.
    pub p95_ms: Vec<Option<f64>>,
    pub calls: Vec<u64>,
    /// The step's p95 over the whole window, ms.
    pub overall_p95_ms: Option<f64>,
}

/// The slowest-steps heatmap of the decision traces named `name`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepHeatmap {
    pub since_ns: i64,
    pub column_ns: i64,
    /// Slowest step (by p95 over the window) first.
    pub steps: Vec<StepRow>,
}

/// The steps of the newest traces named `name` in `window` (kind step), in first-seen order.
fn step_names(
    store: &dyn Reader,
    name: &str,
    window: Window,
) -> Result<Vec<String>, AnalysisError> {
    let mut names: Vec<String> = Vec::new();
    for trace in crate::funnel::traces_named(store, name, window, STEP_SAMPLE)?.0 {
        for span in crate::funnel::steps_of(store, trace.trace_id)? {
            if !names.contains(&span.name) {
                names.push(span.name);
            }
        }
    }
    Ok(names)
}

fn p95_ms(bucket: &Bucket) -> Option<f64> {
    (bucket.calls > 0)
        .then(|| bucket.sketch.quantile(0.95).ok().flatten())
        .flatten()
        .map(|ns| ns / 1e6)
}

/// Per step of the decision traces named `name` (learnt from the newest of them), its p95 in
/// each column of `window`. A step's figures are its node's: a span name used outside these
/// traces is counted too.
pub fn step_heatmap(
    store: &dyn Reader,
    name: &str,
    window: Window,
    now_ns: i64,
    columns: usize,
) -> Result<StepHeatmap, AnalysisError> {
    let (first, per, count) = columns_of(window, now_ns, columns.clamp(1, MAX_COLUMNS));
    let mut steps = Vec::new();
    for step in step_names(store, name, window)? {
        let merged = merge_columns(
            &store.minutes_of(window, RollupKey::Node(&step))?,
            first,
            per,
            count,
        );
        let mut all = Bucket::new();
        merged.iter().for_each(|b| all.merge(b));
        steps.push(StepRow {
            name: step,
            p95_ms: merged.iter().map(p95_ms).collect(),
            calls: merged.iter().map(|b| b.calls.max(0) as u64).collect(),
            overall_p95_ms: p95_ms(&all),
        });
    }
    steps.sort_by(|a, b| {
        b.overall_p95_ms
            .unwrap_or(0.0)
            .total_cmp(&a.overall_p95_ms.unwrap_or(0.0))
    });
    Ok(StepHeatmap {
        since_ns: first * NS_PER_MINUTE,
        column_ns: per * NS_PER_MINUTE,
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_store::rollup::new_sketch;

    #[test]
    fn counts_below_a_value_follow_the_sketch() {
        let mut sketch = new_sketch();
        for v in [1e6, 1e6, 2e6, 5e7, 5e7, 5e7, 1e9] {
            sketch.add(v);
        }
        assert_eq!(count_below(&sketch, 1.5e6), 2);
        assert_eq!(count_below(&sketch, 3e6), 3);
        assert_eq!(count_below(&sketch, 1e8), 6);
        assert_eq!(count_below(&sketch, 2e9), 7);
        assert_eq!(count_below(&sketch, 1.0), 0);
        assert_eq!(count_below(&new_sketch(), 5.0), 0);
    }

    #[test]
    fn columns_cover_the_window_in_whole_minutes() {
        let minute = NS_PER_MINUTE;
        let w = Window {
            since_ns: 10 * minute + 5,
            until_ns: 70 * minute,
        };
        // Minutes 10..=69: 60 minutes, 30 columns of 2.
        assert_eq!(columns_of(w, i64::MAX, 30), (10, 2, 30));
        // An open window ends now.
        let open = Window {
            since_ns: 10 * minute,
            until_ns: i64::MAX,
        };
        assert_eq!(columns_of(open, 13 * minute, 60), (10, 1, 3));
        // More columns than minutes: one minute each.
        assert_eq!(columns_of(w, i64::MAX, 240), (10, 1, 60));
    }

    #[test]
    fn edges_are_log_spaced_and_keep_the_extremes() {
        assert_eq!(duration_edges(5, 5, 10), [5, 5]);
        let e = duration_edges(1_000, 1_000_000, 3);
        assert_eq!(e, [1_000, 10_000, 100_000, 1_000_000]);
    }
}
