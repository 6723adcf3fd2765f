//! The producer side: a per-thread buffer that hands whole batches to the queue, so the hot
//! path costs a `Vec::push` and the shared queue is touched once per batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use pathwise_model::{Record, SpanRecord};

use crate::CURRENT;
use crate::handover::Slot;

static ENABLED: AtomicBool = AtomicBool::new(false);
/// Records of spans that began while a pipeline ran and ended, or were handed over, after it
/// stopped: they have nowhere to go, but they are counted and said, never lost silently.
static LATE: AtomicU64 = AtomicU64::new(0);
static LATE_WARNINGS: crate::shared::Throttle = crate::shared::Throttle::new();

/// Counts `n` late records and says so (at most once per 10 s).
#[cold]
fn late(n: usize) {
    let total = LATE.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
    let now = std::time::Duration::from_nanos(crate::clock().wall_now_ns().max(0) as u64);
    if let Some(held_back) = LATE_WARNINGS.admit(now) {
        eprintln!(
            "pathwise: warning: {total} records of spans that ended after recording stopped were not recorded{}",
            if held_back > 0 {
                format!(" ({held_back} more warnings since the last)")
            } else {
                String::new()
            }
        );
    }
}

/// Records that could not be recorded because they ended after the pipeline stopped (spans
/// still open at shutdown, or buffered on a thread that handed them over too late).
///
/// ```
/// assert_eq!(pathwise_pipeline::late_records(), 0);
/// ```
pub fn late_records() -> u64 {
    LATE.load(Ordering::Relaxed)
}
static THREAD_BATCH: AtomicUsize = AtomicUsize::new(1024);

pub(crate) fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Release);
}

pub(crate) fn set_thread_batch(n: usize) {
    THREAD_BATCH.store(n, Ordering::Relaxed);
    set_enabled(true);
}

#[inline]
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// This thread's buffer, in a slot the writer can empty when the thread goes quiet
/// (see `handover`).
struct Local {
    slot: Arc<Slot>,
}

impl Drop for Local {
    /// A thread that exits hands over what it still holds.
    fn drop(&mut self) {
        self.slot.with_buffer(hand_off);
    }
}

thread_local! {
    static LOCAL: Local = Local { slot: Slot::register() };
}

/// Moves `buffer`'s records to the queue, leaving a recycled empty buffer in its place.
fn hand_off(buffer: &mut Vec<Record>) {
    if buffer.is_empty() {
        return;
    }
    let current = CURRENT.read();
    match current.as_ref() {
        Some(shared) => {
            let batch = std::mem::take(buffer);
            *buffer = shared.push(batch);
        }
        // No pipeline any more: the records have nowhere to go.
        None => {
            late(buffer.len());
            buffer.clear();
        }
    }
}

/// Buffers a finished span on this thread.
///
/// The buffer is handed over when it holds `thread_batch` records or when [`flush_thread`] is
/// called (the SDK does so whenever a thread leaves its outermost span); the writer also takes
/// what waits in a quiet thread's buffer every `handover_interval`.
#[inline]
pub fn submit(mut span: SpanRecord) {
    if !enabled() {
        // Only a span started while recording gets here: it outlived the pipeline.
        late(1);
        return;
    }
    crate::privacy::scrub_span(&mut span);
    let _ = LOCAL.try_with(|local| {
        local.slot.with_buffer(|buffer| {
            buffer.push(Record::Span(span));
            if buffer.len() >= THREAD_BATCH.load(Ordering::Relaxed) {
                hand_off(buffer);
            }
        })
    });
}

/// Persists a failed span to the error lane before returning, then queues it.
pub fn submit_error(mut span: SpanRecord) {
    if !enabled() {
        late(1);
        return;
    }
    crate::privacy::scrub_span(&mut span);
    match CURRENT.read().as_ref() {
        Some(shared) => shared.push_error(Record::Span(span)),
        None => late(1),
    }
}

/// Queues a record immediately, bypassing the thread buffer (trace start events, which must
/// become visible while the trace runs, and resource samples from the sampler thread).
pub fn submit_now(mut record: Record) {
    if !enabled() {
        return;
    }
    crate::privacy::scrub_records(std::slice::from_mut(&mut record));
    if let Some(shared) = CURRENT.read().as_ref() {
        let _ = shared.push(vec![record]);
    }
}

/// Why [`submit_batch`] could not take a batch.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// No pipeline is running in this process.
    #[error("no recording pipeline is running")]
    NotRunning,
    /// The queue is full and the spill segment could not be written (disk full, permissions).
    #[error("the writer is behind and the spill cannot be written: {0}")]
    Spool(#[from] std::io::Error),
}

/// Queues a whole batch from a producer that can report failure to its own sender (remote
/// ingest), bypassing the thread buffer. Unlike [`submit`], nothing is silently discarded: the
/// batch is queued, spilled to disk, or handed back as an error.
///
/// ```
/// let err = pathwise_pipeline::submit_batch(vec![]).unwrap_err();
/// assert!(matches!(err, pathwise_pipeline::SubmitError::NotRunning));
/// ```
pub fn submit_batch(mut records: Vec<Record>) -> Result<(), SubmitError> {
    let current = CURRENT.read();
    let shared = current.as_ref().ok_or(SubmitError::NotRunning)?;
    if records.is_empty() {
        return Ok(());
    }
    crate::privacy::scrub_records(&mut records);
    shared.push_checked(records)?;
    Ok(())
}

/// Hands this thread's buffered records to the queue now.
pub fn flush_thread() {
    let _ = LOCAL.try_with(|local| local.slot.with_buffer(hand_off));
}
