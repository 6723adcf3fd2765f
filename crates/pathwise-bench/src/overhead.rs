//! `overhead`: a CPU-bound workload of nested monitored calls, recording off vs on.

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use pathwise_store::PipelineStats;

use crate::BoxError;
use crate::report::{Report, median};
use crate::shared::{
    inspect_db, named_thread_cpu_ns, pipeline_rows, thread_sched_ns, while_recording,
};

#[derive(clap::Args)]
pub struct Args {
    /// Requests per timed block.
    #[arg(long, default_value_t = 20_000)]
    iterations: u64,
    /// Alternating off/on block pairs; medians are reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Record to a Pathwise server (`pathwise serve`) at this URL instead of the local file:
    /// the app-thread cost of the remote exporter.
    #[arg(long)]
    remote: Option<String>,
    /// The server's key or token.
    #[arg(long)]
    key: Option<String>,
    /// The server's database, to check that every span arrived.
    #[arg(long, requires = "remote")]
    remote_db: Option<std::path::PathBuf>,
}

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
    export: &[pathwise::Export],
    iterations: u64,
    capture: bool,
    totals: &mut PipelineStats,
) -> Result<Block, BoxError> {
    let (mut block, flush) = while_recording(db_path, export, totals, || {
        let writer0 = named_thread_cpu_ns("pathwise-writer");
        let mut block = run_requests(iterations, capture);
        block.writer_cpu = (named_thread_cpu_ns("pathwise-writer") - writer0) as f64 / 1e9;
        block
    })?;
    block.flushed = block.wall + flush.as_secs_f64();
    Ok(block)
}
pub fn run(args: Args) -> Result<Report, BoxError> {
    let Args {
        iterations,
        rounds,
        remote,
        key,
        remote_db,
    } = args;
    let export: Vec<pathwise::Export> = remote
        .iter()
        .map(|url| pathwise::Export::Pathwise {
            url: url.clone(),
            key: key.clone(),
        })
        .collect();
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
        on.push(recorded_block(
            &db_path,
            &export,
            iterations,
            true,
            &mut totals,
        )?);
        bare.push(recorded_block(
            &db_path,
            &export,
            iterations,
            false,
            &mut totals,
        )?);
    }
    let spans = 2 * rounds as u64 * iterations * SPANS_PER_REQUEST;
    // Without the server's file, a remote run cannot count what arrived.
    let facts = match (&remote, &remote_db) {
        (Some(_), None) => None,
        (_, db) => Some(inspect_db(db.as_deref().unwrap_or(&db_path))?),
    };
    let calls = (iterations * SPANS_PER_REQUEST) as f64;
    let off_wall = median(off.iter().map(|b| b.wall));
    let off_cpu = median(off.iter().map(|b| b.cpu));

    let mut report = Report::new("overhead");
    report.text(
        "recording into",
        remote.as_deref().unwrap_or("local SQLite file"),
    );
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
    if let Some(facts) = facts {
        report.int("span rows", facts.spans);
        report.check("every span stored", facts.spans == spans);
    }
    Ok(report)
}
