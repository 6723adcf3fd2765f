//! The latency baseline in force: what the recent window of an operation is compared with.
//!
//! A rolling history is the wrong reference once latency has shifted: after a few minutes
//! of a sustained slowdown the slow minutes dominate a young history, the slowdown becomes
//! its own baseline and the flag disappears. So the history is **replayed minute by minute**
//! (oldest first) the way a live monitor would have seen it:
//!
//! * Each minute (or run of quiet minutes, merged until they hold [`MIN_WINDOW`] calls) is
//!   sign-tested against the median of the reference built so far
//!   ([`median_shift`], the same `alpha` and minimum effect as the recent window).
//! * A minute that has **not** shifted joins the reference; a shifted one is left out, so
//!   the reference stays the level learned *before* the shift for as long as the shift lasts.
//!   When latency recovers, minutes join again; a user who accepts the new level stores a
//!   baseline learned from the shifted minutes (`pathwise baseline accept`).
//! * Until the reference holds `min_samples` calls everything joins (learning mode).
//! * A **stored** baseline (pinned or not) is a fixed reference: minutes are tested against
//!   its p50 only to find when the current shift began.
//!
//! Only the last `shift_memory` of the history is replayed (minute rollups are cheap but not
//! free); older history joins the reference as it is.

use sketches_ddsketch::DDSketch;

use crate::monitoring::representative_samples;
use crate::perf::regression::{MIN_WINDOW, ShiftKind, median_shift};
use pathwise_store::rollup::Bucket;

/// How the replay judges a minute.
pub(crate) struct Judge {
    pub alpha: f64,
    pub min_effect: f64,
    pub min_samples: usize,
    pub max_samples: usize,
}

/// The reference found by the replay.
pub(crate) struct Anchor {
    /// The learned reference (history minus shifted minutes); `None` with a stored baseline
    /// or no history at all.
    pub reference: Option<DDSketch>,
    /// Start (ns) of the trailing run of shifted minutes: when the current shift began.
    pub shifted_since_ns: Option<i64>,
    /// Calls of the minutes left out of the reference because they had shifted.
    pub excluded_calls: u64,
}

const MINUTE_NS: i64 = 60_000_000_000;
/// Representative samples a minute is judged on: enough for the sign test to see a 12 %
/// shift of a typical latency spread (lognormal σ 0.3: z ≈ 6.6) at a Bonferroni-corrected
/// alpha, and a bound on the work of replaying hours of busy minutes.
const MINUTE_SAMPLES: usize = 500;

/// Replays `minutes` (minute number, figures; oldest first) after `prior` (the older history
/// merged), against `stored_median` (ms) when a stored baseline is in force.
pub(crate) fn anchor(
    prior: Option<&Bucket>,
    minutes: &[(i64, Bucket)],
    stored_median: Option<f64>,
    judge: &Judge,
) -> Anchor {
    let mut reference: Option<DDSketch> = prior.map(|b| b.sketch.clone());
    let mut shifted_since_ns = None;
    let mut excluded_calls = 0u64;
    // Quiet minutes are merged until they hold enough calls to be judged.
    let mut pending: Option<(i64, Bucket)> = None;
    let last = minutes.len().saturating_sub(1);
    for (i, (minute, bucket)) in minutes.iter().enumerate() {
        let (start, chunk) = match pending.take() {
            Some((start, mut merged)) => {
                merged.merge(bucket);
                (start, merged)
            }
            None => (*minute, bucket.clone()),
        };
        if (chunk.calls as usize) < MIN_WINDOW && i < last {
            pending = Some((start, chunk));
            continue;
        }
        let established = reference
            .as_ref()
            .filter(|r| r.count() >= judge.min_samples.max(1));
        let median = stored_median.or_else(|| {
            established.and_then(|r| r.quantile(0.5).ok().flatten().map(|ns| ns / 1e6))
        });
        let shifted = median.and_then(|m| {
            let samples =
                representative_samples(&chunk.sketch, judge.max_samples.min(MINUTE_SAMPLES));
            median_shift(m, &samples, judge.alpha, judge.min_effect)
        });
        match shifted.map(|s| s.kind) {
            Some(ShiftKind::Regression | ShiftKind::Improvement) => {
                excluded_calls += chunk.calls.max(0) as u64;
                shifted_since_ns.get_or_insert(start * MINUTE_NS);
            }
            // Too few calls to judge (only the last chunk can be): it continues a running
            // shift rather than ending it, and stays out of the reference while one runs.
            None if shifted_since_ns.is_some() => excluded_calls += chunk.calls.max(0) as u64,
            _ => {
                shifted_since_ns = None;
                if stored_median.is_none() {
                    match &mut reference {
                        // Every rollup sketch has the same configuration: merging cannot fail.
                        Some(r) => r.merge(&chunk.sketch).ok().unwrap_or_default(),
                        None => reference = Some(chunk.sketch),
                    }
                }
            }
        }
    }
    Anchor {
        reference: if stored_median.is_some() {
            None
        } else {
            reference
        },
        shifted_since_ns,
        excluded_calls,
    }
}
