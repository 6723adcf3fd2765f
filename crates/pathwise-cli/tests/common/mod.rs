//! Running the `pathwise` binary from the CLI's tests.
#![allow(dead_code)]

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_pathwise");

/// Runs `pathwise ARGS` to completion.
pub fn pathwise(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run the pathwise binary")
}
