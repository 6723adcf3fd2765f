//! The election among engines sharing a store, on a real SQLite file and a simulated clock:
//! never two leaders at one instant, whatever the engines do (join, stall, die, resign), and a
//! leader again within a bounded time once the old one is gone.

use pathwise_alerts::{Lease, LeaseConfig};
use pathwise_store::StoreError;
use pathwise_store::alerts::{
    AlertStateRow, AlertStateStore, AlertWrite, Evaluator, HistoryFilter, HistoryRow, Matcher,
    Silence,
};
use pathwise_store_sqlite::SqliteAlertStore;

const SEC: i64 = 1_000_000_000;

struct Engine {
    lease: Lease,
    store: SqliteAlertStore,
    /// Beats at these offsets within each 2 s period (engines are not in step).
    phase: i64,
    /// Stops beating in this interval (a paused process, a store that hangs).
    stalled: Option<(i64, i64)>,
    /// Never beats again from here (kill -9).
    dies_at: Option<i64>,
    /// Resigns here and stops (a clean shutdown).
    resigns_at: Option<i64>,
    joins_at: i64,
}

impl Engine {
    fn new(db: &std::path::Path, holder: &str, phase: i64, joins_at: i64) -> Engine {
        Engine {
            lease: Lease::new(holder.into(), LeaseConfig::default()),
            store: SqliteAlertStore::open(db).unwrap(),
            phase,
            stalled: None,
            dies_at: None,
            resigns_at: None,
            joins_at,
        }
    }

    fn running(&self, t: i64) -> bool {
        t >= self.joins_at
            && self.dies_at.is_none_or(|d| t < d)
            && self.resigns_at.is_none_or(|r| t < r)
    }

    /// Advances to `t` (100 ms steps); true when this engine may publish at `t`.
    fn tick(&mut self, t: i64) -> bool {
        if self.resigns_at == Some(t) {
            let holder = self.lease.status(t).holder;
            self.store.resign(&holder, t).unwrap();
        }
        if !self.running(t) {
            return false;
        }
        let stalled = self.stalled.is_some_and(|(from, to)| t >= from && t < to);
        if !stalled && (t - self.phase).rem_euclid(2 * SEC) == 0 {
            self.lease.beat(&mut self.store, t);
        }
        self.lease.holds(t)
    }
}

/// Runs `engines` from 0 to `end` in 100 ms steps; returns who led at each step, checking
/// that no two ever did.
fn run(engines: &mut [Engine], end: i64) -> Vec<Option<usize>> {
    let mut leaders = Vec::new();
    let mut t = 0;
    while t <= end {
        let leading: Vec<usize> = (0..engines.len()).filter(|&i| engines[i].tick(t)).collect();
        assert!(
            leading.len() <= 1,
            "two leaders at {} ms: {leading:?}",
            t / 1_000_000
        );
        leaders.push(leading.first().copied());
        t += SEC / 10;
    }
    leaders
}

fn at(leaders: &[Option<usize>], seconds: f64) -> Option<usize> {
    leaders[(seconds * 10.0).round() as usize]
}

/// The first time (in seconds) from `from` on at which `who` leads.
fn first_lead(leaders: &[Option<usize>], who: usize, from: f64) -> Option<f64> {
    let start = (from * 10.0).round() as usize;
    (start..leaders.len())
        .find(|&i| leaders[i] == Some(who))
        .map(|i| i as f64 / 10.0)
}

#[test]
fn the_oldest_leads_and_a_newcomer_never_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    // Holder ids sort by start time: "a" started first.
    let mut engines = vec![
        Engine::new(&db, "a", 0, 0),
        Engine::new(&db, "b", SEC / 2, 5 * SEC),
        Engine::new(&db, "c", 13 * SEC / 10, 9 * SEC),
    ];
    let leaders = run(&mut engines, 60 * SEC);
    assert_eq!(
        at(&leaders, 0.0),
        Some(0),
        "alone, it leads at its first beat"
    );
    assert!(leaders.iter().all(|l| *l == Some(0)), "{leaders:?}");
}

#[test]
fn a_killed_leader_is_replaced_within_a_lease_and_not_before_it_ran_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let mut engines = vec![
        Engine::new(&db, "a", 0, 0),
        Engine::new(&db, "b", SEC / 2, 0),
        Engine::new(&db, "c", 3 * SEC / 2, 0),
    ];
    engines[0].dies_at = Some(20 * SEC + 1);
    let leaders = run(&mut engines, 60 * SEC);
    assert_eq!(at(&leaders, 19.0), Some(0));
    // a's last beat was at 20 s: it counts as alive until 30 s, b is next in line.
    let takeover = first_lead(&leaders, 1, 20.0).expect("b takes over");
    assert!(
        (30.0..=32.6).contains(&takeover),
        "b took over at {takeover} s"
    );
    assert!(
        leaders[(takeover * 10.0) as usize..]
            .iter()
            .all(|l| *l == Some(1))
    );
}

#[test]
fn a_clean_shutdown_hands_over_at_the_next_beat() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let mut engines = vec![
        Engine::new(&db, "a", 0, 0),
        Engine::new(&db, "b", SEC / 2, 0),
    ];
    engines[0].resigns_at = Some(20 * SEC + SEC / 10);
    let leaders = run(&mut engines, 40 * SEC);
    let takeover = first_lead(&leaders, 1, 20.0).expect("b takes over");
    assert!(
        (20.1..=22.6).contains(&takeover),
        "b took over at {takeover} s"
    );
}

#[test]
fn a_stalled_leader_stops_itself_and_earns_the_lead_back_only_after_a_lease() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let mut engines = vec![
        Engine::new(&db, "a", 0, 0),
        Engine::new(&db, "b", SEC / 2, 0),
    ];
    // a stops beating for 12 s: b takes over; then a is back and, being older, leads again.
    engines[0].stalled = Some((10 * SEC + 1, 22 * SEC + 1));
    let leaders = run(&mut engines, 60 * SEC);
    assert_eq!(at(&leaders, 9.0), Some(0));
    // a's last beat at 10 s: it stops publishing before 15 s by itself.
    assert_eq!(at(&leaders, 14.9), Some(0));
    let b_leads = first_lead(&leaders, 1, 10.0).expect("b takes over");
    assert!((20.0..=22.6).contains(&b_leads), "b led at {b_leads} s");
    // a beats again from 22 s: it waits a whole lease (b sees it and steps down) first.
    let a_back = first_lead(&leaders, 0, 15.0).expect("a leads again");
    assert!((32.0..=34.1).contains(&a_back), "a led again at {a_back} s");
    assert!(
        leaders[(a_back * 10.0) as usize..]
            .iter()
            .all(|l| *l == Some(0))
    );
}

#[test]
fn engines_joining_at_the_same_instant_elect_one() {
    for phase in [0, SEC / 10, SEC, 3 * SEC / 2] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        // The younger beats first and, alone, leads at once; the older then waits a lease.
        let mut engines = vec![Engine::new(&db, "b", 0, 0), Engine::new(&db, "a", phase, 0)];
        let leaders = run(&mut engines, 30 * SEC);
        assert_eq!(
            leaders.last().copied().flatten(),
            Some(1),
            "the older leads"
        );
    }
}

/// A real store that can be made to fail, as a full disk or an unreachable cluster would.
struct Breakable {
    inner: SqliteAlertStore,
    broken: bool,
}

impl Breakable {
    fn check(&self) -> Result<(), StoreError> {
        match self.broken {
            true => Err(StoreError::Backend("disk I/O error".into())),
            false => Ok(()),
        }
    }
}

impl AlertStateStore for Breakable {
    fn apply(&mut self, writes: &[AlertWrite<'_>]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.apply(writes)
    }
    fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRow>, StoreError> {
        self.check()?;
        self.inner.history(filter)
    }
    fn load_states(&self) -> Result<Vec<AlertStateRow>, StoreError> {
        self.check()?;
        self.inner.load_states()
    }
    fn add_silence(
        &mut self,
        m: &Matcher,
        until: i64,
        at: i64,
        c: &str,
    ) -> Result<i64, StoreError> {
        self.check()?;
        self.inner.add_silence(m, until, at, c)
    }
    fn expire_silence(&mut self, id: i64, now_ns: i64) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.expire_silence(id, now_ns)
    }
    fn silences(&self, now_ns: i64) -> Result<Vec<Silence>, StoreError> {
        self.check()?;
        self.inner.silences(now_ns)
    }
    fn heartbeat(&mut self, holder: &str, now_ns: i64) -> Result<(), StoreError> {
        self.check()?;
        self.inner.heartbeat(holder, now_ns)
    }
    fn resign(&mut self, holder: &str, now_ns: i64) -> Result<(), StoreError> {
        self.check()?;
        self.inner.resign(holder, now_ns)
    }
    fn evaluators(&self, since_ns: i64) -> Result<Vec<Evaluator>, StoreError> {
        self.check()?;
        self.inner.evaluators(since_ns)
    }
}

#[test]
fn an_engine_whose_store_fails_stops_leading_and_the_other_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let mut a_store = Breakable {
        inner: SqliteAlertStore::open(&db).unwrap(),
        broken: false,
    };
    let mut b_store = SqliteAlertStore::open(&db).unwrap();
    let mut a = Lease::new("a".into(), LeaseConfig::default());
    let mut b = Lease::new("b".into(), LeaseConfig::default());
    assert!(a.beat(&mut a_store, 100 * SEC));
    assert!(!b.beat(&mut b_store, 101 * SEC));
    a_store.broken = true;
    assert!(
        !a.beat(&mut a_store, 102 * SEC),
        "a failed beat ends the lead at once"
    );
    assert!(!a.holds(102 * SEC));
    let status = a.status(102 * SEC);
    assert_eq!(status.error.as_deref(), Some("disk I/O error"));
    assert!(!status.evaluating);
    // a's last good beat was at 100 s: b leads once it is 10 s old.
    assert!(!b.beat(&mut b_store, 109 * SEC));
    assert!(b.beat(&mut b_store, 111 * SEC));
    assert_eq!(b.status(111 * SEC).leader.as_deref(), Some("b"));
    // The store is back: a is older, so it waits a lease for b to step down, then leads.
    a_store.broken = false;
    assert!(!a.beat(&mut a_store, 112 * SEC));
    assert!(
        !b.beat(&mut b_store, 113 * SEC),
        "b steps down once it sees a again"
    );
    assert_eq!(b.status(113 * SEC).leader.as_deref(), Some("a"));
    for t in [114, 116, 118, 120] {
        assert!(!a.beat(&mut a_store, t * SEC), "a waits at {t} s");
    }
    assert!(a.beat(&mut a_store, 122 * SEC));
}
