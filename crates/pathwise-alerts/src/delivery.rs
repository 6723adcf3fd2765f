//! What the notifiers that deliver over the network (webhook, e-mail) share: a bounded queue
//! that `notify` never waits on, a delivery thread of their own, retries with back-off, and
//! the failures the engine records as `delivery_failed` history.
//!
//! A receiver that hangs or a full queue can never stall evaluation: `notify` only
//! `try_send`s, and a full queue is a recorded failure, not a wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::notify::{DeliveryFailure, Notification};
use crate::now_ns;

/// Delivery counters and failures, shared by the queue and its thread.
#[derive(Default)]
struct DeliveryLog {
    delivered: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<DeliveryFailure>>,
}

impl DeliveryLog {
    fn fail(&self, receiver: &str, n: &Notification, error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let failure = DeliveryFailure {
            receiver: receiver.to_string(),
            group_key: n.group_key.clone(),
            fingerprints: n.alerts.iter().map(|a| a.fingerprint.clone()).collect(),
            error,
            ts_ns: now_ns(),
        };
        if let Ok(mut f) = self.failures.lock() {
            f.push(failure);
        }
    }
}

/// The notifier's end of a delivery queue; the thread behind it ends when this is dropped and
/// the queue is drained.
pub(crate) struct DeliveryQueue {
    receiver: String,
    sender: SyncSender<Notification>,
    log: Arc<DeliveryLog>,
}

impl DeliveryQueue {
    /// Starts thread `thread_name`, which hands each queued notification to `deliver`; an
    /// `Err` is recorded as a failure of `receiver`.
    pub(crate) fn start(
        receiver: &str,
        thread_name: &str,
        capacity: usize,
        mut deliver: impl FnMut(&Notification) -> Result<(), String> + Send + 'static,
    ) -> DeliveryQueue {
        let (sender, queued) = sync_channel::<Notification>(capacity.max(1));
        let log = Arc::new(DeliveryLog::default());
        let thread_log = log.clone();
        let thread_receiver = receiver.to_string();
        std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                for n in queued {
                    match deliver(&n) {
                        Ok(()) => {
                            thread_log.delivered.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(error) => thread_log.fail(&thread_receiver, &n, error),
                    }
                }
            })
            .unwrap_or_else(|e| panic!("cannot start the {thread_name} thread: {e}"));
        DeliveryQueue {
            receiver: receiver.to_string(),
            sender,
            log,
        }
    }

    /// The receiver's name, as recorded with its failures.
    pub(crate) fn receiver(&self) -> &str {
        &self.receiver
    }

    /// Queues `n` without waiting; a full queue or a stopped thread is a recorded failure.
    pub(crate) fn push(&self, n: &Notification) {
        match self.sender.try_send(n.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(n)) => {
                self.log
                    .fail(&self.receiver, &n, "delivery queue full".into())
            }
            Err(TrySendError::Disconnected(n)) => {
                self.log
                    .fail(&self.receiver, &n, "delivery thread stopped".into())
            }
        }
    }

    /// Failures since the last call.
    pub(crate) fn take_failures(&self) -> Vec<DeliveryFailure> {
        self.log
            .failures
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default()
    }

    pub(crate) fn delivered(&self) -> u64 {
        self.log.delivered.load(Ordering::Relaxed)
    }

    pub(crate) fn failed(&self) -> u64 {
        self.log.failed.load(Ordering::Relaxed)
    }
}

/// Why one delivery attempt failed.
pub(crate) enum AttemptError {
    /// Worth another try (connection refused, timeout, a temporary refusal).
    Transient(String),
    /// Trying again cannot help (the receiver refused the message for good).
    Permanent(String),
}

/// Runs `attempt` up to `1 + retries` times, waiting `backoff` before the first retry and twice
/// as long before each next one; stops early at a permanent error. The error names the number
/// of attempts made and the last reason.
pub(crate) fn with_retries(
    retries: u32,
    backoff: Duration,
    mut attempt: impl FnMut() -> Result<(), AttemptError>,
) -> Result<(), String> {
    let mut wait = backoff;
    let mut last_error = String::new();
    for made in 1..=retries.saturating_add(1) {
        if made > 1 {
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2);
        }
        match attempt() {
            Ok(()) => return Ok(()),
            Err(AttemptError::Transient(e)) => last_error = e,
            Err(AttemptError::Permanent(e)) => {
                return Err(format!("refused after {made} attempt(s), not retried: {e}"));
            }
        }
    }
    Err(format!(
        "{} attempts failed: {last_error}",
        retries.saturating_add(1)
    ))
}
