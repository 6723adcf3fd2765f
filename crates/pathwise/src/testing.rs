//! Helpers for testing instrumented code: record into memory and look at what was recorded.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use pathwise_model::{Record, SpanRecord};
use pathwise_store::MemoryStore;

use crate::{Config, Pathwise};

/// One recorder at a time per process: recording is process-global.
static EXCLUSIVE: Mutex<()> = Mutex::new(());

/// Records into memory until dropped.
///
/// ```
/// let recorder = pathwise::testing::Recorder::start();
/// pathwise::in_span("work", || ());
/// let records = recorder.records();
/// assert_eq!(records.len(), 1);
/// ```
pub struct Recorder {
    store: MemoryStore,
    pathwise: Option<Pathwise>,
    dir: std::path::PathBuf,
    _exclusive: MutexGuard<'static, ()>,
}

impl Recorder {
    /// Starts recording with the default configuration, less resource sampling (so that what
    /// is recorded is exactly what the test did).
    pub fn start() -> Self {
        Self::with_config(Config {
            resource_interval: None,
            ..Config::default()
        })
    }

    /// Starts recording with `config` (its database path is ignored). Resource samples are
    /// taken if `config.resource_interval` says so; see [`MemoryStore::resource_samples`].
    pub fn with_config(mut config: Config) -> Self {
        let exclusive = EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner());
        let dir = std::env::temp_dir().join(format!(
            "pathwise-test-{}-{}",
            std::process::id(),
            crate::context::random_unit().to_bits()
        ));
        config.data_dir = Some(dir.clone());
        config.flush_interval = Duration::from_millis(10);
        let store = MemoryStore::default();
        let pathwise = crate::init_with_store(config, Box::new(store.clone()))
            .unwrap_or_else(|e| panic!("test recorder failed to start: {e}"));
        Recorder {
            store,
            pathwise: Some(pathwise),
            dir,
            _exclusive: exclusive,
        }
    }

    /// Everything stored so far, after flushing this thread.
    pub fn records(&self) -> Vec<Record> {
        self.flush();
        self.store.records()
    }

    /// The path text of each record, aligned with [`Recorder::records`].
    pub fn paths(&self) -> Vec<String> {
        self.flush();
        self.store.paths()
    }

    /// The store, for direct inspection.
    pub fn store(&self) -> &MemoryStore {
        &self.store
    }

    fn flush(&self) {
        if let Some(p) = &self.pathwise {
            p.flush(Duration::from_secs(10));
        }
    }

    /// Stops recording and returns every record.
    pub fn finish(mut self) -> Vec<Record> {
        if let Some(p) = self.pathwise.take() {
            p.shutdown();
        }
        self.store.records()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(p) = self.pathwise.take() {
            p.shutdown();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `f` while recording into memory and returns the records it produced.
///
/// ```
/// let records = pathwise::testing::capture_records(|| {
///     let _s = pathwise::span("work");
/// });
/// assert_eq!(records.len(), 1);
/// ```
pub fn capture_records(f: impl FnOnce()) -> Vec<Record> {
    let recorder = Recorder::start();
    f();
    recorder.finish()
}

/// The span records among `records`.
///
/// ```
/// let records = pathwise::testing::capture_records(|| { let _s = pathwise::span("work"); });
/// assert_eq!(pathwise::testing::spans(&records)[0].name, "work");
/// ```
pub fn spans(records: &[Record]) -> Vec<&SpanRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s),
            Record::Trace(_) | Record::Resource(_) => None,
        })
        .collect()
}

/// Every span named `name`.
pub fn named<'a>(records: &'a [Record], name: &str) -> Vec<&'a SpanRecord> {
    spans(records)
        .into_iter()
        .filter(|s| s.name == name)
        .collect()
}

/// The one span named `name`; panics with the list of names otherwise.
///
/// ```
/// let records = pathwise::testing::capture_records(|| { let _s = pathwise::span("work"); });
/// assert_eq!(pathwise::testing::one(&records, "work").parent_id, 0);
/// ```
pub fn one<'a>(records: &'a [Record], name: &str) -> &'a SpanRecord {
    let found = named(records, name);
    assert_eq!(
        found.len(),
        1,
        "expected one span {name:?}, names: {:?}",
        spans(records)
            .iter()
            .map(|s| s.name.as_ref())
            .collect::<Vec<_>>()
    );
    found[0]
}

/// Benchmark pacing: times `iters` iterations in slices of `slice_len`, running `settle`
/// (untimed, e.g. a flush) between slices, so what is timed is recording while the writer
/// keeps up, not a backlog. `slice(n)` runs `n` iterations.
///
/// ```
/// let mut ran = 0;
/// pathwise::testing::paced(25, 10, || {}, |n| ran += n);
/// assert_eq!(ran, 25);
/// ```
pub fn paced(
    iters: u64,
    slice_len: u64,
    mut settle: impl FnMut(),
    mut slice: impl FnMut(u64),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(slice_len.max(1));
        let start = std::time::Instant::now();
        slice(n);
        total += start.elapsed();
        settle();
        left -= n;
    }
    total
}

/// A benchmark's closing check: prints the pipeline's counters and panics if any record was
/// dropped (a figure measured while losing records would be meaningless).
pub fn check_pipeline(stats: &crate::PipelineStats) {
    assert_eq!(stats.dropped, 0, "pathwise dropped records: {stats:?}");
    eprintln!(
        "pathwise pipeline: recorded {} written {} spilled {} dropped {}",
        stats.recorded, stats.written, stats.spilled, stats.dropped
    );
}
