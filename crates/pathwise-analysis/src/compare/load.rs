//! Reading two traces for [`super::diff_spans`] through the read traits, and choosing the
//! typical successful trace to compare a trace with.

use std::collections::HashMap;
use std::time::Duration;

use pathwise_model::{TraceId, TraceStatus};
use pathwise_store::{Cursor, ReadStore, SpanRow, SpanSkeleton, TraceFilter, TraceSummary};
use serde::Serialize;

use super::{DiffTotals, PathRow, diff_spans};
use crate::AnalysisError;

/// Spans compared per trace at most. Beyond it both traces are cut at the same depth (whole
/// levels, the deepest at which both fit), so a cut never shows up as a path only one has.
pub const MAX_COMPARED_SPANS: usize = 20_000;
/// How far back [`typical_trace`] looks.
pub const TYPICAL_WINDOW: Duration = Duration::from_secs(7 * 86_400);
/// The newest this many completed traces of the name are the candidates of [`typical_trace`].
pub const TYPICAL_CANDIDATES: usize = 500;
/// Traces listed at most while looking for candidates (the list matches names by substring,
/// so `checkout-v2` is listed for `checkout` and skipped).
const TYPICAL_SCAN: usize = 2_000;

/// One trace as read for a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedTrace {
    pub summary: TraceSummary,
    /// The spans compared, in start order (all of them unless the pair has a depth limit).
    pub spans: Vec<SpanRow>,
    /// Spans in the trace.
    pub total_spans: usize,
    /// Failed spans in the trace.
    pub failed_spans: usize,
}

/// Two traces read together, so that a large pair is cut at one depth.
#[derive(Clone, Debug, PartialEq)]
pub struct TracePair {
    pub a: LoadedTrace,
    pub b: LoadedTrace,
    /// The deepest level compared (0 for roots) when a trace has over [`MAX_COMPARED_SPANS`].
    pub depth_limit: Option<usize>,
}

/// A trace's figures in a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparedTrace {
    /// As the trace list shows it.
    pub trace: TraceSummary,
    pub duration_ms: Option<f64>,
    /// Spans in the trace, and how many failed.
    pub spans: usize,
    pub errors: usize,
    pub compared_spans: usize,
    /// From the first compared span's start to the last one's end: the scale of the bars.
    pub timeline_ms: f64,
}

/// Two traces side by side: their figures, the rows of [`super::diff_spans`] and its totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceComparison {
    pub a: ComparedTrace,
    pub b: ComparedTrace,
    /// B's duration minus A's, when both finished.
    pub duration_delta_ms: Option<f64>,
    /// B's duration over A's, when both finished and A's is not 0.
    pub duration_ratio: Option<f64>,
    /// The traces' statuses differ.
    pub status_changed: bool,
    /// See [`TracePair::depth_limit`].
    pub depth_limit: Option<usize>,
    pub rows: Vec<PathRow>,
    pub totals: DiffTotals,
}

/// The trace chosen by [`typical_trace`] and what it was chosen among.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypicalTrace {
    pub trace: TraceSummary,
    /// Completed traces of the name it was chosen among.
    pub candidates: usize,
    /// Their median duration.
    pub median_duration_ms: f64,
}

/// Depth of each span of a skeleton (0 for a root, a span whose parent is not in the trace,
/// or the first span met of a parent cycle).
pub(super) fn depths(skeleton: &[SpanSkeleton]) -> Vec<usize> {
    let n = skeleton.len();
    let position: HashMap<u64, usize> = skeleton
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut depth: Vec<Option<usize>> = vec![None; n];
    // `on_chain[s] == i + 1`: span `s` is on the chain walked up from span `i`.
    let mut on_chain = vec![0usize; n];
    for i in 0..n {
        if depth[i].is_some() {
            continue;
        }
        // Up to the first ancestor of known depth (or a root), then down again.
        let mut chain = vec![i];
        on_chain[i] = i + 1;
        let top = loop {
            let at = chain[chain.len() - 1];
            let parent = skeleton[at].parent_id;
            match position.get(&parent) {
                Some(&p) if parent != 0 && on_chain[p] != i + 1 => match depth[p] {
                    Some(d) => break d + 1,
                    None => {
                        on_chain[p] = i + 1;
                        chain.push(p);
                    }
                },
                _ => break 0,
            }
        };
        for (k, &span) in chain.iter().rev().enumerate() {
            depth[span] = Some(top + k);
        }
    }
    depth.into_iter().map(|d| d.unwrap_or(0)).collect()
}

/// The deepest level at which both traces fit [`MAX_COMPARED_SPANS`], when one does not.
pub(super) fn depth_limit(a: &[usize], b: &[usize]) -> Option<usize> {
    if a.len() <= MAX_COMPARED_SPANS && b.len() <= MAX_COMPARED_SPANS {
        return None;
    }
    let fits = |depths: &[usize], limit: usize| {
        depths.iter().filter(|&&d| d <= limit).count() <= MAX_COMPARED_SPANS
    };
    let deepest = a.iter().chain(b).copied().max().unwrap_or(0);
    Some(
        (0..=deepest)
            .take_while(|&d| fits(a, d) && fits(b, d))
            .last()
            .unwrap_or(0),
    )
}

fn unknown(side: &str, id: TraceId) -> AnalysisError {
    AnalysisError::Invalid(format!("{side}: no trace {id}"))
}

/// Reads traces `a` and `b` (with inputs, outputs and reasoning). An unknown id is
/// [`AnalysisError::Invalid`] naming the side (`a: no trace …`).
pub fn load_pair(
    store: &dyn ReadStore,
    a: TraceId,
    b: TraceId,
) -> Result<TracePair, AnalysisError> {
    let summary_a = store.trace(a)?.ok_or_else(|| unknown("a", a))?;
    let summary_b = store.trace(b)?.ok_or_else(|| unknown("b", b))?;
    let (skeleton_a, skeleton_b) = (store.span_skeleton(a)?, store.span_skeleton(b)?);
    let (depths_a, depths_b) = (depths(&skeleton_a), depths(&skeleton_b));
    let limit = depth_limit(&depths_a, &depths_b);
    let read = |id: TraceId, summary: TraceSummary, skeleton: &[SpanSkeleton], depths: &[usize]| {
        let spans = match limit {
            None => store.spans(id, None, MAX_COMPARED_SPANS)?,
            Some(limit) => {
                let wanted: Vec<u64> = skeleton
                    .iter()
                    .zip(depths)
                    .filter(|(_, d)| **d <= limit)
                    .map(|(s, _)| s.span_id)
                    .take(MAX_COMPARED_SPANS)
                    .collect();
                store.spans_by_id(id, &wanted)?
            }
        };
        Ok::<_, AnalysisError>(LoadedTrace {
            summary,
            spans,
            total_spans: skeleton.len(),
            failed_spans: skeleton.iter().filter(|s| s.failed).count(),
        })
    };
    Ok(TracePair {
        a: read(a, summary_a, &skeleton_a, &depths_a)?,
        b: read(b, summary_b, &skeleton_b, &depths_b)?,
        depth_limit: limit,
    })
}

fn figures(trace: &LoadedTrace) -> ComparedTrace {
    let start = trace.spans.iter().map(|s| s.start_ns).min();
    let end = trace.spans.iter().map(|s| s.start_ns + s.duration_ns).max();
    ComparedTrace {
        duration_ms: trace.summary.duration_ns.map(|ns| ns as f64 / 1e6),
        spans: trace.total_spans,
        errors: trace.failed_spans,
        compared_spans: trace.spans.len(),
        timeline_ms: start
            .zip(end)
            .map_or(0.0, |(s, e)| (e - s).max(0) as f64 / 1e6),
        trace: trace.summary.clone(),
    }
}

/// The comparison of a pair read by [`load_pair`].
pub fn compare(pair: &TracePair) -> TraceComparison {
    let diff = diff_spans(&pair.a.spans, &pair.b.spans);
    let (da, db) = (pair.a.summary.duration_ns, pair.b.summary.duration_ns);
    TraceComparison {
        a: figures(&pair.a),
        b: figures(&pair.b),
        duration_delta_ms: da.zip(db).map(|(a, b)| (b - a) as f64 / 1e6),
        duration_ratio: da
            .zip(db)
            .filter(|(a, _)| *a > 0)
            .map(|(a, b)| b as f64 / a as f64),
        status_changed: pair.a.summary.status != pair.b.summary.status,
        depth_limit: pair.depth_limit,
        rows: diff.rows,
        totals: diff.totals,
    }
}

/// Reads and compares traces `a` and `b` ([`load_pair`], then [`compare`]).
pub fn compare_traces(
    store: &dyn ReadStore,
    a: TraceId,
    b: TraceId,
) -> Result<TraceComparison, AnalysisError> {
    Ok(compare(&load_pair(store, a, b)?))
}

/// The typical trace among `candidates`: the one whose duration is closest to their median,
/// of two equally close the faster (for an even count, the lower of the two middle ones), of
/// equal durations the newest: an actual trace, whatever the order of the list. Candidates without a duration (running) are ignored;
/// `None` when none is left.
///
/// ```
/// # fn trace(n: u128, ms: i64) -> pathwise_store::TraceSummary {
/// #     pathwise_store::TraceSummary { trace_id: pathwise_model::TraceId(n), name: "checkout".into(),
/// #         start_ns: n as i64, end_ns: None, duration_ns: Some(ms * 1_000_000),
/// #         status: pathwise_model::TraceStatus::Completed, span_count: 1, error_count: 0, metadata: None }
/// # }
/// use pathwise_analysis::compare::pick_typical;
/// let typical = pick_typical(vec![trace(1, 90), trace(2, 10), trace(3, 40), trace(4, 70)]).unwrap();
/// assert_eq!((typical.trace.trace_id.0, typical.median_duration_ms), (3, 55.0));
/// ```
pub fn pick_typical(candidates: Vec<TraceSummary>) -> Option<TypicalTrace> {
    let mut timed: Vec<(i64, TraceSummary)> = candidates
        .into_iter()
        .filter_map(|t| Some((t.duration_ns?, t)))
        .collect();
    timed.sort_by_key(|(d, _)| *d);
    let n = timed.len();
    // Twice the median, so that distances stay whole nanoseconds.
    let twice_median = match n {
        0 => return None,
        n if n % 2 == 1 => 2 * timed[n / 2].0 as i128,
        n => timed[n / 2 - 1].0 as i128 + timed[n / 2].0 as i128,
    };
    let chosen = timed
        .iter()
        .enumerate()
        .min_by_key(|(_, (d, t))| {
            let distance = (2 * *d as i128 - twice_median).abs();
            (distance, *d, std::cmp::Reverse(t.start_ns), t.trace_id.0)
        })
        .map_or(0, |(i, _)| i);
    Some(TypicalTrace {
        trace: timed.swap_remove(chosen).1,
        candidates: n,
        median_duration_ms: twice_median as f64 / 2e6,
    })
}

/// A typical successful trace to compare `of` with: among the newest [`TYPICAL_CANDIDATES`]
/// completed (not failed, not running) traces of exactly its name started in the
/// [`TYPICAL_WINDOW`] before `now_ns`, `of` itself left out, the one [`pick_typical`] picks.
/// The median rather than the mean or the fastest: a typical run, unmoved by a few outliers.
/// `None` when there is no such trace.
pub fn typical_trace(
    store: &dyn ReadStore,
    of: &TraceSummary,
    now_ns: i64,
) -> Result<Option<TypicalTrace>, AnalysisError> {
    let mut filter = TraceFilter {
        status: Some(TraceStatus::Completed),
        name_contains: Some(of.name.clone()),
        since_ns: Some(now_ns.saturating_sub(TYPICAL_WINDOW.as_nanos() as i64)),
        limit: TYPICAL_CANDIDATES,
        ..TraceFilter::default()
    };
    let (mut candidates, mut listed) = (Vec::new(), 0);
    loop {
        let page = store.list_traces(&filter)?;
        listed += page.traces.len();
        candidates.extend(page.traces.into_iter().filter(|t| {
            t.name == of.name && t.trace_id != of.trace_id && t.status == TraceStatus::Completed
        }));
        match page.next_cursor.as_deref().and_then(Cursor::decode) {
            Some(next) if candidates.len() < TYPICAL_CANDIDATES && listed < TYPICAL_SCAN => {
                filter.cursor = Some(next);
            }
            _ => break,
        }
    }
    candidates.truncate(TYPICAL_CANDIDATES);
    Ok(pick_typical(candidates))
}
