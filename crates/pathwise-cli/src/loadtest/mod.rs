//! `pathwise loadtest`: drives work at increasing sizes and concurrency, records it into the
//! store, then prints how the chosen nodes' cost grows with size (the scaling analysis of
//! `pathwise report --scaling`, over the calls of this run only).
//!
//! Without a command it drives the demo search service's merge step ([`workload`]) in this
//! process. With `-- COMMAND…` it runs the command `--requests` times per step, one run
//! after another (each run records through the SDK, and a store is written by one process at
//! a time), with `PATHWISE_LOAD_SIZE`, `PATHWISE_LOAD_CONCURRENCY` and `PATHWISE_LOAD_RUN`
//! set for it to size its work by, and `PATHWISE_STORE` naming the store so that an SDK
//! configured from the environment (`Config::from_env`) records into it.

mod command;
mod workload;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use pathwise_analysis::Window;
use pathwise_analysis::report::Format;
use pathwise_analysis::scaling::{SizeField, render};

use crate::DbArg;
use crate::error::{CliError, open_reader};
use crate::format::emit;
use crate::scaling::{Target, analyse, parse_target};

/// Options of `pathwise loadtest`.
#[derive(Debug, Args)]
pub struct LoadtestArgs {
    /// The sizes to drive, in this order (comma-separated; for an exponent the largest must
    /// be at least 4 times the smallest).
    #[arg(long, value_delimiter = ',', default_value = "10,20,40,80,160",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub sizes: Vec<u64>,
    /// The concurrency levels to drive at each size (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4",
          value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: Vec<u64>,
    /// Requests per step (size × concurrency): calls of the built-in work, or runs of
    /// COMMAND.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub requests: u64,
    /// A node to analyse and the field holding its calls' size, NODE=FIELD (repeatable; FIELD
    /// is an attribute, or input.<argument>). Required with a COMMAND; by default the
    /// built-in work's dedupe and index steps by `dataset_count`.
    #[arg(long, value_name = "NODE=FIELD")]
    pub scaling: Vec<String>,
    /// text, json, html (one self-contained file) or csv (one row per node).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "html", "csv"])]
    pub format: String,
    /// Write the analysis to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub db: DbArg,
    /// The command to drive, after `--` (e.g. `-- python job.py`), run with
    /// PATHWISE_LOAD_SIZE, PATHWISE_LOAD_CONCURRENCY, PATHWISE_LOAD_RUN and PATHWISE_STORE
    /// set; its standard output goes to standard error, so that this command's own output
    /// stays the analysis.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// What to analyse: `--scaling`, or the built-in work's nodes.
fn targets(args: &LoadtestArgs) -> Result<Vec<Target>, CliError> {
    if args.scaling.is_empty() {
        if !args.command.is_empty() {
            return Err(CliError::Input(
                "name what to analyse in the command's spans: --scaling NODE=FIELD (e.g. \
                 --scaling load_rows=input.rows)"
                    .into(),
            ));
        }
        return Ok(workload::NODES
            .iter()
            .map(|(node, field)| Target {
                node: (*node).to_string(),
                size: SizeField::Attribute((*field).to_string()),
            })
            .collect());
    }
    args.scaling.iter().map(|t| parse_target(t)).collect()
}

/// Runs `pathwise loadtest`.
pub fn run(args: &LoadtestArgs) -> Result<(), CliError> {
    let format: Format = args.format.parse().map_err(CliError::Input)?;
    let targets = targets(args)?;
    let started_ns = now_ns();
    let steps = args.sizes.len() * args.concurrency.len();
    eprintln!(
        "pathwise loadtest: {steps} steps ({} sizes × {} concurrency levels), {} requests each, into {}",
        args.sizes.len(),
        args.concurrency.len(),
        args.requests,
        args.db.db.display()
    );
    if args.command.is_empty() {
        drive_builtin(args)?;
    } else {
        command::drive(args)?;
    }
    // The calls of this run only: traces started since it began.
    let window = Window {
        since_ns: started_ns,
        until_ns: i64::MAX,
    };
    let reader = open_reader(&args.db.db)?;
    let reports = analyse(reader.as_ref(), window, &targets)?;
    let text = render(&reports, format);
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", path.display())))
            .and_then(|()| emit(&format!("analysis written to {}\n", path.display()))),
        None => emit(&text),
    }
}

/// Records the built-in work at every step in this process, then flushes it to the store.
fn drive_builtin(args: &LoadtestArgs) -> Result<(), CliError> {
    let db = &args.db.db;
    let config = pathwise::Config {
        resource_interval: None,
        ..pathwise::Config::default()
    }
    .store(db.to_string_lossy());
    let recording = pathwise::init(config).map_err(|e| {
        let message = format!("cannot record into {}: {e}", db.display());
        match e {
            pathwise::InitError::InvalidConfig(_) | pathwise::InitError::Store(_) => {
                CliError::Input(message)
            }
            _ => CliError::Failed(message),
        }
    })?;
    for &concurrency in &args.concurrency {
        for &size in &args.sizes {
            let started = Instant::now();
            workload::run_step(size as usize, concurrency as usize, args.requests as usize);
            step_done(size, concurrency, args.requests, started.elapsed());
        }
    }
    let stats = recording.shutdown();
    if stats.dropped > 0 {
        return Err(CliError::Failed(format!(
            "{} records were dropped while recording: the analysis would miss calls",
            stats.dropped
        )));
    }
    Ok(())
}

/// One line on standard error per step.
fn step_done(size: u64, concurrency: u64, requests: u64, took: Duration) {
    eprintln!(
        "  size {size:>7} × concurrency {concurrency:>3}: {requests} requests in {:.1} ms",
        took.as_secs_f64() * 1e3
    );
}
