//! The error reserve: where error spans wait in memory when neither the store nor the spill can
//! take them — a full disk. Other records are counted as dropped then (there is nowhere to put
//! them that is bounded), but an error span is what a user looks for first after an incident,
//! so while memory lasts (up to `PipelineConfig::error_reserve_bytes`) it is kept and offered
//! to the store again every round until the disk has room.

use pathwise_model::{Record, Status};

/// Error records held in memory, and an estimate of the memory they use.
#[derive(Default)]
pub(crate) struct ErrorReserve {
    records: Vec<Record>,
    bytes: usize,
}

/// What [`ErrorReserve::keep_errors`] did with a batch that could not be stored or spilled.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Kept {
    /// Error records now in the reserve.
    pub reserved: usize,
    /// Records lost: every other record, and error records past the reserve's limit.
    pub dropped: usize,
}

/// Whether a record is one the reserve keeps: a failed span.
pub(crate) fn is_error(record: &Record) -> bool {
    matches!(record, Record::Span(span) if span.status == Status::Error)
}

/// An estimate of the memory a record holds (its own size plus the text it owns); what the
/// reserve's limit is counted in.
pub(crate) fn approx_bytes(record: &Record) -> usize {
    let own = std::mem::size_of::<Record>();
    let Record::Span(span) = record else {
        return own;
    };
    let Some(details) = &span.details else {
        return own;
    };
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let attrs: usize = details
        .attrs
        .iter()
        .map(|(key, value)| key.len() + std::mem::size_of_val(value) + 32)
        .sum();
    let error = details.error.as_ref().map_or(0, |e| {
        e.error_type.len() + e.message.len() + e.chain.iter().map(String::len).sum::<usize>()
    });
    own + std::mem::size_of_val(&**details)
        + attrs
        + error
        + text(&details.input)
        + text(&details.output)
        + text(&details.reasoning)
        + text(&details.metadata)
}

impl ErrorReserve {
    /// Keeps the error records of `records` while the reserve stays within `limit` bytes; the
    /// rest is reported as dropped for the caller to count.
    pub(crate) fn keep_errors(&mut self, records: &[Record], limit: usize) -> Kept {
        let mut kept = Kept::default();
        for record in records {
            if !is_error(record) {
                kept.dropped += 1;
                continue;
            }
            let size = approx_bytes(record);
            if self.bytes + size > limit {
                kept.dropped += 1;
                continue;
            }
            self.bytes += size;
            self.records.push(record.clone());
            kept.reserved += 1;
        }
        kept
    }

    /// Error records waiting.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Hands every waiting record to the writer (which puts back what it still cannot store).
    pub(crate) fn take(&mut self) -> Vec<Record> {
        self.bytes = 0;
        std::mem::take(&mut self.records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{ErrorInfo, SpanKind, SpanRecord, TraceId};

    fn span(id: u64, failed: bool) -> Record {
        let mut span = SpanRecord::new(TraceId(7), id, 0, "load".into(), SpanKind::Span);
        if failed {
            span.status = Status::Error;
            span.details_mut().error = Some(ErrorInfo {
                error_type: "Timeout".into(),
                message: "x".repeat(1000),
                chain: vec![],
            });
        }
        Record::Span(span)
    }

    #[test]
    fn only_error_spans_are_kept_and_only_up_to_the_limit() {
        let mut reserve = ErrorReserve::default();
        let one = approx_bytes(&span(1, true));
        assert!(one > 1000, "the message counts: {one}");
        let batch = vec![span(1, true), span(2, false), span(3, true), span(4, true)];
        let kept = reserve.keep_errors(&batch, 2 * one + one / 2);
        assert_eq!(
            kept,
            Kept {
                reserved: 2,
                dropped: 2
            },
            "the ok span and the third error span (past the limit) are dropped"
        );
        assert_eq!(reserve.len(), 2);
        let taken = reserve.take();
        assert_eq!(taken, vec![span(1, true), span(3, true)]);
        assert!(reserve.is_empty());
        // Taking frees the room again.
        let kept = reserve.keep_errors(&[span(4, true)], 2 * one);
        assert_eq!(kept.reserved, 1);
    }
}
