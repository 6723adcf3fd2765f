//! Running the engine on its own thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::{Engine, Readings};
use crate::lease::LeaseHandle;
use crate::rules::RuleSet;
use crate::signals::SignalSource;

/// A running engine; evaluation stops (and the thread is joined) when this is dropped.
///
/// ```
/// use std::time::Duration;
/// use pathwise_alerts::{Engine, Rule, RuleSet, SignalSource};
/// struct Nothing;
/// impl SignalSource for Nothing {
///     fn value(&self, _: &Rule, _: i64) -> Result<Option<f64>, String> { Ok(None) }
/// }
/// let dir = tempfile::tempdir().unwrap();
/// let store = pathwise_store_sqlite::SqliteAlertStore::open(&dir.path().join("p.db")).unwrap();
/// let engine = Engine::new(RuleSet::default(), Box::new(Nothing), Box::new(store), vec![]).unwrap();
/// let handle = engine.spawn(Some(Duration::from_millis(10)));
/// std::thread::sleep(Duration::from_millis(50));
/// assert!(handle.evaluations() >= 2);
/// assert!(handle.engine().active().is_empty());
/// ```
pub struct EngineHandle {
    engine: Arc<Mutex<Engine>>,
    evaluations: Arc<AtomicU64>,
    lease: Option<Arc<LeaseHandle>>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// The engine, whatever a panic elsewhere left behind (its state stays usable).
fn lock(engine: &Mutex<Engine>) -> MutexGuard<'_, Engine> {
    match engine.lock() {
        Ok(e) => e,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Engine {
    /// Evaluates every `interval` (default: the rules' `check_interval`) on a std thread,
    /// reloading the rules file first when one is attached.
    ///
    /// The lock that [`EngineHandle::engine`] takes is never held while signals are read (a
    /// SQL rule may run for its whole timeout): the thread reads them on its own, then
    /// publishes the result under the lock, applying it to the alerts as they stand then, so
    /// an acknowledgement or silence made meanwhile is kept.
    pub fn spawn(self, interval: Option<Duration>) -> EngineHandle {
        self.spawn_with(interval, None)
    }

    /// As [`Engine::spawn`], but evaluating only while `lease` says this engine leads (see
    /// [`crate::Lease`]): otherwise it follows the alerts the leader stored, and on taking
    /// over it starts from them.
    pub fn spawn_leased(self, interval: Option<Duration>, lease: LeaseHandle) -> EngineHandle {
        self.spawn_with(interval, Some(Arc::new(lease)))
    }

    fn spawn_with(
        self,
        interval: Option<Duration>,
        lease: Option<Arc<LeaseHandle>>,
    ) -> EngineHandle {
        let engine = Arc::new(Mutex::new(self));
        let evaluations = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = channel::<()>();
        let (shared, count, leased) = (engine.clone(), evaluations.clone(), lease.clone());
        let thread = std::thread::Builder::new()
            .name("pathwise-alerts".into())
            .spawn(move || {
                let mut led = false;
                loop {
                    let started = Instant::now();
                    let (rules, source) = {
                        let mut engine = lock(&shared);
                        if let Err(e) = engine.reload() {
                            eprintln!(
                                "pathwise alerts: rules file not reloaded (old rules kept): {e}"
                            );
                        }
                        engine.reading_parts()
                    };
                    let every = interval.unwrap_or(rules.check_interval);
                    let wait = match &leased {
                        None => {
                            evaluate(&shared, rules, source.as_ref(), &count);
                            every
                        }
                        Some(lease) => {
                            led = leased_tick(&shared, lease, led, rules, source.as_ref(), &count);
                            if led { every } else { every.min(lease.beat()) }
                        }
                    };
                    // Waiting on the channel doubles as the sleep: drop wakes it at once.
                    match stopped.recv_timeout(wait.saturating_sub(started.elapsed())) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        _ => break,
                    }
                }
            })
            .expect("spawn alert engine thread");
        EngineHandle {
            engine,
            evaluations,
            lease,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// Reads the signals without the engine's lock, then publishes under it.
fn evaluate(engine: &Mutex<Engine>, rules: RuleSet, source: &dyn SignalSource, count: &AtomicU64) {
    let readings = Readings::take(rules, source, crate::now_ns());
    lock(engine).publish(readings);
    count.fetch_add(1, Ordering::Relaxed);
}

/// One tick under a lease; returns whether this engine led. A reading is published only if
/// the lease still holds once the (possibly slow) signals are in.
fn leased_tick(
    engine: &Mutex<Engine>,
    lease: &LeaseHandle,
    led: bool,
    rules: RuleSet,
    source: &dyn SignalSource,
    count: &AtomicU64,
) -> bool {
    if !lease.holds() {
        if let Err(e) = lock(engine).follow_stored() {
            eprintln!("pathwise alerts: cannot read the leading engine's alerts: {e}");
        }
        return false;
    }
    if !led && let Err(e) = lock(engine).follow_stored() {
        // Starting from stale state could announce an alert twice: wait for the store.
        eprintln!("pathwise alerts: not taking over yet, stored alerts unreadable: {e}");
        return false;
    }
    let readings = Readings::take(rules, source, crate::now_ns());
    if !lease.holds() {
        return false;
    }
    let mut engine = lock(engine);
    let now = crate::now_ns();
    if let Err(e) = engine.adopt_acknowledgements(now) {
        eprintln!("pathwise alerts: acknowledgements from other servers not read: {e}");
    }
    engine.publish(readings);
    count.fetch_add(1, Ordering::Relaxed);
    true
}

impl EngineHandle {
    /// The engine, for acknowledging, silencing and listing. Blocks only while an evaluation
    /// publishes (recording its changes), never while it reads signals.
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
    }

    /// Where this engine stands in the election; `None` for an engine without a lease
    /// (it always evaluates).
    pub fn lease(&self) -> Option<crate::LeaseStatus> {
        self.lease.as_ref().map(|l| l.status())
    }

    /// Whether this engine evaluates now (always, without a lease).
    pub fn evaluating(&self) -> bool {
        self.lease.as_ref().is_none_or(|l| l.holds())
    }

    /// Evaluations completed so far.
    pub fn evaluations(&self) -> u64 {
        self.evaluations.load(Ordering::Relaxed)
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
