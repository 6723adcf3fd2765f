//! Thread buffers the writer can empty: a span that ended is visible within a hand-over
//! interval even when its thread goes quiet under a root that stays open for minutes, and the
//! hot path pays no atomic read-modify-write and no fence for it.
//!
//! Each thread's buffer sits in a [`Slot`]. The owner marks itself `busy` (a plain store and a
//! compiler fence) around every access; the writer marks slots `stealing`, issues one
//! process-wide memory barrier (Linux `membarrier`, which makes every running thread execute
//! a full fence) and then takes the records of every slot that is not busy. Either the
//! owner's `busy` store happened before the barrier, and the writer sees it and leaves that
//! slot alone, or the owner's later load of `stealing` comes after it, and the owner waits
//! for the writer (a few nanoseconds: a `Vec::append`). This is the asymmetric form of
//! Dekker's mutual exclusion: the rare side pays for the fence.
//!
//! Without `membarrier` (another OS, or a sandbox that forbids it), nothing is ever taken:
//! buffers are handed over by their owners as before (full batch, outermost span left, thread
//! exit), and [`available`] says so.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering, compiler_fence};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;
use pathwise_model::Record;

/// One thread's buffer, shared with the writer under the busy/stealing protocol above.
pub(crate) struct Slot {
    busy: AtomicBool,
    stealing: AtomicBool,
    buffer: UnsafeCell<Vec<Record>>,
}

// SAFETY: `buffer` is only touched by the owner while `busy` is set and `stealing` is not, or
// by the writer while `stealing` is set and, after the process-wide barrier, `busy` is not:
// never by both (see the module documentation).
unsafe impl Sync for Slot {}

static SLOTS: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());

impl Slot {
    /// A new, registered slot for the calling thread.
    pub(crate) fn register() -> Arc<Slot> {
        let slot = Arc::new(Slot {
            busy: AtomicBool::new(false),
            stealing: AtomicBool::new(false),
            buffer: UnsafeCell::new(Vec::new()),
        });
        let mut slots = SLOTS.lock();
        slots.retain(|s| s.strong_count() > 0);
        slots.push(Arc::downgrade(&slot));
        slot
    }

    /// Runs `f` on the buffer, as its owning thread. `None` when re-entered from inside `f`
    /// (the buffer is already in use further up this thread's stack).
    #[inline]
    pub(crate) fn with_buffer<R>(&self, f: impl FnOnce(&mut Vec<Record>) -> R) -> Option<R> {
        // Only the owner sets `busy`, so finding it set means re-entry.
        if self.busy.load(Ordering::Relaxed) {
            return None;
        }
        loop {
            self.busy.store(true, Ordering::Relaxed);
            // With the writer's process-wide barrier this orders the store above before the
            // load below, as a full fence would, at the cost of none.
            compiler_fence(Ordering::SeqCst);
            if !self.stealing.load(Ordering::Acquire) {
                break;
            }
            self.busy.store(false, Ordering::Release);
            wait_while(&self.stealing);
        }
        // SAFETY: busy is set and the writer is not stealing (module documentation).
        let result = f(unsafe { &mut *self.buffer.get() });
        self.busy.store(false, Ordering::Release);
        Some(result)
    }
}

#[cold]
fn wait_while(flag: &AtomicBool) {
    let mut spins = 0u32;
    while flag.load(Ordering::Acquire) {
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Whether the writer can take records from threads' buffers (the process-wide barrier is
/// available and registered).
///
/// ```
/// // On Linux this is normally true; elsewhere buffers are only handed over by their threads.
/// let _ = pathwise_pipeline::timed_handover_available();
/// ```
pub fn available() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(barrier::register)
}

/// Moves the records waiting in every thread's buffer that is not in use right now into
/// `into`; returns how many. Called by the writer only.
pub(crate) fn take_waiting(into: &mut Vec<Record>) -> usize {
    if !available() {
        return 0;
    }
    let slots: Vec<Arc<Slot>> = {
        let mut registered = SLOTS.lock();
        registered.retain(|s| s.strong_count() > 0);
        registered.iter().filter_map(Weak::upgrade).collect()
    };
    if slots.is_empty() {
        return 0;
    }
    for slot in &slots {
        slot.stealing.store(true, Ordering::Relaxed);
    }
    if !barrier::heavy() {
        for slot in &slots {
            slot.stealing.store(false, Ordering::Release);
        }
        return 0;
    }
    let before = into.len();
    for slot in &slots {
        if !slot.busy.load(Ordering::Acquire) {
            // SAFETY: stealing is set and, after the barrier, the owner is not busy.
            into.append(unsafe { &mut *slot.buffer.get() });
        }
        slot.stealing.store(false, Ordering::Release);
    }
    into.len() - before
}

#[cfg(target_os = "linux")]
mod barrier {
    // From linux/membarrier.h.
    const CMD_QUERY: libc::c_long = 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn membarrier(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integers and touches no user memory.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    pub(super) fn register() -> bool {
        let supported = membarrier(CMD_QUERY);
        supported >= 0
            && supported & CMD_PRIVATE_EXPEDITED != 0
            && membarrier(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn heavy() -> bool {
        membarrier(CMD_PRIVATE_EXPEDITED) == 0
    }
}

#[cfg(not(target_os = "linux"))]
mod barrier {
    pub(super) fn register() -> bool {
        false
    }

    pub(super) fn heavy() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{SpanKind, SpanRecord, TraceId};

    /// The tests take from every registered slot, so they must not run at the same time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn record(id: u64) -> Record {
        Record::Span(SpanRecord::new(
            TraceId(1),
            id,
            0,
            "t".into(),
            SpanKind::Span,
        ))
    }

    #[test]
    fn an_idle_threads_records_are_taken_and_a_busy_one_is_left_alone() {
        if !available() {
            eprintln!("membarrier is not available here: nothing to test");
            return;
        }
        let _serial = SERIAL.lock();
        let slot = Slot::register();
        slot.with_buffer(|b| b.extend((0..3).map(record)));
        let mut taken = Vec::new();
        take_waiting(&mut taken);
        assert!(taken.len() >= 3, "the idle slot's records are taken");
        assert_eq!(slot.with_buffer(|b| b.len()), Some(0));

        // While the owner is inside with_buffer, the writer must not take anything from it.
        let mut during = Vec::new();
        slot.with_buffer(|b| {
            b.push(record(9));
            take_waiting(&mut during);
        });
        assert!(
            !during
                .iter()
                .any(|r| matches!(r, Record::Span(s) if s.span_id == 9))
        );
        assert_eq!(slot.with_buffer(|b| b.len()), Some(1));
        assert_eq!(
            slot.with_buffer(|_| slot.with_buffer(|_| ())),
            Some(None),
            "re-entry"
        );
    }

    #[test]
    fn concurrent_pushes_and_takes_lose_and_duplicate_nothing() {
        if !available() {
            return;
        }
        let _serial = SERIAL.lock();
        const PER_THREAD: u64 = 200_000;
        let done = Arc::new(AtomicBool::new(false));
        let producers: Vec<_> = (0..2u64)
            .map(|t| {
                std::thread::spawn(move || {
                    let slot = Slot::register();
                    for i in 0..PER_THREAD {
                        slot.with_buffer(|b| b.push(record(t * PER_THREAD + i)));
                    }
                    let mut rest = Vec::new();
                    slot.with_buffer(|b| rest.append(b));
                    rest
                })
            })
            .collect();
        let stealer = {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut taken = Vec::new();
                while !done.load(Ordering::Acquire) {
                    take_waiting(&mut taken);
                }
                taken
            })
        };
        let mut seen: Vec<u64> = Vec::new();
        for producer in producers {
            seen.extend(producer.join().unwrap().iter().map(id));
        }
        done.store(true, Ordering::Release);
        let taken = stealer.join().unwrap();
        assert!(
            !taken.is_empty(),
            "the writer side took records while they were produced"
        );
        seen.extend(taken.iter().map(id));
        seen.sort_unstable();
        assert_eq!(seen, (0..2 * PER_THREAD).collect::<Vec<_>>());
    }

    fn id(record: &Record) -> u64 {
        match record {
            Record::Span(s) => s.span_id,
            _ => u64::MAX,
        }
    }
}
