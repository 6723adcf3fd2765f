//! The writer at the edges: a shutdown that runs out of time, and a store that panics. In
//! both, records are left where the next round or the next start finds them, never lost.

use std::time::{Duration, Instant};

use pathwise_model::Record;

use super::{Round, Writer};

pub(super) type PanicPayload = Box<dyn std::any::Any + Send>;

/// The message of a caught panic.
pub(super) fn panic_text(panic: &PanicPayload) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic".into())
}

impl Writer {
    pub(super) fn past_shutdown_deadline(&self) -> bool {
        self.shared
            .shutdown_deadline
            .lock()
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// The shutdown timeout has passed: what is still in memory goes to the spill, which the
    /// next start replays, and the writer stops; records on disk stay where they are.
    pub(super) fn leave_backlog(&mut self) {
        let mut held = Vec::new();
        self.sampler.release_all(&mut held);
        let batches = self.shared.take_batches();
        for batch in batches.iter().chain(std::iter::once(&held)) {
            if !batch.is_empty() {
                self.park(batch);
            }
        }
        let waiting = self.shared.queue.lock().spill.active();
        if waiting || !batches.is_empty() || !held.is_empty() {
            self.shared.report(&format!(
                "shutdown timeout ({:?}) reached: the rest of the backlog stays in {:?} for the next start",
                self.shared.config.shutdown_timeout.unwrap_or_default(),
                self.shared.config.data_dir
            ));
        }
    }

    /// A store panicked while writing a round: its records are not lost. Records taken from
    /// memory are parked in a spill segment; records read from files stay in them, and the
    /// files go back in line (after the others, so one bad batch cannot hold up the rest).
    pub(super) fn after_store_panic(
        &mut self,
        kept: &[Record],
        round: &Round,
        panic: &PanicPayload,
    ) {
        let what = if round.durable {
            let mut queue = self.shared.queue.lock();
            for file in round.files.iter().chain(&round.damaged) {
                queue.spill.requeue(file.clone());
            }
            "its records stay in their files"
        } else if self.park(kept) {
            "its records are parked in a spill segment"
        } else {
            "its records could not be parked and are counted as dropped"
        };
        self.shared.report(&format!(
            "the store panicked writing {} records ({}); {what}; the writer goes on",
            kept.len(),
            panic_text(panic)
        ));
        std::thread::sleep(Duration::from_millis(100));
    }
}
