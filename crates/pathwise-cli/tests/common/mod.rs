//! Running the `pathwise` binary from the CLI's tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_pathwise");

/// Runs `pathwise ARGS` to completion.
pub fn pathwise(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run the pathwise binary")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn db_arg(db: &Path) -> &str {
    db.to_str().expect("utf-8 temp path")
}

/// Runs `demo --iterations 200 --seed <seed> --no-serve` into a fresh database in `dir`:
/// the database and what the demo printed.
pub fn demo(dir: &Path, seed: u64) -> (PathBuf, String) {
    let db = dir.join("p.db");
    let output = pathwise(&[
        "demo",
        "--iterations",
        "200",
        "--seed",
        &seed.to_string(),
        "--no-serve",
        "--db",
        db_arg(&db),
    ]);
    assert!(
        output.status.success(),
        "demo failed: {}\n{}",
        stdout(&output),
        stderr(&output)
    );
    (db, stdout(&output))
}

/// `pathwise sql --format tsv QUERY`: the rows, without the header line.
pub fn sql(db: &Path, query: &str) -> Vec<Vec<String>> {
    let output = pathwise(&["sql", "--format", "tsv", "--db", db_arg(db), query]);
    assert!(output.status.success(), "{query}: {}", stderr(&output));
    stdout(&output)
        .lines()
        .skip(1)
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect()
}

/// A query's single number, through `pathwise sql`.
pub fn sql_count(db: &Path, query: &str) -> i64 {
    let rows = sql(db, query);
    rows[0][0]
        .parse()
        .unwrap_or_else(|_| panic!("{query}: {rows:?}"))
}
