//! Which of several servers sharing one store evaluates the rules: an election by heartbeats
//! in the store, so that exactly one engine reads signals and notifies, and another takes
//! over when it stops.
//!
//! Every engine writes a heartbeat each [`LeaseConfig::beat`]; one whose newest heartbeat is
//! older than [`LeaseConfig::ttl`] counts as gone. Holder ids start with the time the engine
//! started, so the oldest engine alive leads and a server that joins later never takes over
//! from a running one. The store offers no compare-and-swap (ClickHouse has none), so safety
//! comes from timing instead:
//!
//! - An engine that sees others alive and would lead waits one `ttl` first: by then the old
//!   leader has seen it (within one beat) and stepped down.
//! - A leader evaluates only while its own last heartbeat is younger than `ttl / 2`; the
//!   others consider it alive for a whole `ttl`. A leader that stalls (a slow store, a paused
//!   process) thus stops by itself well before anyone takes its place.
//! - An engine that sees nobody else leads at once: whoever led before has been silent for a
//!   `ttl` and so stopped itself at `ttl / 2`.
//!
//! Clocks of the servers may differ by less than `ttl / 2` (5 s by default).

use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use pathwise_store::alerts::AlertStateStore;
use serde::Serialize;

/// How often engines beat and how long a silent one counts as alive.
///
/// ```
/// let config = pathwise_alerts::LeaseConfig::default();
/// assert!(config.beat * 2 < config.ttl, "a leader beats several times per lease");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseConfig {
    pub beat: Duration,
    pub ttl: Duration,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        LeaseConfig {
            beat: Duration::from_secs(2),
            ttl: Duration::from_secs(10),
        }
    }
}

/// Where this engine stands in the election, for the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeaseStatus {
    /// This engine's id.
    pub holder: String,
    /// The engine that leads (or is about to), as last seen; `None` before the first beat
    /// or while the store cannot be reached.
    pub leader: Option<String>,
    /// Whether this engine evaluates now.
    pub evaluating: bool,
    /// Why the last beat failed, if it did.
    pub error: Option<String>,
}

/// One engine's part in the election, advanced by [`Lease::beat`].
///
/// ```
/// use pathwise_alerts::{Lease, LeaseConfig};
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// let mut store = pathwise_store_sqlite::SqliteAlertStore::open(&db).unwrap();
/// let second = 1_000_000_000;
/// let mut first = Lease::new("a".into(), LeaseConfig::default());
/// let mut later = Lease::new("b".into(), LeaseConfig::default());
/// assert!(first.beat(&mut store, 100 * second));
/// assert!(!later.beat(&mut store, 100 * second));
/// // The first stops beating (killed): after ten seconds the other takes over.
/// assert!(!later.beat(&mut store, 108 * second));
/// assert!(later.beat(&mut store, 111 * second));
/// assert!(!first.holds(111 * second));
/// ```
#[derive(Clone)]
pub struct Lease {
    holder: String,
    config: LeaseConfig,
    /// Start of the current unbroken run of heartbeats.
    run_started_ns: i64,
    renewed_ns: Option<i64>,
    leader: Option<String>,
    leading: bool,
    error: Option<String>,
}

fn ns(d: Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

impl Lease {
    /// A lease for the engine `holder`; ids compare as text, the smallest alive leads.
    pub fn new(holder: String, config: LeaseConfig) -> Lease {
        Lease {
            holder,
            config,
            run_started_ns: 0,
            renewed_ns: None,
            leader: None,
            leading: false,
            error: None,
        }
    }

    /// An id for an engine starting now in this process: start time (so older engines sort
    /// first), host and process id (so the operator can tell which server leads).
    pub fn holder_for_this_process() -> String {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".into());
        format!(
            "{:020}-{host}-{}",
            crate::now_ns().max(0),
            std::process::id()
        )
    }

    /// Writes this engine's heartbeat at `now_ns` and decides whether it leads; false also
    /// when the store cannot be reached (an engine that cannot beat must not evaluate).
    pub fn beat(&mut self, store: &mut dyn AlertStateStore, now_ns: i64) -> bool {
        let live = store
            .heartbeat(&self.holder, now_ns)
            .and_then(|()| store.evaluators(now_ns.saturating_sub(ns(self.config.ttl))));
        let live = match live {
            Ok(live) => live,
            Err(e) => {
                self.error = Some(e.to_string());
                self.leading = false;
                self.leader = None;
                return false;
            }
        };
        self.error = None;
        let unbroken = self
            .renewed_ns
            .is_some_and(|r| now_ns - r <= ns(self.config.ttl) / 2);
        if !unbroken {
            // After a gap the others may have taken over: start again as a newcomer.
            self.run_started_ns = now_ns;
            self.leading = false;
        }
        self.renewed_ns = Some(now_ns);
        let oldest_other = live
            .iter()
            .map(|e| e.holder.as_str())
            .filter(|h| *h != self.holder)
            .min();
        let first = oldest_other.is_none_or(|other| self.holder.as_str() < other);
        self.leader = Some(match (first, oldest_other) {
            (false, Some(other)) => other.to_string(),
            _ => self.holder.clone(),
        });
        self.leading = first
            && (self.leading
                || oldest_other.is_none()
                || now_ns - self.run_started_ns >= ns(self.config.ttl));
        self.leading
    }

    /// Whether this engine may publish an evaluation at `now_ns`: it leads and beat recently
    /// enough that nobody else can have taken over.
    pub fn holds(&self, now_ns: i64) -> bool {
        self.leading
            && self
                .renewed_ns
                .is_some_and(|r| now_ns - r < ns(self.config.ttl) / 2)
    }

    /// Where this engine stands.
    pub fn status(&self, now_ns: i64) -> LeaseStatus {
        LeaseStatus {
            holder: self.holder.clone(),
            leader: self.leader.clone(),
            evaluating: self.holds(now_ns),
            error: self.error.clone(),
        }
    }
}

/// A lease beating on its own thread (so a slow rule never delays a heartbeat); resigns and
/// stops when dropped.
///
/// ```
/// use pathwise_alerts::{Lease, LeaseConfig, LeaseHandle};
/// let dir = tempfile::tempdir().unwrap();
/// let store = pathwise_store_sqlite::SqliteAlertStore::open(&dir.path().join("p.db")).unwrap();
/// let lease = LeaseHandle::start(Lease::new("only".into(), LeaseConfig::default()), Box::new(store));
/// assert!(lease.holds(), "alone, it leads from its first beat");
/// assert_eq!(lease.status().leader.as_deref(), Some("only"));
/// ```
pub struct LeaseHandle {
    lease: Arc<Mutex<Lease>>,
    beat: Duration,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn lock(lease: &Mutex<Lease>) -> MutexGuard<'_, Lease> {
    lease
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LeaseHandle {
    /// Beats once (so the answer to [`LeaseHandle::holds`] is known at once), then every
    /// `beat` on a thread of its own, through `store`.
    pub fn start(lease: Lease, mut store: Box<dyn AlertStateStore>) -> LeaseHandle {
        let beat = lease.config.beat;
        let lease = Arc::new(Mutex::new(lease));
        lock(&lease).beat(store.as_mut(), crate::now_ns());
        let (stop, stopped) = channel::<()>();
        let shared = lease.clone();
        let thread = std::thread::Builder::new()
            .name("pathwise-alerts-lease".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(beat) {
                    // The store call runs outside the lock: `holds` must never wait on it.
                    let mut next = lock(&shared).clone();
                    next.beat(store.as_mut(), crate::now_ns());
                    *lock(&shared) = next;
                }
                let holder = lock(&shared).holder.clone();
                if let Err(e) = store.resign(&holder, crate::now_ns()) {
                    eprintln!("pathwise alerts: could not resign from the election: {e}");
                }
            })
            .expect("spawn alert lease thread");
        LeaseHandle {
            lease,
            beat,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Whether this engine may evaluate and publish now.
    pub fn holds(&self) -> bool {
        lock(&self.lease).holds(crate::now_ns())
    }

    /// Where this engine stands.
    pub fn status(&self) -> LeaseStatus {
        lock(&self.lease).status(crate::now_ns())
    }

    /// How often the lease beats (how often a standby engine looks again).
    pub fn beat(&self) -> Duration {
        self.beat
    }
}

impl Drop for LeaseHandle {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
