//! The per-batch accumulator: buckets per (minute, path), error counts, and self time as the
//! union of children's intervals whatever the arrival order.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use pathwise_model::TraceId;

use super::attribution::Attribution;
use super::{Bucket, NS_PER_MINUTE, SpanFacts};

/// Spans remembered per generation for arrival-order corrections (two generations are kept).
/// A child arriving more than two generations after its parent (or a parent more than two
/// after its children) is not related to it any more: the parent's self time then counts that
/// child's time as its own.
const GENERATION: usize = 100_000;

/// Accumulates batches of spans into per-minute buckets and error counts.
///
/// Self time is the span's duration minus the *union* of its children's intervals clipped to
/// the span, whatever order the spans arrive in: children that arrive first are held until
/// their parent comes; a child that arrives after its parent was counted (the error lane
/// writes a failed parent first; a detached task ends late) corrects the parent's bucket by
/// the time it newly covers, as a bucket with a negative `self_ns` and no calls.
///
/// ```
/// use pathwise_model::TraceId;
/// use pathwise_store::rollup::{Rollups, SpanFacts};
/// let mut r = Rollups::<i64>::default();
/// let t = TraceId(1);
/// let span = |id, parent, path, start, dur| SpanFacts { trace_id: t, span_id: id,
///     parent_id: parent, path, start_ns: start, duration_ns: dur, error_type: None };
/// // Root 0–100 with two parallel children 10–60 and 20–70: 60 ns covered, 40 own.
/// r.add(&span(2, 1, 2, 10, 50));
/// r.add(&span(1, 0, 1, 0, 100));
/// r.add(&span(3, 1, 3, 20, 50)); // arrives after its parent: corrects it
/// let minutes = r.take_minutes();
/// assert_eq!(minutes[&(0, 1)].self_ns, 40);
/// ```
pub struct Rollups<P> {
    minutes: HashMap<(i64, P), Bucket>,
    errors: HashMap<(i64, P, P), i64>,
    /// Children seen before their parent: (trace, parent span) → their intervals.
    early: Generations<Vec<(i64, i64)>>,
    /// Spans already counted that a late child may still correct.
    counted: Generations<Counted<P>>,
    /// Open traces waiting for their critical path to be walked.
    attribution: Attribution<P>,
}

/// A counted span as a late child needs it.
struct Counted<P> {
    minute: i64,
    path: P,
    window: (i64, i64),
    /// Disjoint intervals (start → end) of the span already covered by children.
    covered: BTreeMap<i64, i64>,
}

/// A map that forgets its oldest half instead of growing without bound.
struct Generations<V> {
    young: HashMap<(TraceId, u64), V>,
    old: HashMap<(TraceId, u64), V>,
}

impl<V> Default for Generations<V> {
    fn default() -> Self {
        Generations {
            young: HashMap::new(),
            old: HashMap::new(),
        }
    }
}

impl<V> Generations<V> {
    fn get_mut(&mut self, key: &(TraceId, u64)) -> Option<&mut V> {
        match self.young.get_mut(key) {
            Some(v) => Some(v),
            None => self.old.get_mut(key),
        }
    }

    fn remove(&mut self, key: &(TraceId, u64)) -> Option<V> {
        self.young.remove(key).or_else(|| self.old.remove(key))
    }

    fn entry_or_default(&mut self, key: (TraceId, u64)) -> &mut V
    where
        V: Default,
    {
        if let Some(v) = self.old.remove(&key) {
            self.young.insert(key, v);
        }
        self.rotate();
        self.young.entry(key).or_default()
    }

    fn insert(&mut self, key: (TraceId, u64), value: V) {
        self.rotate();
        self.young.insert(key, value);
    }

    fn rotate(&mut self) {
        if self.young.len() >= GENERATION {
            self.old = std::mem::take(&mut self.young);
        }
    }
}

/// Adds `(start, end)` clipped to `window` to the disjoint intervals `covered`; returns the
/// nanoseconds newly covered. O(log n) per interval, so a parent with many late children
/// stays cheap.
fn cover(covered: &mut BTreeMap<i64, i64>, window: (i64, i64), (start, end): (i64, i64)) -> i64 {
    let (mut start, mut end) = (start.max(window.0), end.min(window.1));
    if end <= start {
        return 0;
    }
    let mut removed = 0;
    if let Some((&ps, &pe)) = covered.range(..=start).next_back()
        && pe >= start
    {
        removed += pe - ps;
        covered.remove(&ps);
        start = ps;
        end = end.max(pe);
    }
    while let Some((&a, &b)) = covered.range(start..).next() {
        if a > end {
            break;
        }
        removed += b - a;
        covered.remove(&a);
        end = end.max(b);
    }
    covered.insert(start, end);
    (end - start) - removed
}

impl<P> Default for Rollups<P> {
    fn default() -> Self {
        Rollups {
            minutes: HashMap::new(),
            errors: HashMap::new(),
            early: Generations::default(),
            counted: Generations::default(),
            attribution: Attribution::default(),
        }
    }
}

impl<P: Clone + Eq + Hash> Rollups<P> {
    /// Counts one stored span (each span once: the caller skips spans already stored).
    pub fn add(&mut self, span: &SpanFacts<P>) {
        let end = span.start_ns.saturating_add(span.duration_ns);
        if span.parent_id != 0 {
            let key = (span.trace_id, span.parent_id);
            match self.counted.get_mut(&key) {
                Some(parent) => {
                    let added = cover(&mut parent.covered, parent.window, (span.start_ns, end));
                    if added > 0 {
                        let correction = self
                            .minutes
                            .entry((parent.minute, parent.path.clone()))
                            .or_default();
                        correction.self_ns -= added;
                    }
                }
                None => self.early.entry_or_default(key).push((span.start_ns, end)),
            }
        }
        let window = (span.start_ns, end);
        let mut covered = BTreeMap::new();
        let mut covered_ns = 0;
        if let Some(mut children) = self.early.remove(&(span.trace_id, span.span_id)) {
            // Sorted first, each child extends the last interval or starts a new one.
            children.sort_unstable();
            for child in children {
                covered_ns += cover(&mut covered, window, child);
            }
        }
        let minute = span.start_ns.div_euclid(NS_PER_MINUTE);
        let bucket = self.minutes.entry((minute, span.path.clone())).or_default();
        bucket.calls += 1;
        bucket.total_ns += span.duration_ns;
        bucket.self_ns += (span.duration_ns - covered_ns).max(0);
        bucket.min_ns = bucket.min_ns.min(span.duration_ns);
        bucket.max_ns = bucket.max_ns.max(span.duration_ns);
        bucket.first_ns = bucket.first_ns.min(span.start_ns);
        bucket.last_ns = bucket.last_ns.max(span.start_ns);
        bucket.sketch.add(span.duration_ns.max(1) as f64);
        if let Some(error_type) = &span.error_type {
            bucket.errors += 1;
            *self
                .errors
                .entry((minute, span.path.clone(), error_type.clone()))
                .or_insert(0) += 1;
        }
        self.counted.insert(
            (span.trace_id, span.span_id),
            Counted {
                minute,
                path: span.path.clone(),
                window,
                covered,
            },
        );
        let critical = self.attribution.add(span);
        self.add_critical(critical);
    }

    fn add_critical(&mut self, critical: Vec<((i64, P), i64)>) {
        for (key, ns) in critical {
            self.minutes.entry(key).or_default().critical_ns += ns;
        }
    }

    /// The batch's buckets keyed by (minute, path), leaving the accumulator empty (what it
    /// remembers for arrival-order corrections and open traces is kept for the next batch).
    pub fn take_minutes(&mut self) -> HashMap<(i64, P), Bucket> {
        let due = self.attribution.end_batch();
        self.add_critical(due);
        std::mem::take(&mut self.minutes)
    }

    /// Traces left out of latency attribution so far (larger than the hold, or whose root
    /// never arrived).
    pub fn unattributed_traces(&self) -> u64 {
        self.attribution.dropped_traces
    }

    /// The batch's error counts keyed by (minute, path, error type).
    pub fn take_errors(&mut self) -> HashMap<(i64, P, P), i64> {
        std::mem::take(&mut self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u64, parent: u64, start: i64, dur: i64) -> SpanFacts<u64> {
        SpanFacts {
            trace_id: TraceId(7),
            span_id: id,
            parent_id: parent,
            path: id,
            start_ns: start,
            duration_ns: dur,
            error_type: None,
        }
    }

    /// Self time per path (= span id here) after adding `spans` in the given order.
    fn self_times(spans: &[SpanFacts<u64>]) -> HashMap<u64, i64> {
        let mut r = Rollups::default();
        for s in spans {
            r.add(s);
        }
        let mut out = HashMap::new();
        for ((_, path), b) in r.take_minutes() {
            *out.entry(path).or_insert(0) += b.self_ns;
        }
        out
    }

    #[test]
    fn self_time_is_the_union_of_children_in_any_arrival_order() {
        // Root 0–1000; children 100–600, 200–700 (parallel), 650–900; grandchild of the
        // first 150–250. Union of the root's children: 100–900 = 800 → root self 200. First
        // child self: 500 − 100 = 400.
        let spans = [
            span(11, 2, 150, 100),
            span(2, 1, 100, 500),
            span(3, 1, 200, 500),
            span(4, 1, 650, 250),
            span(1, 0, 0, 1000),
        ];
        let expected = HashMap::from([(1, 200), (2, 400), (3, 500), (4, 250), (11, 100)]);
        assert_eq!(self_times(&spans), expected, "children first");
        let mut reversed = spans.to_vec();
        reversed.reverse();
        assert_eq!(
            self_times(&reversed),
            expected,
            "parents first (error lane)"
        );
        let shuffled = [&spans[4], &spans[2], &spans[0], &spans[3], &spans[1]];
        let shuffled: Vec<SpanFacts<u64>> = shuffled.into_iter().cloned().collect();
        assert_eq!(self_times(&shuffled), expected, "mixed");
    }

    #[test]
    fn a_child_outside_its_parent_counts_only_inside_and_an_orphan_keeps_its_time() {
        // Parent 0–100, a detached child 50–300: 50 covered.
        let got = self_times(&[span(1, 0, 0, 100), span(2, 1, 50, 250)]);
        assert_eq!((got[&1], got[&2]), (50, 250));
        // A child whose parent never arrives: its own time is counted, nothing else.
        let got = self_times(&[span(5, 99, 0, 10)]);
        assert_eq!(got[&5], 10);
    }

    #[test]
    fn many_late_children_are_cheap_and_exact() {
        // A failed root arrives first, then 100,000 back-to-back children of 5 ns each with
        // a 5 ns gap: half the root is covered.
        let mut r = Rollups::default();
        r.add(&span(1, 0, 0, 1_000_000));
        for i in 0..100_000u64 {
            r.add(&SpanFacts {
                path: 2,
                ..span(i + 2, 1, i as i64 * 10, 5)
            });
        }
        let minutes = r.take_minutes();
        assert_eq!(minutes[&(0, 1)].self_ns, 500_000);
        assert_eq!(minutes[&(0, 1)].calls, 1);
    }
}
