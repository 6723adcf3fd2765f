//! Running the engine on its own thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::engine::{Engine, Readings};

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
        let engine = Arc::new(Mutex::new(self));
        let evaluations = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = channel::<()>();
        let (shared, count) = (engine.clone(), evaluations.clone());
        let thread = std::thread::Builder::new()
            .name("pathwise-alerts".into())
            .spawn(move || {
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
                    let readings = Readings::take(rules, source.as_ref(), crate::now_ns());
                    lock(&shared).publish(readings);
                    count.fetch_add(1, Ordering::Relaxed);
                    // Waiting on the channel doubles as the sleep: drop wakes it at once.
                    match stopped.recv_timeout(every.saturating_sub(started.elapsed())) {
                        Err(RecvTimeoutError::Timeout) => continue,
                        _ => break,
                    }
                }
            })
            .expect("spawn alert engine thread");
        EngineHandle {
            engine,
            evaluations,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl EngineHandle {
    /// The engine, for acknowledging, silencing and listing. Blocks only while an evaluation
    /// publishes (recording its changes), never while it reads signals.
    pub fn engine(&self) -> MutexGuard<'_, Engine> {
        lock(&self.engine)
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
