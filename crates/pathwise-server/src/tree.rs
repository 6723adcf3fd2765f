//! Which spans of a trace to send at once. A trace may hold 100,000 spans; the page gets the
//! top of the tree, breadth first, up to a bound, and loads deeper subtrees on demand.

use std::collections::{HashMap, HashSet, VecDeque};

use pathwise_store::SpanSkeleton;

/// The chosen spans and what the page needs to know to offer the rest.
#[derive(Debug, Default)]
pub struct Selection {
    /// Span ids, in breadth-first order.
    pub selected: Vec<u64>,
    /// Number of direct children of every span that has any.
    pub child_counts: HashMap<u64, usize>,
}

impl Selection {
    /// Children of `span` that exist (loaded or not).
    pub fn child_count(&self, span: u64) -> usize {
        self.child_counts.get(&span).copied().unwrap_or(0)
    }
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
/// so a loaded span shows either all of its children or none.
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
    while let Some(span) = queue.pop_front() {
        let Some(kids) = children.get(&span) else {
            continue;
        };
        if selected.len() + kids.len() > max_spans {
            continue; // this group stays collapsed; smaller groups later may still fit
        }
        for &kid in kids {
            selected.push(kid);
            queue.push_back(kid);
        }
    }
    Selection {
        selected,
        child_counts,
    }
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
        assert_eq!(bounded.child_count(2), 3);
        assert_eq!(bounded.child_count(7), 0);
        assert_eq!(select(&tree, 1).selected, vec![1]);
    }

    #[test]
    fn orphans_and_self_parents_become_roots() {
        let tree = [span(1, 99), span(2, 2), span(3, 1)];
        assert_eq!(select(&tree, 10).selected, vec![1, 2, 3]);
    }
}
