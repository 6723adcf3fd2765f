//! Which spans of a trace to send at once. A trace may hold 100,000 spans; the page gets the
//! top of the tree, breadth first, up to a bound, and loads deeper subtrees on demand.

use std::collections::{HashMap, HashSet, VecDeque};

use pathwise_store::SpanSkeleton;
use serde::Serialize;

/// The chosen spans and what the page needs to know to offer the rest.
#[derive(Debug, Default)]
pub struct Selection {
    /// Span ids, in breadth-first order.
    pub selected: Vec<u64>,
    /// Number of direct children of every span that has any.
    pub child_counts: HashMap<u64, usize>,
}

/// Number of direct children of every span that has any.
pub fn child_counts(skeleton: &[SpanSkeleton]) -> HashMap<u64, usize> {
    let mut counts = HashMap::new();
    for span in skeleton {
        if span.parent_id != 0 && span.parent_id != span.span_id {
            *counts.entry(span.parent_id).or_insert(0) += 1;
        }
    }
    counts
}

/// Picks at most `max_spans` spans: roots first (spans whose parent is 0 or missing), then
/// each level in start order. Whole sibling groups are kept together where the bound allows,
/// so a loaded span shows either all of its children or none; only a group larger than the
/// bound itself is sent in part (its first children, with the room left over).
pub fn select(skeleton: &[SpanSkeleton], max_spans: usize) -> Selection {
    let ids: HashSet<u64> = skeleton.iter().map(|s| s.span_id).collect();
    let mut children: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut roots = Vec::new();
    for span in skeleton {
        if span.parent_id == 0 || !ids.contains(&span.parent_id) || span.parent_id == span.span_id {
            roots.push(span.span_id);
        } else {
            children
                .entry(span.parent_id)
                .or_default()
                .push(span.span_id);
        }
    }
    let child_counts = child_counts(skeleton);
    let mut selected = Vec::new();
    let mut queue: VecDeque<u64> = VecDeque::new();
    for root in roots {
        if selected.len() >= max_spans {
            break;
        }
        selected.push(root);
        queue.push_back(root);
    }
    let mut first_left_out = None;
    while let Some(span) = queue.pop_front() {
        let Some(kids) = children.get(&span) else {
            continue;
        };
        if selected.len() + kids.len() > max_spans {
            // This group stays collapsed; smaller groups later may still fit.
            if kids.len() > max_spans {
                first_left_out.get_or_insert(kids);
            }
            continue;
        }
        for &kid in kids {
            selected.push(kid);
            queue.push_back(kid);
        }
    }
    // Room left over goes to the first group larger than the bound, which could never be
    // sent whole (a root with 5,000 children would otherwise show as one row): its first
    // children in start order. Every other group comes whole or not at all.
    if let Some(kids) = first_left_out {
        let room = max_spans.saturating_sub(selected.len());
        selected.extend(kids.iter().take(room));
    }
    Selection {
        selected,
        child_counts,
    }
}

/// The whole trace at a glance, however few of its spans the page has loaded: its time
/// extent cut into `columns` equal columns, the spans running in each and the spans that
/// failed in each (counted in the column where they ended). The waterfall's minimap.
#[derive(Debug, PartialEq, Serialize)]
pub struct Overview {
    pub start_ns: i64,
    pub end_ns: i64,
    /// Spans running at some instant of each column.
    pub busy: Vec<u32>,
    /// Failed spans that ended in each column.
    pub failed: Vec<u32>,
}

/// The [`Overview`] of `skeleton` in `columns` columns (at least one); `None` for no spans.
pub fn overview(skeleton: &[SpanSkeleton], columns: usize) -> Option<Overview> {
    let columns = columns.max(1);
    let start = skeleton.iter().map(|s| s.start_ns).min()?;
    let end_of = |s: &SpanSkeleton| s.start_ns.saturating_add(s.duration_ns.max(0));
    let end = skeleton.iter().map(end_of).max()?.max(start);
    let width = ((end - start) as f64 / columns as f64).max(f64::MIN_POSITIVE);
    let column = |ns: i64| (((ns - start) as f64 / width) as usize).min(columns - 1);
    // Each span adds one from its first column to its last: a difference array, one pass.
    let mut delta = vec![0i64; columns + 1];
    let mut failed = vec![0u32; columns];
    for span in skeleton {
        // Spans are half-open: one that ends on a column's first instant does not run in it.
        let first = column(span.start_ns);
        let last = column(end_of(span) - 1).max(first);
        delta[first] += 1;
        delta[last + 1] -= 1;
        if span.failed {
            failed[last] += 1;
        }
    }
    let mut running = 0i64;
    let busy = delta[..columns]
        .iter()
        .map(|d| {
            running += d;
            running as u32
        })
        .collect();
    Some(Overview {
        start_ns: start,
        end_ns: end,
        busy,
        failed,
    })
}

/// `wanted` and every ancestor of each, without repeats: what the page needs to show a span
/// deep inside a tree it has not loaded.
pub fn with_ancestors(skeleton: &[SpanSkeleton], wanted: &[u64]) -> Vec<u64> {
    let parents: HashMap<u64, u64> = skeleton.iter().map(|s| (s.span_id, s.parent_id)).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for &id in wanted {
        let mut at = id;
        // A parent chain ends at 0, at a span not in the trace, or at a span already listed
        // (also the guard against a cycle in bad data).
        while parents.contains_key(&at) && seen.insert(at) {
            out.push(at);
            at = parents[&at];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u64, parent: u64) -> SpanSkeleton {
        SpanSkeleton {
            span_id: id,
            parent_id: parent,
            start_ns: id as i64,
            duration_ns: 1,
            failed: false,
        }
    }

    #[test]
    fn takes_whole_levels_until_the_bound() {
        // 1 → {2, 3}; 2 → {4, 5, 6}; 3 → {7}
        let tree = [
            span(1, 0),
            span(2, 1),
            span(3, 1),
            span(4, 2),
            span(5, 2),
            span(6, 2),
            span(7, 3),
        ];
        assert_eq!(select(&tree, 100).selected, vec![1, 2, 3, 4, 5, 6, 7]);
        let bounded = select(&tree, 5);
        assert_eq!(
            bounded.selected,
            vec![1, 2, 3, 7],
            "2's three children do not fit; 3's one does"
        );
        assert_eq!(bounded.child_counts.get(&2), Some(&3));
        assert_eq!(bounded.child_counts.get(&7), None);
        assert_eq!(select(&tree, 1).selected, vec![1]);
        assert_eq!(select(&tree, 4).selected, vec![1, 2, 3, 7]);
    }

    #[test]
    fn a_group_larger_than_the_bound_fills_the_room_left() {
        // 1 → {2, …, 10} (nine children: more than a bound of 5); 2 → {11}.
        let mut tree: Vec<SpanSkeleton> = (2..=10).map(|id| span(id, 1)).collect();
        tree.insert(0, span(1, 0));
        tree.push(span(11, 2));
        let bounded = select(&tree, 5);
        assert_eq!(
            bounded.selected,
            vec![1, 2, 3, 4, 5],
            "1's first four children"
        );
        assert_eq!(bounded.child_counts.get(&1), Some(&9));
        assert_eq!(select(&tree, 100).selected.len(), 11);
    }

    #[test]
    fn orphans_and_self_parents_become_roots() {
        let tree = [span(1, 99), span(2, 2), span(3, 1)];
        assert_eq!(select(&tree, 10).selected, vec![1, 2, 3]);
    }

    fn timed(id: u64, parent: u64, start: i64, duration: i64, failed: bool) -> SpanSkeleton {
        SpanSkeleton {
            span_id: id,
            parent_id: parent,
            start_ns: start,
            duration_ns: duration,
            failed,
        }
    }

    #[test]
    fn overview_counts_running_and_failed_spans_per_column() {
        // 0..100 ns in 4 columns of 25 ns. The root covers all four; a fan-out of two parallel
        // children covers 10..60 (columns 0–2) and 30..45 (column 1); a failed span 80..90
        // ends in column 3, and so does the failed zero-length span at 99.
        let tree = [
            timed(1, 0, 0, 100, false),
            timed(2, 1, 10, 50, false),
            timed(3, 1, 30, 15, false),
            timed(4, 1, 80, 10, true),
            timed(5, 1, 99, 0, true),
        ];
        let o = overview(&tree, 4).unwrap();
        assert_eq!((o.start_ns, o.end_ns), (0, 100));
        assert_eq!(o.busy, vec![2, 3, 2, 3]);
        assert_eq!(o.failed, vec![0, 0, 0, 2]);
        assert_eq!(overview(&[], 4), None);
        let instant = overview(&[timed(1, 0, 7, 0, false)], 3).unwrap();
        assert_eq!(
            instant.busy,
            vec![1, 0, 0],
            "a zero-length trace fills its first column"
        );
    }

    #[test]
    fn ancestors_come_with_each_wanted_span_once() {
        // 1 → 2 → 4; 1 → 3; 9's parent 8 is not in the trace; 6 and 7 are a cycle.
        let tree = [
            span(1, 0),
            span(2, 1),
            span(3, 1),
            span(4, 2),
            span(9, 8),
            span(6, 7),
            span(7, 6),
        ];
        assert_eq!(with_ancestors(&tree, &[4, 3]), vec![4, 2, 1, 3]);
        assert_eq!(with_ancestors(&tree, &[9, 42]), vec![9]);
        assert_eq!(with_ancestors(&tree, &[6]), vec![6, 7]);
    }
}
