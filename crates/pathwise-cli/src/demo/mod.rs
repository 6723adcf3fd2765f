//! `pathwise demo`: records a realistic, seeded workload, then says what was recorded and
//! what to try next.
//!
//! The run is a sequence of steps: record, summarise, then serve the dashboard over what was
//! recorded (unless `--no-serve`).

mod catalog;
mod dataset_db;
mod decision;
mod errors;
mod legacy;
mod plan;
mod search;
mod summary;
mod workload;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::DemoArgs;
use crate::error::CliError;
use crate::format::emit;

/// Marks the panics the workload injects on purpose; the panic hook keeps them off the
/// terminal (they are still recorded).
const INJECTED_PANIC: &str = "[demo-injected]";

/// Runs `pathwise demo`.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let db = &args.db.db;
    install_quiet_panic_hook();
    let run_start_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let started = Instant::now();
    // A cluster spills next to the working directory while it is behind or away.
    let config = pathwise::Config::default().store(db.to_string_lossy());
    let recording = pathwise::init(config).map_err(|e| {
        let message = format!("cannot record into {}: {e}", db.display());
        match e {
            // The path (or the file at it) is unusable: bad input.
            pathwise::InitError::InvalidConfig(_) | pathwise::InitError::Store(_) => {
                CliError::Input(message)
            }
            _ => CliError::Failed(message),
        }
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_time()
        .thread_name("demo-worker")
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;

    let progress = crate::format::progress_bar(u64::from(args.iterations), "requests");
    let tally = runtime.block_on(workload::run(args.iterations, args.seed, progress.clone()));
    // Worker threads hand over their buffered spans as they exit.
    runtime.shutdown_timeout(Duration::from_secs(10));
    progress.finish_and_clear();
    let stats = recording.shutdown();
    let elapsed = started.elapsed();

    let counts = summary::collect(db, run_start_ms)?;
    emit(&summary::render(args, elapsed, &tally, &stats, &counts))?;
    offer_dashboard(args)
}

/// The last step of a demo run: serve what was recorded.
fn offer_dashboard(args: &DemoArgs) -> Result<(), CliError> {
    if args.no_serve {
        return Ok(());
    }
    crate::serve::serve(&args.db.db, &args.serve)
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
/// Keeps the injected panics quiet; any other panic is reported by the previous hook as usual.
/// Installed before `pathwise::init`, whose own hook chains to this one.
fn install_quiet_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        if !message.is_some_and(|m| m.contains(INJECTED_PANIC)) {
            previous(info);
        }
    }));
}
