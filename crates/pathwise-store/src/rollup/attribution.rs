//! Latency attribution: each trace's critical path, summed per path into the rollups
//! (`Bucket::critical_ns`). Summed over a window, a path's figure is the request latency it
//! was responsible for; all paths' figures add up to the roots' durations.
//!
//! A trace's spans are held until its root arrives, and the trace is walked then. Spans that
//! arrive after that (a failed root comes through the error lane ahead of its children; a
//! detached task ends late; OTLP batches arrive in any order) mark the trace for a second walk
//! at the end of the batch, whose difference from the first corrects the figures: exact in any
//! arrival order while the trace is remembered. Walked traces are remembered for
//! `REMEMBER_BATCHES` batches; all held spans are bounded by `MAX_HELD_SPANS`. Traces let go
//! before their root came are left out of attribution (never out of the other figures) and
//! counted.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

use pathwise_model::TraceId;

use super::critical::{SpanInterval, critical_segments};
use super::{NS_PER_MINUTE, SpanFacts};

/// Spans held across all traces; past this the least recently touched traces are let go.
const MAX_HELD_SPANS: usize = 200_000;

/// Batches a walked trace is remembered for late spans.
const REMEMBER_BATCHES: u64 = 50;

/// Traces remembered as let go, so that their later spans are not walked as a partial trace.
const MAX_ABANDONED: usize = 100_000;

/// Critical time per (minute, path): what a walk yields and what the rollups add.
pub(super) type Attributed<P> = Vec<((i64, P), i64)>;

/// One held span: its interval and where its time is counted.
struct Held<P> {
    interval: SpanInterval,
    path: P,
}

struct HeldTrace<P> {
    spans: Vec<Held<P>>,
    /// The last walk's figures, once the root has arrived.
    walked: Option<HashMap<(i64, P), i64>>,
    /// A span arrived after the last walk.
    dirty: bool,
    last_batch: u64,
}

/// The held traces and the batch counter.
pub(super) struct Attribution<P> {
    traces: HashMap<TraceId, HeldTrace<P>>,
    /// (batch, trace) whenever a walked trace was last touched, oldest first.
    walked_order: VecDeque<(u64, TraceId)>,
    dirty: Vec<TraceId>,
    held: usize,
    batch: u64,
    abandoned: HashSet<TraceId>,
    /// Traces left out of attribution (let go before their root came).
    pub(super) dropped_traces: u64,
}

impl<P> Default for Attribution<P> {
    fn default() -> Self {
        Attribution {
            traces: HashMap::new(),
            walked_order: VecDeque::new(),
            dirty: Vec::new(),
            held: 0,
            batch: 0,
            abandoned: HashSet::new(),
            dropped_traces: 0,
        }
    }
}

impl<P: Clone + Eq + Hash> Attribution<P> {
    /// Holds `span`; when it is a root, walks its trace and returns the critical time.
    pub(super) fn add(&mut self, span: &SpanFacts<P>) -> Attributed<P> {
        if self.abandoned.contains(&span.trace_id) {
            if span.parent_id == 0 {
                self.abandoned.remove(&span.trace_id);
            }
            return Vec::new();
        }
        let batch = self.batch;
        let trace = self
            .traces
            .entry(span.trace_id)
            .or_insert_with(|| HeldTrace {
                spans: Vec::new(),
                walked: None,
                dirty: false,
                last_batch: batch,
            });
        trace.spans.push(Held {
            interval: SpanInterval {
                span_id: span.span_id,
                parent_id: span.parent_id,
                start_ns: span.start_ns,
                end_ns: span.start_ns.saturating_add(span.duration_ns),
            },
            path: span.path.clone(),
        });
        trace.last_batch = batch;
        self.held += 1;
        if trace.walked.is_some() {
            if !trace.dirty {
                trace.dirty = true;
                self.dirty.push(span.trace_id);
                self.walked_order.push_back((batch, span.trace_id));
            }
            return Vec::new();
        }
        if span.parent_id != 0 {
            return Vec::new();
        }
        let figures = walk(&trace.spans);
        let out = figures.iter().map(|(k, v)| (k.clone(), *v)).collect();
        trace.walked = Some(figures);
        self.walked_order.push_back((batch, span.trace_id));
        out
    }

    /// Ends a batch: traces that got spans after their walk are walked again and corrected by
    /// the difference; traces not touched for long are forgotten.
    pub(super) fn end_batch(&mut self) -> Attributed<P> {
        let mut out = Vec::new();
        for id in std::mem::take(&mut self.dirty) {
            let Some(trace) = self.traces.get_mut(&id) else {
                continue;
            };
            trace.dirty = false;
            let figures = walk(&trace.spans);
            let before = trace.walked.take().unwrap_or_default();
            for (key, ns) in &figures {
                let delta = ns - before.get(key).copied().unwrap_or(0);
                if delta != 0 {
                    out.push((key.clone(), delta));
                }
            }
            for (key, ns) in before {
                if !figures.contains_key(&key) {
                    out.push((key, -ns));
                }
            }
            trace.walked = Some(figures);
        }
        self.forget_old();
        if self.held > MAX_HELD_SPANS {
            self.let_go_least_recent();
        }
        self.batch += 1;
        out
    }

    fn forget_old(&mut self) {
        while let Some(&(touched, id)) = self.walked_order.front() {
            if touched + REMEMBER_BATCHES > self.batch {
                break;
            }
            self.walked_order.pop_front();
            let stale = self
                .traces
                .get(&id)
                .is_some_and(|t| t.walked.is_some() && t.last_batch == touched);
            if stale && let Some(trace) = self.traces.remove(&id) {
                self.held -= trace.spans.len();
            }
        }
    }

    /// Over the bound: the least recently touched traces go until a quarter is free.
    fn let_go_least_recent(&mut self) {
        let mut by_age: Vec<(u64, TraceId)> = self
            .traces
            .iter()
            .map(|(id, t)| (t.last_batch, *id))
            .collect();
        by_age.sort_unstable();
        for (_, id) in by_age {
            if self.held <= MAX_HELD_SPANS * 3 / 4 {
                break;
            }
            if let Some(trace) = self.traces.remove(&id) {
                self.held -= trace.spans.len();
                if trace.walked.is_none() {
                    if self.abandoned.len() >= MAX_ABANDONED {
                        self.abandoned.clear();
                    }
                    self.abandoned.insert(id);
                    self.dropped_traces += 1;
                }
            }
        }
    }
}

/// The critical time of a trace's spans per (minute of the span's start, path).
fn walk<P: Clone + Eq + Hash>(spans: &[Held<P>]) -> HashMap<(i64, P), i64> {
    let intervals: Vec<SpanInterval> = spans.iter().map(|h| h.interval).collect();
    let by_id: HashMap<u64, &Held<P>> = spans.iter().map(|h| (h.interval.span_id, h)).collect();
    let mut time: HashMap<(i64, P), i64> = HashMap::new();
    for segment in critical_segments(&intervals) {
        if let Some(held) = by_id.get(&segment.span_id) {
            let minute = held.interval.start_ns.div_euclid(NS_PER_MINUTE);
            *time.entry((minute, held.path.clone())).or_insert(0) +=
                segment.end_ns - segment.start_ns;
        }
    }
    time
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u64, parent: u64, start: i64, end: i64) -> SpanFacts<u64> {
        SpanFacts {
            trace_id: TraceId(9),
            span_id: id,
            parent_id: parent,
            path: id,
            start_ns: start,
            duration_ns: end - start,
            error_type: None,
        }
    }

    fn total(figures: &[((i64, u64), i64)], path: u64) -> i64 {
        figures
            .iter()
            .filter(|((_, p), _)| *p == path)
            .map(|(_, ns)| ns)
            .sum()
    }

    #[test]
    fn a_late_child_moves_time_from_its_parent_at_the_end_of_the_batch() {
        let mut a = Attribution::default();
        // Root 0–100 arrives alone (a failed root, through the error lane).
        let mut got = a.add(&span(1, 0, 0, 100));
        assert_eq!(total(&got, 1), 100);
        // Its two parallel children follow: 10–60 and 10–90. The second is critical.
        got.extend(a.add(&span(2, 1, 10, 60)));
        got.extend(a.add(&span(3, 1, 10, 90)));
        got.extend(a.end_batch());
        assert_eq!(
            (total(&got, 1), total(&got, 2), total(&got, 3)),
            (20, 0, 80)
        );
    }

    #[test]
    fn forgotten_traces_stop_correcting_and_rootless_ones_are_counted_when_let_go() {
        let mut a = Attribution::default();
        a.add(&span(1, 0, 0, 100));
        for _ in 0..REMEMBER_BATCHES + 1 {
            a.end_batch();
        }
        assert!(
            a.traces.is_empty(),
            "a walked trace is forgotten after a while"
        );
        assert_eq!(a.held, 0);
        let mut a = Attribution::<u64>::default();
        for i in 0..(MAX_HELD_SPANS as u64 + 1) {
            a.add(&SpanFacts {
                trace_id: TraceId(i as u128 + 10),
                ..span(2, 1, 0, 1)
            });
        }
        a.end_batch();
        assert!(a.held <= MAX_HELD_SPANS * 3 / 4);
        assert!(a.dropped_traces > 0);
    }
}
