//! The critical path of a trace: the chain of work the trace's end waited on. Walking back from
//! the end of a span, the child that finished last before the current point is on the path; the
//! walk recurses into it, then continues from that child's start with the children that ended
//! before it. The gaps between critical children are the span's own segments. Parallel
//! branches that finished earlier are off the path: shortening them changes nothing.
//!
//! One implementation serves the per-trace view (analysis) and the rollups, which sum each
//! span's segments per path so that "share of request latency" is a rollup read.

use std::collections::HashMap;

/// A span as the walk needs it: identity, parent and `[start_ns, end_ns)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanInterval {
    pub span_id: u64,
    pub parent_id: u64,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// A stretch of time `[start_ns, end_ns)` during which `span_id` itself was the work the trace
/// waited on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CriticalSegment {
    pub span_id: u64,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// The critical segments of a trace given all its spans, every child's interval clipped to its
/// parent's. The root is the span without a parent (else the earliest). Segments come out in
/// time order and tile the root exactly.
///
/// ```
/// use pathwise_store::rollup::{SpanInterval, critical_segments};
/// let span = |span_id, parent_id, start_ns, end_ns| SpanInterval { span_id, parent_id, start_ns, end_ns };
/// // Root 0–100 with parallel children 10–50 and 10–80: the second is critical.
/// let segments = critical_segments(&[span(1, 0, 0, 100), span(2, 1, 10, 50), span(3, 1, 10, 80)]);
/// let ids: Vec<(u64, i64, i64)> = segments.iter().map(|s| (s.span_id, s.start_ns, s.end_ns)).collect();
/// assert_eq!(ids, [(1, 0, 10), (3, 10, 80), (1, 80, 100)]);
/// ```
pub fn critical_segments(spans: &[SpanInterval]) -> Vec<CriticalSegment> {
    let Some(root) = spans
        .iter()
        .find(|s| s.parent_id == 0)
        .or_else(|| spans.iter().min_by_key(|s| s.start_ns))
    else {
        return Vec::new();
    };
    let mut children: HashMap<u64, Vec<&SpanInterval>> = HashMap::new();
    for span in spans {
        if span.span_id != root.span_id {
            children.entry(span.parent_id).or_default().push(span);
        }
    }
    for kids in children.values_mut() {
        // Latest end first: the next critical child is the first that started before the point.
        kids.sort_by_key(|k| std::cmp::Reverse(k.end_ns));
    }
    let mut segments = Vec::new();
    // (span, its window clipped by its parent, the point to walk back from). An explicit stack:
    // deep traces must not overflow the thread's stack.
    let root_window = (root.start_ns, root.end_ns);
    let mut work = vec![(root, root_window, root_window.1)];
    while let Some((span, (lo, hi), end_point)) = work.pop() {
        let mut point = end_point.min(hi);
        for kid in children
            .get(&span.span_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let kid_start = kid.start_ns.max(lo);
            let kid_end = kid.end_ns.min(hi);
            if kid_end <= kid_start || kid_start >= point {
                continue;
            }
            let until = kid_end.min(point);
            if until < point {
                segments.push(CriticalSegment {
                    span_id: span.span_id,
                    start_ns: until,
                    end_ns: point,
                });
            }
            work.push((kid, (kid_start, kid_end), until));
            point = kid_start;
            if point <= lo {
                break;
            }
        }
        if point > lo {
            segments.push(CriticalSegment {
                span_id: span.span_id,
                start_ns: lo,
                end_ns: point,
            });
        }
    }
    segments.sort_by_key(|s| (s.start_ns, s.end_ns));
    segments
}

/// Each span's time on the critical path (the sum of its own segments); spans off the path
/// are absent. The values add up to the root's duration.
///
/// ```
/// use pathwise_store::rollup::{SpanInterval, critical_time};
/// let span = |span_id, parent_id, start_ns, end_ns| SpanInterval { span_id, parent_id, start_ns, end_ns };
/// let time = critical_time(&[span(1, 0, 0, 100), span(2, 1, 10, 50), span(3, 1, 10, 80)]);
/// assert_eq!((time[&1], time[&3], time.get(&2)), (30, 70, None));
/// ```
pub fn critical_time(spans: &[SpanInterval]) -> HashMap<u64, i64> {
    let mut time = HashMap::new();
    for segment in critical_segments(spans) {
        *time.entry(segment.span_id).or_insert(0) += segment.end_ns - segment.start_ns;
    }
    time
}
