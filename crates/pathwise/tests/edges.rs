//! Never drop, at the edges: a store that panics, a shutdown with a backlog, spill and lane
//! files that cannot be read, an error lane that cannot be written. One test at a time:
//! recording is process-global.

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use pathwise::Config;
use pathwise_model::{Record, Status};
use pathwise_store::{
    FunctionInfo, MemoryStore, PathDictionary, Store, StoreError, TraceFilter, WriteBatch,
};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn config(dir: &std::path::Path) -> Config {
    Config {
        db_path: dir.join("pathwise.db"),
        data_dir: Some(dir.join("spool")),
        resource_interval: None,
        ..Config::default()
    }
}

/// A store with a bug: its `panic_on`-th write panics (as a backend's bug would), and writes
/// may be slowed down (a store that is behind).
struct Faulty<S> {
    inner: S,
    writes: AtomicU32,
    panic_on: u32,
    pause: Duration,
}

impl<S: Store> Store for Faulty<S> {
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        if n == self.panic_on {
            panic!("index out of bounds in the backend");
        }
        std::thread::sleep(self.pause);
        self.inner.write_batch(batch, paths)
    }
    fn register_functions(&mut self, functions: &[FunctionInfo]) -> Result<(), StoreError> {
        self.inner.register_functions(functions)
    }
    fn delete_before(&mut self, cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        self.inner.delete_before(cutoff_unix_ms)
    }
}

fn span_names(records: &[Record]) -> Vec<String> {
    let mut names: Vec<String> = records
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s.name.to_string()),
            _ => None,
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_store_that_panics_loses_nothing_and_recording_goes_on() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryStore::default();
    for panic_on in [1, 2, 3] {
        let store = Faulty {
            inner: memory.clone(),
            writes: AtomicU32::new(0),
            panic_on,
            pause: Duration::ZERO,
        };
        let recording = pathwise::init_with_store(
            Config {
                data_dir: Some(dir.path().join(format!("spool-{panic_on}"))),
                ..config(dir.path())
            },
            Box::new(store),
        )
        .unwrap();
        for round in 0..3 {
            for i in 0..10 {
                let mut span = pathwise::span(format!("p{panic_on}-r{round}-s{i}"));
                if i == 0 {
                    span.fail("Timeout", "upstream");
                }
            }
            // Each round a separate write, so the panic falls on a round with data.
            assert!(recording.flush(Duration::from_secs(10)));
        }
        let stats = recording.shutdown();
        assert_eq!(stats.dropped, 0, "{stats:?}");
    }
    let names = span_names(&memory.records());
    let mut expected: Vec<String> = (1..=3)
        .flat_map(|p| (0..3).flat_map(move |r| (0..10).map(move |i| format!("p{p}-r{r}-s{i}"))))
        .collect();
    expected.sort();
    // Every span once: the panicked round was parked and written after the restart.
    assert_eq!(names, expected);
}

#[test]
fn shutdown_stops_after_its_timeout_and_the_next_start_writes_the_rest() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        queue_capacity: 1_024,
        shutdown_timeout: Some(Duration::from_millis(300)),
        ..config(dir.path())
    };
    // A store far behind: 100 ms per write of at most 20,000 spans, so 200,000 spans take
    // more than a second to write.
    let slow = Faulty {
        inner: SqliteStore::open(&cfg.db_path).unwrap(),
        writes: AtomicU32::new(0),
        panic_on: 0,
        pause: Duration::from_millis(100),
    };
    let recording = pathwise::init_with_store(cfg.clone(), Box::new(slow)).unwrap();
    for i in 0..200_000u32 {
        let _span = pathwise::span(if i % 2 == 0 { "even" } else { "odd" });
    }
    let started = Instant::now();
    let stats = recording.shutdown();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    assert_eq!(stats.dropped, 0);
    assert!(
        stats.written < stats.recorded,
        "{stats:?}: the backlog was not left"
    );
    let spooled = std::fs::read_dir(cfg.data_dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "pathwise.lock")
        .count();
    assert!(spooled > 0, "the rest waits in the spool");

    // The next start (a store that keeps up) writes the rest, each span once.
    let recording = pathwise::init(Config {
        shutdown_timeout: None,
        ..cfg.clone()
    })
    .unwrap();
    assert!(recording.flush(Duration::from_secs(60)));
    let stats = recording.shutdown();
    assert_eq!(stats.dropped, 0);
    let reader = SqliteReader::open(&cfg.db_path).unwrap();
    let spans = pathwise_store::ReadStore::error_rate_since(&reader, 0).unwrap();
    assert_eq!(spans.spans, 200_000);
    let traces =
        pathwise_store::ReadStore::trace_stats(&reader, &pathwise_store::TraceFilter::default())
            .unwrap();
    assert_eq!(traces.total, 200_000);
}

#[test]
fn unreadable_spill_and_lane_files_are_moved_aside_never_deleted() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let spool = cfg.data_dir();
    std::fs::create_dir_all(&spool).unwrap();
    // Damaged bytes where a segment should be, a segment that cannot be read at all (a
    // directory in its place) and an error-lane file of garbage.
    let garbage = b"\x07\x00\x00\x00not a frame at all".to_vec();
    std::fs::write(spool.join("spill-000000000000.seg"), &garbage).unwrap();
    std::fs::create_dir(spool.join("spill-000000000001.seg")).unwrap();
    std::fs::write(spool.join("errors-000000000000.pending"), &garbage).unwrap();

    let recording = pathwise::init(cfg.clone()).unwrap();
    {
        let _span = pathwise::span("after.start");
    }
    assert!(recording.flush(Duration::from_secs(10)));
    drop(recording);

    let mut names: Vec<String> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.contains(&"spill-000000000000.seg.damaged".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"spill-000000000001.seg.unreadable".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"errors-000000000000.pending.damaged".to_string()),
        "{names:?}"
    );
    assert_eq!(
        std::fs::read(spool.join("spill-000000000000.seg.damaged")).unwrap(),
        garbage,
        "the bytes are kept as they were"
    );
}

#[test]
fn an_error_span_is_kept_when_the_error_lane_cannot_be_written() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let recording = pathwise::init(cfg.clone()).unwrap();
    // Something takes the lane file's place: it can no longer be opened.
    std::fs::create_dir(cfg.data_dir().join("errors-current.lane")).unwrap();
    {
        let mut span = pathwise::span("payment.charge");
        span.fail("CardDeclined", "insufficient funds");
    }
    assert!(recording.flush(Duration::from_secs(10)));
    let stats = recording.shutdown();
    assert_eq!(stats.dropped, 0);
    let reader = SqliteReader::open(&cfg.db_path).unwrap();
    let page = pathwise_store::ReadStore::list_traces(&reader, &TraceFilter::default()).unwrap();
    assert_eq!(page.traces.len(), 1);
    let spans =
        pathwise_store::ReadStore::spans(&reader, page.traces[0].trace_id, None, 10).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status, Status::Error);
    assert_eq!(spans[0].error_type.as_deref(), Some("CardDeclined"));
}

#[test]
fn a_span_that_ends_after_shutdown_is_counted_not_lost_silently() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryStore::default();
    let recording =
        pathwise::init_with_store(config(dir.path()), Box::new(memory.clone())).unwrap();
    let before = pathwise::late_records();
    let root = pathwise::span("request");
    for i in 0..5 {
        let _child = pathwise::span(format!("step-{i}"));
    }
    // Shutting down hands this thread's buffer over: the finished children are kept.
    let stats = recording.shutdown();
    assert_eq!(stats.dropped, 0);
    drop(root);
    assert_eq!(
        pathwise::late_records() - before,
        1,
        "the root ended too late"
    );
    let mut names = span_names(&memory.records());
    names.dedup();
    assert_eq!(names, ["step-0", "step-1", "step-2", "step-3", "step-4"]);
}
