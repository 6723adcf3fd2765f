//! Long-running measurements of the Pathwise recording pipeline (see `BENCHMARKS.md`).
//!
//! - `throughput`: producers create bare spans flat out into a real SQLite file; persisted
//!   spans per second (including the final flush) and bytes per span on disk.
//! - `overload`: producers outrun the writer with a tiny in-memory queue for a long time; every
//!   record must still be stored (nothing dropped) and memory must stay bounded.
//! - `overhead`: a CPU-bound workload of nested `#[monitor]`ed calls, timed with recording off
//!   and with recording into SQLite.
//!
//! Each prints a small table and one JSON line (prefixed `json: `) for scripts.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use pathwise_store::{FunctionInfo, PathDictionary, PipelineStats, Store, StoreError, WriteBatch};

#[derive(Parser)]
#[command(
    name = "pathwise-bench",
    about = "Long-running measurements of the Pathwise pipeline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Spans flat out into SQLite: persisted spans/s and bytes per span on disk.
    Throughput {
        /// How long producers run.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Producer threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// `tree`: each trace is a root with `--children` children; `roots`: every span is a
        /// trace of its own.
        #[arg(long, value_enum, default_value_t = Shape::Tree)]
        shape: Shape,
        /// Children per root for `--shape tree`.
        #[arg(long, default_value_t = 10)]
        children: u32,
        /// `sqlite` (the real thing) or `discard` (the pipeline alone, no storage cost).
        #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
        store: StoreKind,
        /// Database file (default: a temporary directory, deleted afterwards).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Producers outrun the writer for a long time: nothing may be lost, memory must stay bounded.
    Overload {
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// In-memory queue capacity in records (the minimum is 1024), so the spill path is used.
        #[arg(long, default_value_t = 1024)]
        queue_capacity: usize,
        /// Children per root.
        #[arg(long, default_value_t = 10)]
        children: u32,
        /// Total spans per second the producers aim for; 0 = as fast as they can.
        #[arg(long, default_value_t = 0)]
        rate: u64,
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// A CPU-bound workload of nested monitored calls, recording off vs recording into SQLite.
    Overhead {
        /// Requests per timed block.
        #[arg(long, default_value_t = 20_000)]
        iterations: u64,
        /// Alternating off/on block pairs; medians are reported.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Shape {
    Tree,
    Roots,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Sqlite,
    Discard,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Throughput {
            seconds,
            threads,
            shape,
            children,
            store,
            db,
        } => throughput(seconds, threads, shape, children, store, db),
        Command::Overload {
            seconds,
            threads,
            queue_capacity,
            children,
            rate,
            db,
        } => overload(seconds, threads, queue_capacity, children, rate, db),
        Command::Overhead { iterations, rounds } => overhead(iterations, rounds),
    };
    match result {
        Ok(report) => {
            report.print();
            if !report.ok {
                std::process::exit(2);
            }
        }
        Err(e) => {
            eprintln!("pathwise-bench: {e}");
            std::process::exit(1);
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

enum Value {
    Int(u64),
    Float(f64, usize),
    Text(String),
    Bool(bool),
}

impl Value {
    fn display(&self) -> String {
        match self {
            Value::Int(v) => group_digits(*v),
            Value::Float(v, decimals) => format!("{v:.decimals$}"),
            Value::Text(v) => v.clone(),
            Value::Bool(v) => if *v { "yes" } else { "NO" }.to_string(),
        }
    }

    fn json(&self) -> String {
        match self {
            Value::Int(v) => v.to_string(),
            Value::Float(v, decimals) if v.is_finite() => format!("{v:.decimals$}"),
            Value::Float(..) => "null".into(),
            Value::Text(v) => json_string(v),
            Value::Bool(v) => v.to_string(),
        }
    }
}

fn group_digits(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Report {
    bench: &'static str,
    rows: Vec<(String, Value)>,
    /// False when a correctness check failed (the process then exits non-zero).
    ok: bool,
}

impl Report {
    fn new(bench: &'static str) -> Self {
        Report {
            bench,
            rows: Vec::new(),
            ok: true,
        }
    }

    fn int(&mut self, key: impl Into<String>, v: u64) {
        self.rows.push((key.into(), Value::Int(v)));
    }

    fn float(&mut self, key: impl Into<String>, v: f64, decimals: usize) {
        self.rows.push((key.into(), Value::Float(v, decimals)));
    }

    fn text(&mut self, key: impl Into<String>, v: impl Into<String>) {
        self.rows.push((key.into(), Value::Text(v.into())));
    }

    fn check(&mut self, key: impl Into<String>, passed: bool) {
        self.ok &= passed;
        self.rows.push((key.into(), Value::Bool(passed)));
    }

    fn print(&self) {
        let width = self.rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        println!("{}", self.bench);
        for (key, value) in &self.rows {
            println!("  {key:<width$}  {}", value.display());
        }
        let fields: Vec<String> = std::iter::once(format!("\"bench\":{}", json_string(self.bench)))
            .chain(
                self.rows
                    .iter()
                    .map(|(k, v)| format!("{}:{}", json_string(k), v.json())),
            )
            .collect();
        println!("json: {{{}}}", fields.join(","));
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// A store that accepts and forgets every batch: measures the pipeline without storage.
struct Discard;

impl Store for Discard {
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        _paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        black_box(batch.records.len());
        Ok(())
    }
    fn register_functions(&mut self, _functions: &[FunctionInfo]) -> Result<(), StoreError> {
        Ok(())
    }
    fn delete_before(&mut self, _cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// Where the database goes: the given path, or a temporary directory kept alive by the guard.
fn db_location(db: Option<PathBuf>) -> Result<(PathBuf, Option<tempfile::TempDir>), BoxError> {
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
fn run_producers(
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
struct DbFacts {
    spans: u64,
    traces: u64,
    file_bytes: u64,
    spans_table_bytes: u64,
    traces_bytes: u64,
    other_bytes: u64,
    freelist_pages: u64,
}

fn inspect_db(path: &Path) -> Result<DbFacts, BoxError> {
    let conn = rusqlite::Connection::open(path)?;
    // Fold the WAL into the main file so the file size is the whole database.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let spans: i64 = conn.query_row("SELECT count(*) FROM spans", [], |r| r.get(0))?;
    let traces: i64 = conn.query_row("SELECT count(*) FROM traces", [], |r| r.get(0))?;
    let freelist: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let mut by_table = conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")?;
    let (mut spans_bytes, mut traces_bytes, mut other) = (0u64, 0u64, 0u64);
    let rows = by_table.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (name, bytes) = row?;
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
    })
}

/// `VmHWM` / `VmRSS` of this process in KiB.
fn proc_status_kib(field: &str) -> u64 {
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

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn pipeline_rows(report: &mut Report, stats: &PipelineStats) {
    report.int("pipeline recorded", stats.recorded);
    report.int("pipeline written", stats.written);
    report.int("pipeline spilled", stats.spilled);
    report.int("pipeline replayed", stats.replayed);
    report.int("pipeline dropped", stats.dropped);
}

// ---------------------------------------------------------------------------------------------
// throughput
// ---------------------------------------------------------------------------------------------

fn throughput(
    seconds: f64,
    threads: usize,
    shape: Shape,
    children: u32,
    store: StoreKind,
    db: Option<PathBuf>,
) -> Result<Report, BoxError> {
    let (db_path, _tmp) = db_location(db)?;
    let config = pathwise::Config {
        db_path: db_path.clone(),
        ..pathwise::Config::default()
    };
    let pathwise = match store {
        StoreKind::Sqlite => pathwise::init(config)?,
        StoreKind::Discard => pathwise::init_with_store(config, Box::new(Discard))?,
    };
    let start = Instant::now();
    let (produced, producing) = run_producers(seconds, threads, shape, children, 0);
    let stats = pathwise.shutdown();
    let total = start.elapsed();

    let mut report = Report::new("throughput");
    report.text(
        "shape",
        match shape {
            Shape::Tree => format!("trees of 1 root + {children} children"),
            Shape::Roots => "roots only (1 span per trace)".into(),
        },
    );
    report.text(
        "store",
        match store {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Discard => "discard",
        },
    );
    report.int("threads", threads as u64);
    report.float("producing s", producing.as_secs_f64(), 2);
    report.float("total s (incl. final flush)", total.as_secs_f64(), 2);
    report.int("spans produced", produced);
    report.float(
        "produced spans/s",
        produced as f64 / producing.as_secs_f64(),
        0,
    );
    pipeline_rows(&mut report, &stats);
    report.check("nothing dropped", stats.dropped == 0);
    if store == StoreKind::Sqlite {
        let facts = inspect_db(&db_path)?;
        let persisted_per_s = facts.spans as f64 / total.as_secs_f64();
        let bytes_per_span = facts.file_bytes as f64 / facts.spans.max(1) as f64;
        report.int("span rows", facts.spans);
        report.int("trace rows", facts.traces);
        report.check("every span stored", facts.spans == produced);
        report.float("persisted spans/s", persisted_per_s, 0);
        report.check("goal >= 250,000 spans/s", persisted_per_s >= 250_000.0);
        report.int("db bytes (checkpointed, no VACUUM)", facts.file_bytes);
        report.float("bytes/span (whole file)", bytes_per_span, 1);
        report.check("goal <= 120 bytes/span", bytes_per_span <= 120.0);
        let per = |b: u64| b as f64 / facts.spans.max(1) as f64;
        report.float("bytes/span: spans table", per(facts.spans_table_bytes), 1);
        report.float("bytes/span: traces + indexes", per(facts.traces_bytes), 1);
        report.float(
            "bytes/span: other (dicts, stats)",
            per(facts.other_bytes),
            1,
        );
        report.int("freelist pages", facts.freelist_pages);
    } else {
        let per_s = stats.written as f64 / total.as_secs_f64();
        report.float("written spans/s (discard)", per_s, 0);
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// overload
// ---------------------------------------------------------------------------------------------

fn overload(
    seconds: f64,
    threads: usize,
    queue_capacity: usize,
    children: u32,
    rate: u64,
    db: Option<PathBuf>,
) -> Result<Report, BoxError> {
    let (db_path, _tmp) = db_location(db)?;
    let config = pathwise::Config {
        db_path: db_path.clone(),
        queue_capacity,
        ..pathwise::Config::default()
    };
    let spool = config.data_dir();
    let pathwise = pathwise::init(config)?;
    let rss_at_start = proc_status_kib("VmRSS:");

    // Sample memory and spool size while producers run and while the backlog drains.
    let sampling = Arc::new(AtomicBool::new(true));
    let peak_spool = Arc::new(AtomicU64::new(0));
    let sampler = {
        let sampling = sampling.clone();
        let peak_spool = peak_spool.clone();
        let spool = spool.clone();
        thread::spawn(move || {
            let mut rss = Vec::new();
            let start = Instant::now();
            while sampling.load(Ordering::Relaxed) {
                rss.push((start.elapsed().as_secs_f64(), proc_status_kib("VmRSS:")));
                peak_spool.fetch_max(dir_bytes(&spool), Ordering::Relaxed);
                thread::sleep(Duration::from_millis(100));
            }
            rss
        })
    };

    let start = Instant::now();
    let (produced, producing) = run_producers(seconds, threads, Shape::Tree, children, rate);
    let at_stop = pathwise.stats();
    let backlog_spool = dir_bytes(&spool);
    let drain_start = Instant::now();
    let stats = pathwise.shutdown();
    let drain = drain_start.elapsed();
    let total = start.elapsed();
    sampling.store(false, Ordering::Relaxed);
    let rss = sampler.join().expect("sampler panicked");
    let facts = inspect_db(&db_path)?;

    let mut report = Report::new("overload");
    report.int("threads", threads as u64);
    report.int("queue_capacity", queue_capacity as u64);
    report.text(
        "producer pacing",
        if rate == 0 {
            "flat out".to_string()
        } else {
            format!("{rate} spans/s")
        },
    );
    report.float("producing s", producing.as_secs_f64(), 2);
    report.float("drain after producers stopped s", drain.as_secs_f64(), 2);
    report.int("spans produced", produced);
    let produced_rate = produced as f64 / producing.as_secs_f64();
    let writer_rate = at_stop.written as f64 / producing.as_secs_f64();
    report.float("produced spans/s", produced_rate, 0);
    report.int("written while producing", at_stop.written);
    report.float("writer spans/s while producing", writer_rate, 0);
    report.float(
        "overload factor (produced/written)",
        produced_rate / writer_rate.max(1.0),
        1,
    );
    report.float(
        "persisted spans/s (incl. drain)",
        facts.spans as f64 / total.as_secs_f64(),
        0,
    );
    pipeline_rows(&mut report, &stats);
    report.int("span rows", facts.spans);
    report.check("dropped = 0", stats.dropped == 0);
    report.check("every span stored", facts.spans == produced);
    report.float(
        "spilled share of recorded",
        stats.spilled as f64 / stats.recorded.max(1) as f64,
        3,
    );
    report.int("spool bytes when producers stopped", backlog_spool);
    report.int(
        "peak spool bytes (sampled)",
        peak_spool.load(Ordering::Relaxed),
    );
    report.int("RSS at start KiB", rss_at_start);
    let quarter = |q: f64| {
        let t = producing.as_secs_f64() * q;
        rss.iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .map_or(0, |(_, kib)| *kib)
    };
    report.int("RSS at 25% KiB", quarter(0.25));
    report.int("RSS at 50% KiB", quarter(0.5));
    report.int("RSS at 75% KiB", quarter(0.75));
    report.int("RSS at 100% KiB", quarter(1.0));
    report.int(
        "peak RSS sampled KiB",
        rss.iter().map(|(_, k)| *k).max().unwrap_or(0),
    );
    report.int("VmHWM KiB", proc_status_kib("VmHWM:"));
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// overhead
// ---------------------------------------------------------------------------------------------

/// Rounds of [`spin`] per microsecond, measured once.
static ROUNDS_PER_US: AtomicU64 = AtomicU64::new(0);

/// Real, unoptimisable CPU work: a dependent chain of multiply-xorshift rounds.
fn spin(seed: u64, rounds: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..rounds {
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 32;
    }
    black_box(x)
}

fn calibrate() {
    let rounds = 2_000_000;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        spin(7, rounds);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let per_us = (rounds as f64 / (best * 1e6)).max(1.0);
    ROUNDS_PER_US.store(per_us as u64, Ordering::Relaxed);
}

/// About `us` microseconds of work.
fn work(seed: u64, us: u64) -> u64 {
    spin(seed, us * ROUNDS_PER_US.load(Ordering::Relaxed))
}

/// The workload, generated twice: with the default capture of arguments and results, and with
/// capture off, to separate the cost of capture from the cost of the span.
macro_rules! workload {
    ($module:ident, $($options:tt)*) => {
        mod $module {
            use super::work;

            /// One request: 12 monitored calls, about 64 µs of work; self times 2–15 µs.
            #[pathwise::monitor($($options)*)]
            pub fn handle_request(id: u64, route: &str) -> Result<u64, String> {
                let mut acc = work(id, 2) ^ route.len() as u64;
                acc ^= plan(id);
                for shard in 0..3 {
                    acc ^= fetch(id, shard)?;
                }
                Ok(acc ^ rank(acc, 25))
            }

            #[pathwise::monitor($($options)*)]
            fn plan(id: u64) -> u64 {
                work(id ^ 0x55, 5)
            }

            #[pathwise::monitor($($options)*)]
            fn fetch(id: u64, shard: u64) -> Result<u64, String> {
                let mut acc = work(id ^ shard, 8);
                acc ^= score(acc, shard);
                acc ^= score(acc, shard + 1);
                if acc == 0 {
                    return Err("impossible".into());
                }
                Ok(acc)
            }

            #[pathwise::monitor($($options)*)]
            fn score(seed: u64, weight: u64) -> u64 {
                work(seed ^ weight, 3)
            }

            #[pathwise::monitor($($options)*)]
            fn rank(seed: u64, limit: u32) -> u64 {
                work(seed, 15) ^ limit as u64
            }
        }
    };
}

workload!(captured, group = "bench");
workload!(
    uncaptured,
    group = "bench",
    capture_args = false,
    capture_result = false
);

const SPANS_PER_REQUEST: u64 = 12;

/// `(on-CPU ns, waiting-for-CPU ns)` of the calling thread, from the scheduler's own
/// accounting; 0s where `/proc` is unavailable.
fn thread_sched_ns() -> (u64, u64) {
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
fn named_thread_cpu_ns(name: &str) -> u64 {
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

/// One timed block of requests.
#[derive(Default)]
struct Block {
    /// Wall time of the requests on the application thread.
    wall: f64,
    /// On-CPU time of the application thread (immune to waiting for a core).
    cpu: f64,
    /// Time the application thread waited for a core.
    waited: f64,
    /// Wall time including the final flush (recording blocks only).
    flushed: f64,
    /// On-CPU time of the writer thread up to the end of the requests.
    writer_cpu: f64,
}

fn run_requests(iterations: u64, capture: bool) -> Block {
    let (cpu0, wait0) = thread_sched_ns();
    let start = Instant::now();
    for id in 0..iterations {
        let result = if capture {
            captured::handle_request(black_box(id), "/search")
        } else {
            uncaptured::handle_request(black_box(id), "/search")
        };
        black_box(result.ok());
    }
    let wall = start.elapsed().as_secs_f64();
    let (cpu1, wait1) = thread_sched_ns();
    Block {
        wall,
        cpu: (cpu1 - cpu0) as f64 / 1e9,
        waited: (wait1 - wait0) as f64 / 1e9,
        flushed: wall,
        writer_cpu: 0.0,
    }
}

/// One block with recording into SQLite.
fn recorded_block(
    db_path: &Path,
    iterations: u64,
    capture: bool,
    totals: &mut PipelineStats,
) -> Result<Block, BoxError> {
    let config = pathwise::Config {
        db_path: db_path.to_path_buf(),
        ..pathwise::Config::default()
    };
    let pathwise = pathwise::init(config)?;
    let writer0 = named_thread_cpu_ns("pathwise-writer");
    let mut block = run_requests(iterations, capture);
    block.writer_cpu = (named_thread_cpu_ns("pathwise-writer") - writer0) as f64 / 1e9;
    let flush = Instant::now();
    let stats = pathwise.shutdown();
    block.flushed = block.wall + flush.elapsed().as_secs_f64();
    totals.recorded += stats.recorded;
    totals.written += stats.written;
    totals.spilled += stats.spilled;
    totals.replayed += stats.replayed;
    totals.dropped += stats.dropped;
    Ok(block)
}

fn median(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn overhead(iterations: u64, rounds: usize) -> Result<Report, BoxError> {
    calibrate();
    let dir = tempfile::Builder::new()
        .prefix("pathwise-bench-")
        .tempdir()?;
    let db_path = dir.path().join("overhead.db");
    run_requests(iterations / 4 + 1, true); // warm-up, recording off
    run_requests(iterations / 4 + 1, false);

    let rounds = rounds.max(1);
    let (mut off, mut on, mut bare) = (Vec::new(), Vec::new(), Vec::new());
    let mut totals = PipelineStats::default();
    for _ in 0..rounds {
        off.push(run_requests(iterations, true));
        on.push(recorded_block(&db_path, iterations, true, &mut totals)?);
        bare.push(recorded_block(&db_path, iterations, false, &mut totals)?);
    }
    let spans = 2 * rounds as u64 * iterations * SPANS_PER_REQUEST;
    let facts = inspect_db(&db_path)?;
    let calls = (iterations * SPANS_PER_REQUEST) as f64;
    let off_wall = median(off.iter().map(|b| b.wall));
    let off_cpu = median(off.iter().map(|b| b.cpu));

    let mut report = Report::new("overhead");
    report.int("requests per block", iterations);
    report.int("rounds (off / on+capture / on-capture)", rounds as u64);
    report.int("monitored calls per request", SPANS_PER_REQUEST);
    report.float(
        "off: µs/request wall (median)",
        off_wall * 1e6 / iterations as f64,
        2,
    );
    report.float(
        "off: µs/request app CPU (median)",
        off_cpu * 1e6 / iterations as f64,
        2,
    );
    report.float(
        "off: app waited for a core %",
        median(off.iter().map(|b| b.waited / b.wall)) * 100.0,
        1,
    );
    for (label, blocks) in [("capture on", &on), ("capture off", &bare)] {
        let wall = median(blocks.iter().map(|b| b.wall));
        let cpu = median(blocks.iter().map(|b| b.cpu));
        let flushed = median(blocks.iter().map(|b| b.flushed));
        let writer = median(blocks.iter().map(|b| b.writer_cpu));
        let waited = median(blocks.iter().map(|b| b.waited / b.wall));
        report.float(
            format!("{label}: µs/request wall (median)"),
            wall * 1e6 / iterations as f64,
            2,
        );
        report.float(
            format!("{label}: slower % wall"),
            (wall / off_wall - 1.0) * 100.0,
            1,
        );
        report.float(
            format!("{label}: slower % wall incl. final flush"),
            (flushed / off_wall - 1.0) * 100.0,
            1,
        );
        report.float(
            format!("{label}: slower % app CPU"),
            (cpu / off_cpu - 1.0) * 100.0,
            1,
        );
        report.float(
            format!("{label}: added app CPU ns per call"),
            (cpu - off_cpu) * 1e9 / calls,
            0,
        );
        report.float(
            format!("{label}: writer CPU ns per call"),
            writer * 1e9 / calls,
            0,
        );
        report.float(
            format!("{label}: added process CPU % (app + writer)"),
            ((cpu + writer) / off_cpu - 1.0) * 100.0,
            1,
        );
        report.float(
            format!("{label}: app waited for a core %"),
            waited * 100.0,
            1,
        );
    }
    pipeline_rows(&mut report, &totals);
    report.int("span rows", facts.spans);
    report.check("every span stored", facts.spans == spans);
    Ok(report)
}
