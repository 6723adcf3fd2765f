//! `overload`: producers outrun the writer for a long time; nothing may be lost and memory
//! must stay bounded.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::BoxError;
use crate::report::Report;
use crate::shared::{
    Shape, db_location, dir_bytes, inspect_db, pipeline_rows, proc_status_kib, run_producers,
};

#[derive(clap::Args)]
pub struct Args {
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
}

pub fn run(args: Args) -> Result<Report, BoxError> {
    let Args {
        seconds,
        threads,
        queue_capacity,
        children,
        rate,
        db,
    } = args;
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
