//! Rollup figures every backend keeps: per (minute, path) and per (hour, path) counts, errors,
//! total and self time, min/max and a DDSketch of durations (1 % relative error), plus error
//! counts by type. Analytics read these instead of scanning spans, so any window is cheap.
//!
//! [`Rollups`] accumulates one batch of spans; a backend then merges the batch into its stored
//! rows (SQLite by read-modify-write in the span transaction, a column store by inserting
//! partial rows that merge later). The figures are the same whichever backend keeps them.

use std::collections::HashMap;
use std::hash::Hash;

mod accumulate;
mod attribution;
mod critical;

use pathwise_model::TraceId;
use sketches_ddsketch::{Config, DDSketch};

pub use accumulate::Rollups;
pub use critical::{CriticalSegment, SpanInterval, critical_segments, critical_time};

/// Relative accuracy of every stored quantile.
pub const SKETCH_RELATIVE_ERROR: f64 = 0.01;

/// Nanoseconds in a rollup minute.
pub const NS_PER_MINUTE: i64 = 60_000_000_000;

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
    /// Time this path spent on its traces' critical paths (what their latency waited on).
    pub critical_ns: i64,
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
            .field("critical_ns", &self.critical_ns)
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
            critical_ns: 0,
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
        self.critical_ns += other.critical_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        // Same configuration everywhere, so a merge cannot fail.
        let _ = self.sketch.merge(&other.sketch);
    }
}

/// One span as the rollups see it; `P` is the backend's path key.
#[derive(Clone, Debug)]
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

/// Nanoseconds of `within` covered by the union of `intervals` (each `(start, end)`, clipped
/// to `within`): the time a span spent waiting on its children, however they overlap. Sorts
/// `intervals` in place.
///
/// ```
/// // A 100 ns span with three parallel children: 10–60, 20–40, 50–120 (clipped to 100).
/// let mut kids = [(10, 60), (20, 40), (50, 120)];
/// assert_eq!(pathwise_store::rollup::covered_ns((0, 100), &mut kids), 90);
/// ```
pub fn covered_ns(within: (i64, i64), intervals: &mut [(i64, i64)]) -> i64 {
    intervals.sort_unstable();
    let (lo, hi) = within;
    let mut covered = 0i64;
    let mut reach = lo;
    for &(start, end) in intervals.iter() {
        let (start, end) = (start.max(reach), end.min(hi));
        if end > start {
            covered += end - start;
            reach = end;
        }
    }
    covered
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
