//! Rollup figures every backend keeps: per (minute, path) and per (hour, path) counts, errors,
//! total and self time, min/max and a DDSketch of durations (1 % relative error), plus error
//! counts by type. Analytics read these instead of scanning spans, so any window is cheap.
//!
//! [`Rollups`] accumulates one batch of spans; a backend then merges the batch into its stored
//! rows (SQLite by read-modify-write in the span transaction, a column store by inserting
//! partial rows that merge later). The figures are the same whichever backend keeps them.

use std::collections::HashMap;
use std::hash::Hash;

use pathwise_model::TraceId;
use sketches_ddsketch::{Config, DDSketch};

/// Relative accuracy of every stored quantile.
pub const SKETCH_RELATIVE_ERROR: f64 = 0.01;

/// Nanoseconds in a rollup minute.
pub const NS_PER_MINUTE: i64 = 60_000_000_000;

/// Pending child-time sums kept for parents not yet seen; beyond this the oldest are dropped
/// (self time of those parents is then overstated, never a span lost).
const MAX_PENDING_CHILD_SUMS: usize = 200_000;

/// A new, empty sketch with the store's accuracy.
///
/// ```
/// let mut s = pathwise_store::rollup::new_sketch();
/// s.add(100.0);
/// assert_eq!(s.count(), 1);
/// ```
pub fn new_sketch() -> DDSketch {
    DDSketch::new(Config::new(SKETCH_RELATIVE_ERROR, 2048, 1.0))
}

/// Decodes a stored sketch; a damaged blob yields an empty sketch instead of an error.
///
/// ```
/// use pathwise_store::rollup::{decode_sketch, encode_sketch, new_sketch};
/// let mut s = new_sketch();
/// s.add(5.0);
/// assert_eq!(decode_sketch(&encode_sketch(&s)).count(), 1);
/// assert_eq!(decode_sketch(b"garbage").count(), 0);
/// ```
pub fn decode_sketch(blob: &[u8]) -> DDSketch {
    postcard::from_bytes(blob).unwrap_or_else(|_| new_sketch())
}

/// The stored form of a sketch (postcard), mergeable after decoding.
pub fn encode_sketch(sketch: &DDSketch) -> Vec<u8> {
    postcard::to_stdvec(sketch).unwrap_or_default()
}

/// One bucket's figures for one path (or, merged, for one node).
#[derive(Clone)]
pub struct Bucket {
    pub calls: i64,
    pub errors: i64,
    pub total_ns: i64,
    pub self_ns: i64,
    pub min_ns: i64,
    pub max_ns: i64,
    pub first_ns: i64,
    pub last_ns: i64,
    pub sketch: DDSketch,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("calls", &self.calls)
            .field("errors", &self.errors)
            .field("total_ns", &self.total_ns)
            .field("self_ns", &self.self_ns)
            .field("sketch_count", &self.sketch.count())
            .finish_non_exhaustive()
    }
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket::new()
    }
}

impl Bucket {
    /// An empty bucket (min/first at their maximum so that any merge replaces them).
    ///
    /// ```
    /// use pathwise_store::rollup::Bucket;
    /// let mut a = Bucket::new();
    /// let mut b = Bucket::new();
    /// b.calls = 2;
    /// b.min_ns = 7;
    /// a.merge(&b);
    /// assert_eq!((a.calls, a.min_ns), (2, 7));
    /// ```
    pub fn new() -> Self {
        Bucket {
            calls: 0,
            errors: 0,
            total_ns: 0,
            self_ns: 0,
            min_ns: i64::MAX,
            max_ns: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            sketch: new_sketch(),
        }
    }

    /// Adds another bucket's figures to this one.
    pub fn merge(&mut self, other: &Bucket) {
        self.calls += other.calls;
        self.errors += other.errors;
        self.total_ns += other.total_ns;
        self.self_ns += other.self_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        // Same configuration everywhere, so a merge cannot fail.
        let _ = self.sketch.merge(&other.sketch);
    }
}

/// One span as the rollups see it; `P` is the backend's path key.
pub struct SpanFacts<P> {
    pub trace_id: TraceId,
    pub span_id: u64,
    pub parent_id: u64,
    pub path: P,
    pub start_ns: i64,
    pub duration_ns: i64,
    /// `Some(type)` for a failed span, keyed the way the backend keys names.
    pub error_type: Option<P>,
}

/// Accumulates one batch of spans into per-minute buckets and error counts.
///
/// ```
/// use pathwise_model::TraceId;
/// use pathwise_store::rollup::{Rollups, SpanFacts};
/// let mut r = Rollups::<i64>::default();
/// let t = TraceId(1);
/// r.add(&SpanFacts { trace_id: t, span_id: 2, parent_id: 1, path: 2, start_ns: 0, duration_ns: 3, error_type: None });
/// r.add(&SpanFacts { trace_id: t, span_id: 1, parent_id: 0, path: 1, start_ns: 0, duration_ns: 10, error_type: None });
/// let minutes = r.take_minutes();
/// assert_eq!(minutes[&(0, 1)].self_ns, 7);
/// ```
pub struct Rollups<P> {
    minutes: HashMap<(i64, P), Bucket>,
    errors: HashMap<(i64, P, P), i64>,
    /// (trace, parent span) → summed durations of children already seen.
    child_time: HashMap<(TraceId, u64), i64>,
}

impl<P> Default for Rollups<P> {
    fn default() -> Self {
        Rollups {
            minutes: HashMap::new(),
            errors: HashMap::new(),
            child_time: HashMap::new(),
        }
    }
}

impl<P: Clone + Eq + Hash> Rollups<P> {
    /// Counts one stored span.
    pub fn add(&mut self, span: &SpanFacts<P>) {
        if span.parent_id != 0 {
            *self
                .child_time
                .entry((span.trace_id, span.parent_id))
                .or_insert(0) += span.duration_ns;
        }
        let children = self
            .child_time
            .remove(&(span.trace_id, span.span_id))
            .unwrap_or(0);
        let minute = span.start_ns.div_euclid(NS_PER_MINUTE);
        let bucket = self.minutes.entry((minute, span.path.clone())).or_default();
        bucket.calls += 1;
        bucket.total_ns += span.duration_ns;
        bucket.self_ns += (span.duration_ns - children).max(0);
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
    }

    /// The batch's buckets keyed by (minute, path), leaving the accumulator empty (pending
    /// child sums of parents not yet seen are kept for the next batch).
    pub fn take_minutes(&mut self) -> HashMap<(i64, P), Bucket> {
        if self.child_time.len() > MAX_PENDING_CHILD_SUMS {
            self.child_time.clear();
        }
        std::mem::take(&mut self.minutes)
    }

    /// The batch's error counts keyed by (minute, path, error type).
    pub fn take_errors(&mut self) -> HashMap<(i64, P, P), i64> {
        std::mem::take(&mut self.errors)
    }
}

/// The minute buckets rolled up into hours, keyed by (hour, path).
///
/// ```
/// use pathwise_store::rollup::{Bucket, hours_of};
/// let mut b = Bucket::new();
/// b.calls = 1;
/// let m = [((61i64, "p"), b.clone()), ((62, "p"), b)].into_iter().collect();
/// assert_eq!(hours_of(&m)[&(1, "p")].calls, 2);
/// ```
pub fn hours_of<P: Clone + Eq + Hash>(
    minutes: &HashMap<(i64, P), Bucket>,
) -> HashMap<(i64, P), Bucket> {
    let mut hours: HashMap<(i64, P), Bucket> = HashMap::new();
    for ((minute, path), bucket) in minutes {
        hours
            .entry((minute.div_euclid(60), path.clone()))
            .or_default()
            .merge(bucket);
    }
    hours
}

/// Minute and hour bucket ranges (`[start, end)` bucket numbers) that cover a window exactly
/// once: whole hours from the hour rollups, the ragged edges from the minute rollups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cover {
    pub hours: (i64, i64),
    pub minutes: [(i64, i64); 2],
}

impl Cover {
    /// The cover of `window` (its edges widened to whole minutes).
    ///
    /// ```
    /// use pathwise_store::{Window, rollup::{Cover, NS_PER_MINUTE}};
    /// // 00:30 → 03:10: minutes 30..60, hours 1..3, minutes 180..190.
    /// let c = Cover::of(Window { since_ns: 30 * NS_PER_MINUTE, until_ns: 190 * NS_PER_MINUTE });
    /// assert_eq!(c.hours, (1, 3));
    /// assert_eq!(c.minutes, [(30, 60), (180, 190)]);
    /// ```
    pub fn of(window: crate::Window) -> Cover {
        let first_minute = window.since_ns.div_euclid(NS_PER_MINUTE);
        let end_minute = if window.until_ns == i64::MAX {
            i64::MAX / NS_PER_MINUTE
        } else {
            (window.until_ns + NS_PER_MINUTE - 1).div_euclid(NS_PER_MINUTE)
        };
        let first_hour = (first_minute + 59).div_euclid(60);
        let end_hour = end_minute.div_euclid(60);
        if first_hour >= end_hour {
            return Cover {
                hours: (0, 0),
                minutes: [(first_minute, end_minute), (0, 0)],
            };
        }
        Cover {
            hours: (first_hour, end_hour),
            minutes: [(first_minute, first_hour * 60), (end_hour * 60, end_minute)],
        }
    }

    /// The whole window in minutes: `[first minute, end minute)`.
    pub fn minute_span(&self) -> (i64, i64) {
        if self.hours.1 > self.hours.0 {
            (self.minutes[0].0, self.minutes[1].1)
        } else {
            self.minutes[0]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Window;

    #[test]
    fn a_window_inside_one_hour_is_minutes_only() {
        let m = NS_PER_MINUTE;
        let c = Cover::of(Window {
            since_ns: 5 * m + 1,
            until_ns: 20 * m - 1,
        });
        assert_eq!((c.hours, c.minutes[0]), ((0, 0), (5, 20)));
        assert_eq!(c.minute_span(), (5, 20));
    }
}
