//! State shared by producers and the writer: the bounded queue, the spill, the error lane, the
//! counters and the flush/shutdown handshakes.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use pathwise_model::Record;
use pathwise_store::{FunctionInfo, PipelineStats};

use crate::PipelineConfig;
use crate::lane::{Lane, LaneTake};
use crate::reserve::ErrorReserve;
use crate::spill::Spill;

/// Batches the writer has emptied, kept for producers to refill; bounded so that one burst
/// does not pin its memory forever.
const MAX_SPARE_BUFFERS: usize = 64;

pub(crate) struct Queue {
    pub batches: VecDeque<Vec<Record>>,
    pub records: usize,
    pub spill: Spill,
    /// Error spans that neither the store nor the spill could take (a full disk).
    pub reserve: ErrorReserve,
    spare: Vec<Vec<Record>>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub recorded: AtomicU64,
    pub written: AtomicU64,
    pub spilled: AtomicU64,
    pub replayed: AtomicU64,
    pub dropped: AtomicU64,
    pub sampled_out: AtomicU64,
    pub queue_depth: AtomicU64,
    pub write_lag_ns: AtomicU64,
    /// Error spans waiting in the reserve now.
    pub reserved: AtomicU64,
}

pub(crate) struct Shared {
    pub config: PipelineConfig,
    pub queue: Mutex<Queue>,
    pub lane: Mutex<Lane>,
    pub counters: Counters,
    /// Wakes the writer early (queue filling up, flush or shutdown requested).
    pub wake: Condvar,
    pub flush_requested: AtomicU64,
    pub flush_done: Mutex<u64>,
    pub flushed: Condvar,
    pub shutting_down: AtomicBool,
    /// Error-lane records a previous process left behind (read before any producer runs, so
    /// they cannot be confused with this process's), and how many frames were unreadable.
    pub recovered: Mutex<Option<(LaneTake, usize)>>,
    /// When the writer stops draining at shutdown and leaves the rest in the spill.
    pub shutdown_deadline: Mutex<Option<Instant>>,
    /// Functions to register with the store at the writer's next round: those given at
    /// start-up, then any registered later (a Python function is decorated whenever its
    /// module is imported, often after `init`).
    pub functions: Mutex<Vec<FunctionInfo>>,
    /// Whether the writer takes records waiting in threads' buffers: only the process's
    /// installed pipeline does; a [`crate::BatchPipeline`] is fed whole batches and must not
    /// take the installed one's records.
    pub takes_thread_buffers: bool,
    started: Instant,
    warnings: Throttle,
}

/// How often a warning may be printed.
pub(crate) const WARN_EVERY: Duration = Duration::from_secs(10);

/// Lets one event through per [`WARN_EVERY`], counting the ones it holds back.
#[derive(Default)]
pub(crate) struct Throttle {
    /// When the last event went through, in ms since start, plus one (0: never).
    last_ms: AtomicU64,
    held_back: AtomicU64,
}

impl Throttle {
    pub(crate) const fn new() -> Throttle {
        Throttle {
            last_ms: AtomicU64::new(0),
            held_back: AtomicU64::new(0),
        }
    }

    /// `Some(events held back since the last one let through)` when this one may go.
    pub(crate) fn admit(&self, since_start: Duration) -> Option<u64> {
        let now = since_start.as_millis() as u64 + 1;
        let last = self.last_ms.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= WARN_EVERY.as_millis() as u64;
        if !due
            || self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            self.held_back.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.held_back.swap(0, Ordering::Relaxed))
    }
}

impl Shared {
    pub(crate) fn new(config: PipelineConfig, takes_thread_buffers: bool) -> Self {
        let spill = Spill::recover(&config.data_dir);
        let mut lane = Lane::new(&config.data_dir);
        let recovered = lane.recover();
        Shared {
            queue: Mutex::new(Queue {
                batches: VecDeque::new(),
                records: 0,
                spill,
                reserve: ErrorReserve::default(),
                spare: Vec::new(),
            }),
            lane: Mutex::new(lane),
            counters: Counters::default(),
            wake: Condvar::new(),
            flush_requested: AtomicU64::new(0),
            flush_done: Mutex::new(0),
            flushed: Condvar::new(),
            shutting_down: AtomicBool::new(false),
            recovered: Mutex::new(Some(recovered)),
            shutdown_deadline: Mutex::new(None),
            functions: Mutex::new(config.functions.clone()),
            takes_thread_buffers,
            started: Instant::now(),
            warnings: Throttle::default(),
            config,
        }
    }

    /// Queues `batch` if there is room and nothing waits in the spill (order); otherwise hands
    /// it back for the caller to spill.
    fn enqueue(&self, queue: &mut Queue, batch: Vec<Record>) -> Result<(), Vec<Record>> {
        let n = batch.len();
        if queue.spill.active() || queue.records + n > self.config.queue_capacity {
            return Err(batch);
        }
        queue.records += n;
        queue.batches.push_back(batch);
        self.counters
            .queue_depth
            .store(queue.records as u64, Ordering::Relaxed);
        if queue.records >= self.config.queue_capacity / 4 {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Enqueues a batch, or spills it when the queue is full (or already spilling, to keep
    /// order). Returns an empty buffer for the producer to reuse.
    pub(crate) fn push(&self, batch: Vec<Record>) -> Vec<Record> {
        let n = batch.len();
        self.counters
            .recorded
            .fetch_add(n as u64, Ordering::Relaxed);
        let mut queue = self.queue.lock();
        let mut batch = match self.enqueue(&mut queue, batch) {
            Ok(()) => return queue.spare.pop().unwrap_or_default(),
            Err(batch) => batch,
        };
        // Slow path, under the queue lock so that order is kept while spilling.
        match queue.spill.append(&batch) {
            Ok(()) => {
                self.counters.spilled.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => self.keep_errors(&mut queue, &batch, &e),
        }
        self.wake.notify_one();
        batch.clear();
        batch
    }

    /// Like [`Shared::push`], for producers that can hand a failure back to their own sender
    /// (remote ingest answers `503` so the client retries): when the queue is full and the
    /// spill cannot be written, the batch is not counted as recorded and the error returned.
    pub(crate) fn push_checked(&self, batch: Vec<Record>) -> std::io::Result<()> {
        let n = batch.len();
        let mut queue = self.queue.lock();
        let batch = match self.enqueue(&mut queue, batch) {
            Ok(()) => {
                self.counters
                    .recorded
                    .fetch_add(n as u64, Ordering::Relaxed);
                return Ok(());
            }
            Err(batch) => batch,
        };
        let result = queue.spill.append(&batch);
        if result.is_ok() {
            self.counters
                .recorded
                .fetch_add(n as u64, Ordering::Relaxed);
            self.counters.spilled.fetch_add(n as u64, Ordering::Relaxed);
        }
        self.wake.notify_one();
        result
    }

    /// `records` could be neither stored nor spilled (`why`): their error spans go to the
    /// reserve while it has room, the rest is counted as dropped, and the warning says both.
    pub(crate) fn keep_errors(&self, queue: &mut Queue, records: &[Record], why: &std::io::Error) {
        let kept = queue
            .reserve
            .keep_errors(records, self.config.error_reserve_bytes);
        let c = &self.counters;
        c.dropped.fetch_add(kept.dropped as u64, Ordering::Relaxed);
        c.reserved
            .fetch_add(kept.reserved as u64, Ordering::Relaxed);
        self.warn(&format!(
            "cannot write spill segment ({why}): {} records dropped, {} error spans kept in memory ({} waiting for room on disk)",
            kept.dropped,
            kept.reserved,
            queue.reserve.len()
        ));
    }

    /// Writes an error record to the lane file before returning, then queues it.
    pub(crate) fn push_error(&self, record: Record) {
        self.counters.recorded.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.lane.lock().append(record) {
            self.warn(&format!(
                "cannot write error lane ({e}); error spans rely on memory"
            ));
        }
    }

    pub(crate) fn take_lane(&self) -> LaneTake {
        self.lane.lock().take()
    }

    /// Returns emptied buffers for producers to reuse.
    pub(crate) fn recycle(&self, buffers: impl Iterator<Item = Vec<Record>>) {
        let mut queue = self.queue.lock();
        for mut buffer in buffers {
            if queue.spare.len() >= MAX_SPARE_BUFFERS {
                break;
            }
            buffer.clear();
            queue.spare.push(buffer);
        }
    }

    /// Takes every queued batch (the error reserve first), leaving the spill as it is; for a
    /// caller that parks them at once (which puts error spans back in the reserve if need be).
    pub(crate) fn take_batches(&self) -> Vec<Vec<Record>> {
        let mut queue = self.queue.lock();
        let (batches, from_reserve) = self.drain_memory(&mut queue);
        self.reserve_settled(from_reserve);
        batches
    }

    /// The error reserve (oldest) and the queued batches, taken out of `queue`, and how many
    /// records came from the reserve. They still count as reserved until the caller reports
    /// them settled (stored, or back in the reserve): the figure users watch must not blink
    /// to 0 while the writer is retrying them.
    fn drain_memory(&self, queue: &mut Queue) -> (Vec<Vec<Record>>, usize) {
        queue.records = 0;
        self.counters.queue_depth.store(0, Ordering::Relaxed);
        let mut batches = Vec::with_capacity(queue.batches.len() + 1);
        let from_reserve = queue.reserve.len();
        if from_reserve > 0 {
            batches.push(queue.reserve.take());
        }
        batches.extend(queue.batches.drain(..));
        (batches, from_reserve)
    }

    /// `n` records taken from the reserve are stored, or back in it.
    pub(crate) fn reserve_settled(&self, n: usize) {
        if n > 0 {
            self.counters
                .reserved
                .fetch_sub(n as u64, Ordering::Relaxed);
        }
    }

    /// Takes the error spans still in the reserve when the writer stops: memory was all they
    /// had, so they are counted as dropped and said.
    pub(crate) fn abandon_reserve(&self) {
        let lost = {
            let mut queue = self.queue.lock();
            self.counters.reserved.store(0, Ordering::Relaxed);
            queue.reserve.take().len()
        };
        if lost > 0 {
            self.counters
                .dropped
                .fetch_add(lost as u64, Ordering::Relaxed);
            self.report(&format!(
                "{lost} error spans held in memory could not be stored before recording stopped (no room on disk); counted as dropped"
            ));
        }
    }

    /// Takes every queued batch (the error reserve first, with how many records came from
    /// it), or if none, the oldest spill segment's path.
    pub(crate) fn take_work(&self) -> (Vec<Vec<Record>>, usize, Option<PathBuf>) {
        let mut queue = self.queue.lock();
        let (batches, from_reserve) = self.drain_memory(&mut queue);
        let segment = if batches.is_empty() {
            queue.spill.take_oldest()
        } else {
            None
        };
        (batches, from_reserve, segment)
    }

    /// Whether any record is still waiting in memory or on disk.
    pub(crate) fn idle(&self) -> bool {
        let queue = self.queue.lock();
        queue.batches.is_empty() && !queue.spill.active() && queue.reserve.is_empty()
    }

    /// Logs a problem that must not be folded into the one warning (each set-aside file).
    pub(crate) fn report(&self, message: &str) {
        eprintln!("pathwise: {message}");
    }

    /// Logs a problem at most once per [`WARN_EVERY`] (the host application must not be
    /// flooded), saying how many were held back and, while records are being lost, how many.
    pub(crate) fn warn(&self, message: &str) {
        let Some(held_back) = self.warnings.admit(self.started.elapsed()) else {
            return;
        };
        let mut line = format!("pathwise: warning: {message}");
        if held_back > 0 {
            line.push_str(&format!(" ({held_back} more warnings since the last)"));
        }
        let dropped = self.counters.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            line.push_str(&format!(
                "; {dropped} records DROPPED so far (alert signal `dropped`)"
            ));
        }
        eprintln!("{line}");
    }

    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let target = self.flush_requested.fetch_add(1, Ordering::AcqRel) + 1;
        self.wake.notify_one();
        let deadline = Instant::now() + timeout;
        let mut done = self.flush_done.lock();
        while *done < target {
            if self.flushed.wait_until(&mut done, deadline).timed_out() {
                return *done >= target;
            }
        }
        true
    }

    pub(crate) fn begin_shutdown(&self) {
        *self.shutdown_deadline.lock() = self
            .config
            .shutdown_timeout
            .and_then(|t| Instant::now().checked_add(t));
        self.shutting_down.store(true, Ordering::Release);
        let _queue = self.queue.lock(); // no lost wake-up: the writer checks under this lock
        self.wake.notify_one();
    }

    pub(crate) fn stats(&self) -> PipelineStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        PipelineStats {
            ts_ns: crate::clock().wall_now_ns(),
            recorded: get(&c.recorded),
            written: get(&c.written),
            spilled: get(&c.spilled),
            replayed: get(&c.replayed),
            dropped: get(&c.dropped),
            sampled_out: get(&c.sampled_out),
            queue_depth: get(&c.queue_depth),
            write_lag_ns: get(&c.write_lag_ns),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_go_out_once_per_period_with_the_count_held_back() {
        let throttle = Throttle::default();
        let at = |s: u64| throttle.admit(Duration::from_millis(s * 100));
        assert_eq!(at(0), Some(0), "the first goes out at once");
        assert_eq!(at(1), None);
        assert_eq!(at(50), None);
        assert_eq!(at(99), None);
        assert_eq!(
            at(100),
            Some(3),
            "ten seconds later, with the three held back"
        );
        assert_eq!(at(150), None);
        assert_eq!(at(300), Some(1));
        assert_eq!(at(301), None);
    }
}
