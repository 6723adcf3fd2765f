//! `throughput`: spans flat out into SQLite; persisted spans/s and bytes per span on disk.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use crate::BoxError;
use crate::report::Report;
use crate::shared::{
    Discard, Shape, db_location, inspect_db, named_thread_cpu_ns, pipeline_rows, run_producers,
};

#[derive(clap::Args)]
pub struct Args {
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
    /// The ClickHouse address for `--store clickhouse` (e.g. the two-shard test cluster:
    /// `clickhouse://127.0.0.1:18123,127.0.0.1:18124/pw_bench?cluster=pathwise`).
    #[arg(long)]
    clickhouse: Option<String>,
    /// Do not maintain the analytics rollups (`SqliteStore::set_rollups(false)`), to measure
    /// what they cost. Only for `--store sqlite`.
    #[arg(long)]
    no_rollups: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Sqlite,
    Discard,
    Clickhouse,
}

pub fn run(args: Args) -> Result<Report, BoxError> {
    let Args {
        seconds,
        threads,
        shape,
        children,
        store,
        db,
        clickhouse,
        no_rollups,
    } = args;
    let (db_path, _tmp) = db_location(db)?;
    let config = pathwise::Config {
        db_path: db_path.clone(),
        ..pathwise::Config::default()
    };
    let pathwise = match store {
        StoreKind::Sqlite => {
            // What `pathwise::init` does, with the store configured first.
            let mut sqlite = pathwise_store_sqlite::SqliteStore::open(&config.db_path)?;
            sqlite.set_rollups(!no_rollups);
            pathwise::init_with_store(config, Box::new(sqlite))?
        }
        StoreKind::Discard => pathwise::init_with_store(config, Box::new(Discard))?,
        StoreKind::Clickhouse => {
            let url = clickhouse
                .as_deref()
                .ok_or("--store clickhouse needs --clickhouse URL")?;
            use pathwise_store::Backend as _;
            let backend = pathwise_store_clickhouse::ClickHouseBackend::connect(url)?;
            pathwise::init_with_store(config, backend.writer()?)?
        }
    };
    // The writer thread's on-CPU time, polled until it exits (the last poll is at most 10 ms
    // before): unlike wall time, it does not count waiting for a core on a shared machine.
    let polling = Arc::new(AtomicBool::new(true));
    let writer_cpu_ns = Arc::new(AtomicU64::new(0));
    let poller = {
        let (polling, writer_cpu_ns) = (polling.clone(), writer_cpu_ns.clone());
        thread::spawn(move || {
            while polling.load(Ordering::Relaxed) {
                writer_cpu_ns.fetch_max(named_thread_cpu_ns("pathwise-writer"), Ordering::Relaxed);
                thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let start = Instant::now();
    let (produced, producing) = run_producers(seconds, threads, shape, children, 0);
    let stats = pathwise.shutdown();
    let total = start.elapsed();
    polling.store(false, Ordering::Relaxed);
    poller.join().map_err(|_| "poller panicked")?;
    let writer_cpu = writer_cpu_ns.load(Ordering::Relaxed) as f64 / 1e9;

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
            StoreKind::Clickhouse => "clickhouse",
        },
    );
    if store == StoreKind::Sqlite {
        report.text("rollups", if no_rollups { "off" } else { "on" });
    }
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
        report.float("writer CPU s", writer_cpu, 2);
        report.float(
            "writer CPU ns/span",
            writer_cpu * 1e9 / facts.spans.max(1) as f64,
            0,
        );
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
    } else if store == StoreKind::Clickhouse {
        let url = clickhouse.as_deref().unwrap_or_default();
        crate::clickhouse::report(&mut report, url, produced, total, writer_cpu)?;
    } else {
        let per_s = stats.written as f64 / total.as_secs_f64();
        report.float("written spans/s (discard)", per_s, 0);
    }
    Ok(report)
}
