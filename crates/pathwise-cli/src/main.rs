//! The `pathwise` binary; everything lives in the library ([`pathwise_cli::run`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    pathwise_cli::run(std::env::args_os())
}
