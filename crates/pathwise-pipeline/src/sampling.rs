//! Trace-level sampling that never loses an error: records of a trace that lost the sampling
//! draw wait here until the trace's root arrives; the trace is then kept whole if any of its
//! spans failed, and discarded (and counted) otherwise.

use pathwise_model::{Record, Status, TraceId};
use rustc_hash::FxHashMap;

/// Above this many waiting records, everything waiting is kept rather than held longer:
/// memory stays bounded and keeping is the safe side.
const MAX_PENDING: usize = 200_000;
/// Decisions remembered for records that arrive after their root (spawned tasks).
const MAX_DECISIONS: usize = 100_000;

#[derive(Default)]
struct Waiting {
    records: Vec<Record>,
    has_error: bool,
}

/// Holds unsampled traces until they can be decided.
#[derive(Default)]
pub(crate) struct SamplingFilter {
    waiting: FxHashMap<TraceId, Waiting>,
    waiting_records: usize,
    /// Two generations, so old decisions age out without a full LRU.
    decided: [FxHashMap<TraceId, bool>; 2],
}

impl SamplingFilter {
    fn decision(&self, trace: TraceId) -> Option<bool> {
        self.decided
            .iter()
            .find_map(|generation| generation.get(&trace).copied())
    }

    fn remember(&mut self, trace: TraceId, keep: bool) {
        if self.decided[0].len() >= MAX_DECISIONS {
            self.decided.swap(0, 1);
            self.decided[0].clear();
        }
        self.decided[0].insert(trace, keep);
    }

    /// Moves the records to keep into `out`; returns how many were sampled out.
    pub(crate) fn filter(&mut self, records: Vec<Record>, out: &mut Vec<Record>) -> u64 {
        let mut sampled_out = 0;
        for record in records {
            let Record::Span(span) = &record else {
                out.push(record);
                continue;
            };
            if span.sampled {
                out.push(record);
                continue;
            }
            let (trace, is_error, is_root) = (
                span.trace_id,
                span.status == Status::Error,
                span.parent_id == 0,
            );
            match self.decision(trace) {
                Some(keep) if keep || is_error => out.push(record),
                Some(_) => sampled_out += 1,
                None => {
                    let waiting = self.waiting.entry(trace).or_default();
                    waiting.has_error |= is_error;
                    waiting.records.push(record);
                    self.waiting_records += 1;
                    if is_root {
                        let waiting = self.waiting.remove(&trace).unwrap_or_default();
                        self.waiting_records -= waiting.records.len();
                        if waiting.has_error {
                            out.extend(waiting.records);
                        } else {
                            sampled_out += waiting.records.len() as u64;
                        }
                        self.remember(trace, waiting.has_error);
                    }
                }
            }
        }
        if self.waiting_records > MAX_PENDING {
            self.release_all(out);
        }
        sampled_out
    }

    /// Keeps everything still waiting (at shutdown: a trace whose root never came is kept).
    pub(crate) fn release_all(&mut self, out: &mut Vec<Record>) {
        for (_, waiting) in self.waiting.drain() {
            out.extend(waiting.records);
        }
        self.waiting_records = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{SpanKind, SpanRecord};

    fn span(trace: u128, id: u64, parent: u64, error: bool) -> Record {
        let mut s = SpanRecord::new(TraceId(trace), id, parent, "s".into(), SpanKind::Span);
        s.sampled = false;
        if error {
            s.status = Status::Error;
        }
        Record::Span(s)
    }

    #[test]
    fn error_traces_are_kept_whole_and_clean_ones_dropped() {
        let mut filter = SamplingFilter::default();
        let mut out = Vec::new();
        let dropped = filter.filter(
            vec![
                span(1, 2, 1, false),
                span(2, 2, 1, true),
                span(1, 1, 0, false),
                span(2, 1, 0, false),
            ],
            &mut out,
        );
        assert_eq!(dropped, 2);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|r| r.trace_id() == Some(TraceId(2))));
        // A late error of a dropped trace is still kept; a late clean span is not.
        let dropped = filter.filter(vec![span(1, 3, 1, true), span(1, 4, 1, false)], &mut out);
        assert_eq!((dropped, out.len()), (1, 3));
    }

    #[test]
    fn resource_samples_are_never_sampled_out() {
        let mut filter = SamplingFilter::default();
        let mut out = Vec::new();
        let resource = Record::Resource(pathwise_model::ResourceSample::default());
        let dropped = filter.filter(vec![span(3, 1, 0, false), resource.clone()], &mut out);
        assert_eq!((dropped, out), (1, vec![resource]));
    }
}
