//! The writer thread: gathers the error lane, queued batches and spill segments, applies
//! sampling, and commits each round to the store in one transaction. A plain std thread: the
//! SDK must not pull an async runtime into the host application.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pathwise_model::Record;
use pathwise_store::{CacheDelta, PipelineStats, Store, WriteBatch};

use crate::paths::Interned;
use crate::sampling::SamplingFilter;
use crate::shared::Shared;
use crate::spill::{decode_file, move_aside, set_aside};
use crate::{cache, clock};

mod edges;
mod retention;
use edges::panic_text;

/// Records written per store call: a shutdown timeout is honoured between pieces, and a
/// whole spill segment (8 MB) is not one long transaction.
const PIECE: usize = 20_000;

/// How writing a round ended.
enum Outcome {
    /// Stored (or parked in a spill segment): the round's files can go.
    Stored,
    /// The store kept failing at shutdown; what could be parked was.
    Failed,
    /// The shutdown timeout passed between pieces.
    Deadline,
}

/// Attempts before a batch that the store keeps refusing is parked in a spill segment.
const COMMIT_ATTEMPTS: u32 = 3;

pub(crate) fn spawn(
    shared: Arc<Shared>,
    store: Box<dyn Store>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("pathwise-writer".into())
        .spawn(move || Writer::new(shared, store).run())
}

struct Writer {
    shared: Arc<Shared>,
    store: Box<dyn Store>,
    sampler: SamplingFilter,
    last_stats: Instant,
    last_retention: Option<Instant>,
    /// When the writer last took the records waiting in threads' buffers, and for which
    /// flush request (a flush takes them at once).
    last_handover: Instant,
    handover_flush: u64,
}

/// What one round of collection found.
struct Round {
    records: Vec<Record>,
    /// Files to delete once `records` are safely stored.
    files: Vec<PathBuf>,
    /// Files holding unreadable records besides `records`: moved aside (never deleted) once
    /// `records` are stored.
    damaged: Vec<PathBuf>,
    /// Nothing was left behind in the queue or the spill when this round was taken.
    drained: bool,
    /// Records taken from the error reserve.
    from_reserve: usize,
    /// Every record also lies in one of `files` (nothing came from memory), so a store that
    /// is down can be waited for with the files kept, instead of parking the records again at
    /// the end of the spill, which would reorder them.
    durable: bool,
}

impl Writer {
    fn new(shared: Arc<Shared>, store: Box<dyn Store>) -> Self {
        Writer {
            shared,
            store,
            sampler: SamplingFilter::default(),
            last_stats: Instant::now(),
            last_retention: None,
            last_handover: Instant::now(),
            handover_flush: 0,
        }
    }

    fn run(mut self) {
        // A panic in a store (a backend's bug) must not stop recording: it is caught, reported
        // and the loop goes on, with the round's records parked or left in their files.
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| self.start_up())) {
            self.shared.report(&format!(
                "the writer panicked at start-up ({}); recording continues, the error lane is kept for the next start",
                panic_text(&panic)
            ));
        }
        loop {
            match catch_unwind(AssertUnwindSafe(|| self.round())) {
                Ok(true) => break,
                Ok(false) => {}
                Err(panic) => {
                    self.shared.report(&format!(
                        "the writer panicked ({}); restarted",
                        panic_text(&panic)
                    ));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        self.shared.abandon_reserve();
        let mut done = self.shared.flush_done.lock();
        *done = u64::MAX;
        self.shared.flushed.notify_all();
    }

    /// One round: collects, samples, commits and signals flushes; true when the pipeline is
    /// done (shut down and drained, or given up on a failing store at shutdown).
    fn round(&mut self) -> bool {
        let flush_target = self.shared.flush_requested.load(Ordering::Acquire);
        let shutting_down = self.shared.shutting_down.load(Ordering::Acquire);
        self.register_functions();
        if shutting_down && self.past_shutdown_deadline() {
            self.leave_backlog();
            return true;
        }
        let mut round = self.collect(flush_target, shutting_down);
        let mut kept = Vec::with_capacity(round.records.len());
        let sampled_out = self
            .sampler
            .filter(std::mem::take(&mut round.records), &mut kept);
        self.shared
            .counters
            .sampled_out
            .fetch_add(sampled_out, Ordering::Relaxed);
        let finishing = shutting_down && round.drained;
        if finishing {
            self.sampler.release_all(&mut kept);
        }
        let stats_due = self.shared.config.store_stats
            && (finishing || self.last_stats.elapsed() >= self.shared.config.stats_interval);
        let had_work = !kept.is_empty() || !round.files.is_empty() || !round.damaged.is_empty();
        if had_work || stats_due {
            let cache = if stats_due {
                cache::take_deltas()
            } else {
                Vec::new()
            };
            let attempt = catch_unwind(AssertUnwindSafe(|| {
                self.commit_round(&kept, round.durable, &cache, stats_due)
            }));
            // Stored, or parked again (back in the reserve if the disk is still full).
            self.shared.reserve_settled(round.from_reserve);
            let stored = match attempt {
                Ok(Outcome::Stored) => true,
                Ok(Outcome::Failed) => false,
                Ok(Outcome::Deadline) => {
                    // The round's files stay: the next start replays them (the store keeps
                    // one copy of what this round already wrote).
                    self.leave_backlog();
                    return true;
                }
                Err(panic) => {
                    self.after_store_panic(&kept, &round, &panic);
                    return false;
                }
            };
            if stored {
                for file in &round.files {
                    let _ = std::fs::remove_file(file);
                }
                for file in &round.damaged {
                    let kept_as = move_aside(file, "damaged");
                    self.shared.report(&format!(
                        "{file:?} held unreadable records; its readable ones are stored, the file is kept as {kept_as:?}"
                    ));
                }
            } else if shutting_down {
                // The store keeps failing: what could not be written is parked in spill
                // files, which the next start replays.
                return true;
            }
            if stats_due {
                self.last_stats = Instant::now();
            }
        } else {
            // Held by the sampler until their root comes: no longer the reserve's.
            self.shared.reserve_settled(round.from_reserve);
        }
        self.run_retention();
        if round.drained {
            let mut done = self.shared.flush_done.lock();
            *done = (*done).max(flush_target);
            self.shared.flushed.notify_all();
        }
        if finishing {
            return true;
        }
        if !had_work {
            self.wait(flush_target);
        }
        false
    }

    /// Writes a round in pieces of [`PIECE`] records, checking the shutdown deadline between
    /// them. Records of a failed or interrupted round that came from memory are parked; those
    /// from files stay there.
    fn commit_round(
        &mut self,
        kept: &[Record],
        durable: bool,
        cache: &[CacheDelta],
        stats_due: bool,
    ) -> Outcome {
        let pieces = kept.len().div_ceil(PIECE).max(1);
        let piece =
            |i: usize| &kept[(i * PIECE).min(kept.len())..((i + 1) * PIECE).min(kept.len())];
        let rest = |i: usize| &kept[(i * PIECE).min(kept.len())..];
        for i in 0..pieces {
            if i > 0
                && self.shared.shutting_down.load(Ordering::Acquire)
                && self.past_shutdown_deadline()
            {
                if !durable {
                    self.park(rest(i));
                }
                return Outcome::Deadline;
            }
            let last = i + 1 == pieces;
            let cache = if i == 0 { cache } else { &[] };
            let safe = if durable && cache.is_empty() {
                self.commit_in_place(piece(i), stats_due && last)
            } else {
                self.commit(piece(i), cache, stats_due && last)
            };
            if !safe {
                if !durable {
                    self.park(rest(i + 1));
                }
                return Outcome::Failed;
            }
        }
        Outcome::Stored
    }

    /// Registers the functions given since the last round. Ones the store refuses are kept
    /// for the next round: the registry is what "never executed" is computed from.
    fn register_functions(&mut self) {
        let functions = std::mem::take(&mut *self.shared.functions.lock());
        if functions.is_empty() {
            return;
        }
        if let Err(e) = self.store.register_functions(&functions) {
            self.shared.warn(&format!("cannot register functions: {e}"));
            let mut pending = self.shared.functions.lock();
            let later = std::mem::replace(&mut *pending, functions);
            pending.extend(later);
        }
    }

    /// Registers functions and replays error-lane records a previous process left behind.
    fn start_up(&mut self) {
        self.register_functions();
        let Some((recovered, corrupt)) = self.shared.recovered.lock().take() else {
            return;
        };
        // Lane files with unreadable frames are moved aside once the rest is stored, never
        // deleted: the bytes are all there is of those records.
        let finish = |files: &[PathBuf]| {
            for file in files {
                if corrupt > 0 {
                    move_aside(file, "damaged");
                } else {
                    let _ = std::fs::remove_file(file);
                }
            }
        };
        if corrupt > 0 {
            self.shared.report(&format!(
                "{corrupt} unreadable records in the error lane; its files are kept as *.damaged"
            ));
        }
        if !recovered.records.is_empty() {
            let n = recovered.records.len() as u64;
            self.shared
                .counters
                .replayed
                .fetch_add(n, Ordering::Relaxed);
            self.shared
                .counters
                .recorded
                .fetch_add(n, Ordering::Relaxed);
            if self.commit(&recovered.records, &[], false) {
                finish(&recovered.files);
            }
        } else {
            finish(&recovered.files);
        }
    }

    fn collect(&mut self, flush_target: u64, shutting_down: bool) -> Round {
        let lane = self.shared.take_lane();
        let mut records = lane.records;
        let (batches, from_reserve, segment) = self.shared.take_work();
        let mut files = lane.files;
        let mut damaged = Vec::new();
        let total: usize = batches.iter().map(Vec::len).sum();
        let taken = batches.len();
        records.reserve(total);
        let mut emptied = Vec::with_capacity(batches.len());
        for mut batch in batches {
            records.append(&mut batch);
            emptied.push(batch);
        }
        self.shared.recycle(emptied.into_iter());
        // After the queued batches: a thread's buffer holds records newer than those it
        // handed over, so they stay in the order they ended.
        let waited = self.take_waiting(&mut records, flush_target, shutting_down);
        if let Some(segment) = segment {
            match decode_file(&segment) {
                Ok(decoded) if decoded.newer.is_some() => {
                    let version = decoded.newer.unwrap_or_default();
                    let kept = set_aside(&segment, version);
                    self.shared.report(&format!(
                        "spill segment {segment:?} holds records of format version {version}, newer than this build reads; kept as {kept:?} for a newer build"
                    ));
                }
                Ok(decoded) => {
                    self.shared
                        .counters
                        .replayed
                        .fetch_add(decoded.records.len() as u64, Ordering::Relaxed);
                    records.extend(decoded.records);
                    if decoded.corrupt > 0 {
                        // Torn by a crash mid-write, or damaged on disk: the bytes are kept.
                        self.shared.report(&format!(
                            "{} unreadable records in {segment:?}",
                            decoded.corrupt
                        ));
                        damaged.push(segment);
                    } else {
                        files.push(segment);
                    }
                }
                Err(e) => {
                    let kept = move_aside(&segment, "unreadable");
                    self.shared.report(&format!(
                        "cannot read spill segment {segment:?} ({e}); kept as {kept:?}, never deleted"
                    ));
                }
            }
        }
        Round {
            durable: taken == 0 && waited == 0,
            records,
            files,
            damaged,
            drained: self.shared.idle(),
            from_reserve,
        }
    }

    /// Takes the records waiting in quiet threads' buffers when the hand-over interval has
    /// passed, a flush asks for everything, or recording stops; returns how many.
    fn take_waiting(&mut self, into: &mut Vec<Record>, flush_target: u64, stopping: bool) -> usize {
        if !self.shared.takes_thread_buffers {
            return 0;
        }
        let due = stopping
            || flush_target != self.handover_flush
            || self.last_handover.elapsed() >= self.shared.config.handover_interval;
        if !due {
            return 0;
        }
        self.last_handover = Instant::now();
        self.handover_flush = flush_target;
        let taken = crate::handover::take_waiting(into);
        self.shared
            .counters
            .recorded
            .fetch_add(taken as u64, Ordering::Relaxed);
        taken
    }

    /// Stores a round whose records are all still in their files: on failure, waits (backing
    /// off up to two seconds) and tries again, for as long as it takes — a remote store that
    /// is down for a while gets everything, in order, once it is back. Gives up only at
    /// shutdown, leaving the files for the next start.
    fn commit_in_place(&mut self, records: &[Record], with_stats: bool) -> bool {
        let mut pause = Duration::from_millis(50);
        loop {
            match self.write(records, &[], with_stats) {
                Ok(()) => return true,
                Err(e) => {
                    self.shared.warn(&format!("store write failed: {e}"));
                    if self.shared.shutting_down.load(Ordering::Acquire) {
                        return false;
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// One attempt at storing `records` (with the statistics as they will be after it).
    fn write(
        &mut self,
        records: &[Record],
        cache: &[CacheDelta],
        with_stats: bool,
    ) -> Result<(), pathwise_store::StoreError> {
        let stats = with_stats.then(|| self.stats_after(records.len() as u64));
        let batch = WriteBatch {
            records,
            cache,
            stats: stats.as_ref(),
        };
        self.store.write_batch(&batch, &Interned)?;
        self.note_written(records);
        Ok(())
    }

    /// Stores one round; retries, then parks the records in a spill segment rather than lose
    /// them. Returns whether the records are safe (stored or parked).
    fn commit(&mut self, records: &[Record], cache: &[CacheDelta], with_stats: bool) -> bool {
        let mut attempt = 0;
        loop {
            match self.write(records, cache, with_stats) {
                Ok(()) => return true,
                Err(e) => {
                    attempt += 1;
                    self.shared.warn(&format!("store write failed: {e}"));
                    if attempt >= COMMIT_ATTEMPTS {
                        return self.park(records)
                            && !self.shared.shutting_down.load(Ordering::Acquire);
                    }
                    std::thread::sleep(Duration::from_millis(50 << attempt));
                }
            }
        }
    }

    fn park(&self, records: &[Record]) -> bool {
        let n = records.len() as u64;
        let mut queue = self.shared.queue.lock();
        match queue.spill.append(records) {
            Ok(()) => {
                self.shared.counters.spilled.fetch_add(n, Ordering::Relaxed);
                true
            }
            Err(e) => {
                self.shared.keep_errors(&mut queue, records, &e);
                false
            }
        }
    }

    /// The statistics as they will be once `records` are written (so the stored row is exact).
    fn stats_after(&self, records: u64) -> PipelineStats {
        let mut stats = self.shared.stats();
        stats.written += records;
        stats
    }

    fn note_written(&self, records: &[Record]) {
        let counters = &self.shared.counters;
        counters
            .written
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        let oldest_end = records
            .iter()
            .filter_map(|r| match r {
                Record::Span(s) => Some(s.start_ns.saturating_add(s.duration_ns as i64)),
                Record::Trace(_) | Record::Resource(_) => None,
            })
            .min();
        if let Some(oldest) = oldest_end {
            let lag = clock().wall_now_ns().saturating_sub(oldest).max(0) as u64;
            counters.write_lag_ns.store(lag, Ordering::Relaxed);
        }
    }

    /// Age-based retention, then size-based, then the space given back to the file system.
    fn run_retention(&mut self) {
        let config = &self.shared.config;
        if config.retention.is_none() && config.retention_bytes.is_none() {
            return;
        }
        if self
            .last_retention
            .is_some_and(|t| t.elapsed() < config.retention_interval)
        {
            return;
        }
        self.last_retention = Some(Instant::now());
        let now_ms = (clock().wall_now_ns() / 1_000_000).max(0) as u64;
        let mut removed = 0;
        if let Some(keep) = config.retention {
            let cutoff = now_ms.saturating_sub(keep.as_millis() as u64);
            match self.store.delete_before(cutoff) {
                Ok(rows) => removed += rows,
                Err(e) => self.shared.warn(&format!("retention failed: {e}")),
            }
        }
        if let Some(limit) = self.shared.config.retention_bytes {
            removed += retention::trim_to_size(&mut *self.store, limit, now_ms, &self.shared);
        }
        if removed > 0
            && let Err(e) = self.store.reclaim(false)
        {
            self.shared
                .warn(&format!("cannot give deleted space back: {e}"));
        }
    }

    /// Sleeps until the flush interval passes or someone needs the writer sooner.
    fn wait(&self, flush_target: u64) {
        let mut queue = self.shared.queue.lock();
        let needed = !queue.batches.is_empty()
            || queue.spill.active()
            || self.shared.shutting_down.load(Ordering::Acquire)
            || self.shared.flush_requested.load(Ordering::Acquire) != flush_target;
        if !needed {
            self.shared
                .wake
                .wait_for(&mut queue, self.shared.config.flush_interval);
        }
    }
}
