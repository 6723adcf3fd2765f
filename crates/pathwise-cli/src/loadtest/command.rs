//! Driving a user's command: `--requests` runs per step, one after another, each told its
//! step through the environment and pointed at the store.

use std::process::{Command, Stdio};
use std::time::Instant;

use super::{LoadtestArgs, step_done};
use crate::error::CliError;

/// The size of the step, for the command to size its work by.
pub const SIZE_VAR: &str = "PATHWISE_LOAD_SIZE";
/// The concurrency of the step: how many workers the command should run at once.
pub const CONCURRENCY_VAR: &str = "PATHWISE_LOAD_CONCURRENCY";
/// The run's number within its step, from 0.
pub const RUN_VAR: &str = "PATHWISE_LOAD_RUN";

/// Runs the command at every step; the first run that fails (or cannot start) stops the load
/// test, since the analysis would then lack that step's calls.
pub fn drive(args: &LoadtestArgs) -> Result<(), CliError> {
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| CliError::Input("no command after --".into()))?;
    for &concurrency in &args.concurrency {
        for &size in &args.sizes {
            let started = Instant::now();
            for run in 0..args.requests {
                // The command's output must not mix with the analysis on standard output.
                let status = Command::new(program)
                    .args(rest)
                    .env(SIZE_VAR, size.to_string())
                    .env(CONCURRENCY_VAR, concurrency.to_string())
                    .env(RUN_VAR, run.to_string())
                    .env("PATHWISE_STORE", &args.db.db)
                    .stdin(Stdio::null())
                    .stdout(Stdio::from(std::io::stderr()))
                    .status()
                    .map_err(|e| CliError::Input(format!("cannot run {program:?}: {e}")))?;
                if !status.success() {
                    return Err(CliError::Failed(format!(
                        "{program:?} failed ({status}) at size {size}, concurrency \
                         {concurrency}, run {run}"
                    )));
                }
            }
            step_done(size, concurrency, args.requests, started.elapsed());
        }
    }
    Ok(())
}
