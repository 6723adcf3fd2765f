//! The critical path of one trace, for its view: the spans on it with their own segments and
//! shares. The walk itself lives with the rollups (`pathwise_store::rollup::critical_segments`),
//! which sum it over every trace.

use std::collections::HashMap;

use pathwise_model::TraceId;
pub use pathwise_store::rollup::CriticalSegment;
use pathwise_store::rollup::SpanInterval;
use pathwise_store::{ReadStore, SpanRow};
use serde::Serialize;

use crate::AnalysisError;
use crate::flame::trace_spans;

/// One span on a trace's critical path.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CriticalSpan {
    pub span_id: String,
    pub name: String,
    pub duration_ms: f64,
    /// Time of this span on the critical path that is its own (not a critical child's).
    pub self_ms: f64,
    /// `self_ms` as a share of the root's duration (0..1).
    pub share: f64,
    /// Its own segments on the path, as `[start, end]` in ms from the root's start.
    pub segments: Vec<[f64; 2]>,
}

/// The critical segments of a trace given all its spans (see
/// [`pathwise_store::rollup::critical_segments`], which the rollups use too).
///
/// ```
/// use pathwise_analysis::critical_segments;
/// use pathwise_store::SpanRow;
/// # fn row(id: u64, parent: u64, start: i64, dur: i64) -> SpanRow {
/// #     SpanRow { span_id: id, parent_id: parent, name: format!("s{id}"), path: String::new(),
/// #         group: None, kind: pathwise_model::SpanKind::Span, start_ns: start, duration_ns: dur,
/// #         status: pathwise_model::Status::Ok, error_type: None, error_message: None,
/// #         error_chain: None, attrs: None, input: None, output: None, reasoning: None,
/// #         metadata: None }
/// # }
/// // Root 0–100 with parallel children 10–50 and 10–80: the second is critical.
/// let spans = [row(1, 0, 0, 100), row(2, 1, 10, 40), row(3, 1, 10, 70)];
/// let segments = critical_segments(&spans);
/// let ids: Vec<(u64, i64, i64)> = segments.iter().map(|s| (s.span_id, s.start_ns, s.end_ns)).collect();
/// assert_eq!(ids, [(1, 0, 10), (3, 10, 80), (1, 80, 100)]);
/// ```
pub fn critical_segments(spans: &[SpanRow]) -> Vec<CriticalSegment> {
    let intervals: Vec<SpanInterval> = spans
        .iter()
        .map(|s| SpanInterval {
            span_id: s.span_id,
            parent_id: s.parent_id,
            start_ns: s.start_ns,
            end_ns: s.start_ns + s.duration_ns,
        })
        .collect();
    pathwise_store::rollup::critical_segments(&intervals)
}

/// The critical path of a trace: the root, then every span with time on the path in the order
/// their first segment starts.
pub fn critical_path(
    store: &dyn ReadStore,
    trace: TraceId,
) -> Result<Vec<CriticalSpan>, AnalysisError> {
    let spans = trace_spans(store, trace)?;
    let segments = critical_segments(&spans);
    let Some(root_start) = segments.first().map(|s| s.start_ns) else {
        return Ok(Vec::new());
    };
    let root_ns = (segments.last().map_or(root_start, |s| s.end_ns) - root_start).max(1);
    let by_id: HashMap<u64, &SpanRow> = spans.iter().map(|s| (s.span_id, s)).collect();
    let root_id = spans
        .iter()
        .find(|s| s.parent_id == 0)
        .map(|s| s.span_id)
        .or_else(|| segments.first().map(|s| s.span_id));
    let mut order: Vec<u64> = Vec::new();
    let mut own: HashMap<u64, Vec<[f64; 2]>> = HashMap::new();
    for seg in &segments {
        let entry = own.entry(seg.span_id).or_insert_with(|| {
            order.push(seg.span_id);
            Vec::new()
        });
        entry.push([
            (seg.start_ns - root_start) as f64 / 1e6,
            (seg.end_ns - root_start) as f64 / 1e6,
        ]);
    }
    // The root is always on the path (it is the trace), first, even when its children
    // cover all of it.
    if let Some(root) = root_id {
        order.retain(|id| *id != root);
        order.insert(0, root);
    }
    Ok(order
        .into_iter()
        .filter_map(|id| {
            let span = by_id.get(&id)?;
            let own = own.remove(&id).unwrap_or_default();
            let self_ms: f64 = own.iter().map(|[a, b]| b - a).sum();
            Some(CriticalSpan {
                span_id: id.to_string(),
                name: span.name.clone(),
                duration_ms: span.duration_ns as f64 / 1e6,
                self_ms,
                share: self_ms * 1e6 / root_ns as f64,
                segments: own,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{SpanKind, Status};

    fn row(id: u64, parent: u64, start: i64, dur: i64) -> SpanRow {
        SpanRow {
            span_id: id,
            parent_id: parent,
            name: format!("s{id}"),
            path: String::new(),
            group: None,
            kind: SpanKind::Span,
            start_ns: start,
            duration_ns: dur,
            status: Status::Ok,
            error_type: None,
            error_message: None,
            error_chain: None,
            attrs: None,
            input: None,
            output: None,
            reasoning: None,
            metadata: None,
        }
    }

    fn own(segments: &[CriticalSegment]) -> HashMap<u64, i64> {
        let mut out = HashMap::new();
        for s in segments {
            *out.entry(s.span_id).or_insert(0) += s.end_ns - s.start_ns;
        }
        out
    }

    #[test]
    fn the_planning_documents_search_fan_out() {
        // search 0–716: validate 0–1, three sources in parallel (GEO 1–300, ArrayExpress
        // 1–715, OpenAlex 1–420), rank 715–716. Critical: validate 0–1, ArrayExpress 1–715,
        // rank 715–716; search itself owns nothing and GEO and OpenAlex are off the path.
        let spans = [
            row(1, 0, 0, 716),
            row(2, 1, 0, 1),
            row(3, 1, 1, 299),
            row(4, 1, 1, 714),
            row(5, 1, 1, 419),
            row(6, 1, 715, 1),
        ];
        let segs = critical_segments(&spans);
        let own = own(&segs);
        assert_eq!(own.get(&1), None);
        assert_eq!(own[&2], 1);
        assert_eq!(own[&4], 714);
        assert_eq!(own[&6], 1);
        assert!(!own.contains_key(&3) && !own.contains_key(&5));
        assert_eq!(segs.iter().map(|s| s.end_ns - s.start_ns).sum::<i64>(), 716);
    }

    #[test]
    fn nested_parallel_work_and_overlapping_children() {
        // root 0–100. A 10–60 has children A1 10–30 and A2 20–55; B 40–90 overlaps A.
        // Walk back from 100: B (ends 90) is critical 40–90; root owns 90–100. Before 40: A
        // ends 60 > 40, so A is critical up to 40, from 10: A2 covers 20–40, A1 10–20.
        // Root owns 0–10.
        let spans = [
            row(1, 0, 0, 100),
            row(2, 1, 10, 50),
            row(21, 2, 10, 20),
            row(22, 2, 20, 35),
            row(3, 1, 40, 50),
        ];
        let got: Vec<(u64, i64, i64)> = critical_segments(&spans)
            .iter()
            .map(|s| (s.span_id, s.start_ns, s.end_ns))
            .collect();
        assert_eq!(
            got,
            [
                (1, 0, 10),
                (21, 10, 20),
                (22, 20, 40),
                (3, 40, 90),
                (1, 90, 100)
            ]
        );
    }

    #[test]
    fn children_outside_their_parent_are_clipped_and_a_missing_root_is_tolerated() {
        // A child that outlives its parent (a detached task) counts only inside the parent.
        let spans = [row(1, 0, 0, 50), row(2, 1, 30, 100)];
        let own = own(&critical_segments(&spans));
        assert_eq!((own[&1], own[&2]), (30, 20));
        // No parentless span (the root never arrived): the earliest span roots the walk.
        let orphans = [row(5, 9, 0, 10), row(6, 5, 2, 5)];
        let own = self::own(&critical_segments(&orphans));
        assert_eq!((own[&5], own[&6]), (5, 5));
        assert!(critical_segments(&[]).is_empty());
    }
}
