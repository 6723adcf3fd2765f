//! Helpers shared by the pipeline benchmarks (`throughput`, `overload`, `overhead`, `payload`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use pathwise_store::PipelineStats;

use crate::BoxError;
use crate::report::Report;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    Tree,
    Roots,
}

/// Where the database goes: the given path, or a temporary directory kept alive by the guard.
pub fn db_location(db: Option<PathBuf>) -> Result<(PathBuf, Option<tempfile::TempDir>), BoxError> {
    match db {
        Some(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            Ok((path, None))
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("pathwise-bench-")
                .tempdir()?;
            Ok((dir.path().join("pathwise.db"), Some(dir)))
        }
    }
}

const CHILD_NAMES: [&str; 3] = ["load", "score", "rank"];

/// One producer thread: traces of a root plus `children` children until `stop`, paced to
/// `rate_per_thread` spans/s when non-zero. Returns the number of spans it created.
fn produce(stop: &AtomicBool, shape: Shape, children: u32, rate_per_thread: u64) -> u64 {
    let start = Instant::now();
    let mut spans = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match shape {
            Shape::Tree => {
                let _root = pathwise::span("request");
                for i in 0..children {
                    let _child = pathwise::span(CHILD_NAMES[i as usize % CHILD_NAMES.len()]);
                }
                spans += 1 + children as u64;
            }
            Shape::Roots => {
                for _ in 0..64 {
                    let _root = pathwise::span("request");
                }
                spans += 64;
            }
        }
        if rate_per_thread > 0 {
            let due = Duration::from_secs_f64(spans as f64 / rate_per_thread as f64);
            let elapsed = start.elapsed();
            if due > elapsed {
                thread::sleep(due - elapsed);
            }
        }
    }
    spans
}

/// Runs `threads` producers for `seconds`; returns spans created and the production time.
pub fn run_producers(
    seconds: f64,
    threads: usize,
    shape: Shape,
    children: u32,
    rate: u64,
) -> (u64, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let per_thread = rate / threads.max(1) as u64;
    let handles: Vec<_> = (0..threads.max(1))
        .map(|i| {
            let stop = stop.clone();
            thread::Builder::new()
                .name(format!("producer-{i}"))
                .spawn(move || produce(&stop, shape, children, per_thread))
                .expect("spawn producer")
        })
        .collect();
    thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let spans = handles
        .into_iter()
        .map(|h| h.join().expect("producer panicked"))
        .sum();
    (spans, start.elapsed())
}

/// What the database holds after the run.
pub struct DbFacts {
    pub spans: u64,
    pub traces: u64,
    pub file_bytes: u64,
    pub spans_table_bytes: u64,
    pub traces_bytes: u64,
    pub other_bytes: u64,
    pub freelist_pages: u64,
    /// Bytes of every table and index, largest first.
    pub by_table: Vec<(String, u64)>,
}

pub fn inspect_db(path: &Path) -> Result<DbFacts, BoxError> {
    let conn = rusqlite::Connection::open(path)?;
    // Fold the WAL into the main file so the file size is the whole database.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let spans: i64 = conn.query_row("SELECT count(*) FROM spans", [], |r| r.get(0))?;
    let traces: i64 = conn.query_row("SELECT count(*) FROM traces", [], |r| r.get(0))?;
    let freelist: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let mut by_table = conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")?;
    let (mut spans_bytes, mut traces_bytes, mut other) = (0u64, 0u64, 0u64);
    let rows = by_table.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut tables = Vec::new();
    for row in rows {
        let (name, bytes) = row?;
        tables.push((name.clone(), bytes as u64));
        match name.as_str() {
            "spans" => spans_bytes += bytes as u64,
            n if n == "traces" || n.starts_with("traces_by") => traces_bytes += bytes as u64,
            _ => other += bytes as u64,
        }
    }
    drop(by_table);
    drop(conn);
    let file_bytes = std::fs::metadata(path)?.len();
    Ok(DbFacts {
        spans: spans as u64,
        traces: traces as u64,
        file_bytes,
        spans_table_bytes: spans_bytes,
        traces_bytes,
        other_bytes: other,
        freelist_pages: freelist as u64,
        by_table: {
            tables.sort_by_key(|t| std::cmp::Reverse(t.1));
            tables
        },
    })
}

/// `VmHWM` / `VmRSS` of this process in KiB.
pub fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

pub fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Runs `body` with Pathwise recording into `db` (spool beside it, or to `export` instead),
/// then shuts recording down and adds its counters to `totals`. Returns `body`'s result and
/// how long the shutdown (the final flush) took.
pub fn while_recording<T>(
    db: &Path,
    export: &[pathwise::Export],
    totals: &mut PipelineStats,
    body: impl FnOnce() -> T,
) -> Result<(T, Duration), BoxError> {
    let config = pathwise::Config {
        db_path: db.to_path_buf(),
        data_dir: Some(db.with_extension("spool")),
        export: export.to_vec(),
        keep_local: export.is_empty(),
        ..pathwise::Config::default()
    };
    let recording = pathwise::init(config)?;
    let out = body();
    let flush = Instant::now();
    let stats = recording.shutdown();
    let flushed = flush.elapsed();
    totals.recorded += stats.recorded;
    totals.written += stats.written;
    totals.spilled += stats.spilled;
    totals.replayed += stats.replayed;
    totals.dropped += stats.dropped;
    Ok((out, flushed))
}

pub fn pipeline_rows(report: &mut Report, stats: &PipelineStats) {
    report.int("pipeline recorded", stats.recorded);
    report.int("pipeline written", stats.written);
    report.int("pipeline spilled", stats.spilled);
    report.int("pipeline replayed", stats.replayed);
    report.int("pipeline dropped", stats.dropped);
}

/// `(on-CPU ns, waiting-for-CPU ns)` of the calling thread, from the scheduler's own
/// accounting; 0s where `/proc` is unavailable.
pub fn thread_sched_ns() -> (u64, u64) {
    schedstat(Path::new("/proc/thread-self/schedstat"))
}

fn schedstat(path: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    (fields.next().unwrap_or(0), fields.next().unwrap_or(0))
}

/// On-CPU ns of this process's thread named `name` (the pathwise writer), if it is running.
pub fn named_thread_cpu_ns(name: &str) -> u64 {
    std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim() == name)
        })
        .map(|task| schedstat(&task.path().join("schedstat")).0)
        .sum()
}

pub use pathwise_store::DiscardStore as Discard;
