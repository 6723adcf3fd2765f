//! `pathwise db stats|vacuum`: how much room the store takes and what it holds, and giving
//! the space retention freed back to the file system.

use pathwise_store::StorageUse;

use crate::error::{CliError, open_backend};
use crate::format::{emit, utc_iso};
use crate::{DbArgs, DbCommand};

/// Runs `pathwise db`.
pub fn run(args: &DbArgs) -> Result<(), CliError> {
    let backend = open_backend(&args.db.db)?;
    let store_error = |e| CliError::store(&args.db.db, e);
    match &args.command {
        DbCommand::Stats { json } => {
            let reader = backend.reader().map_err(store_error)?;
            let usage = reader.storage_use(true).map_err(store_error)?;
            if *json {
                emit(&(serde_json::to_string_pretty(&usage).unwrap_or_default() + "\n"))
            } else {
                emit(&describe(&backend.describe(), &usage))
            }
        }
        DbCommand::Vacuum { full } => {
            let mut writer = backend.writer().map_err(store_error)?;
            let done = writer.reclaim(*full).map_err(store_error)?;
            emit(&format!(
                "{}: {} → {} on disk ({} given back)\n",
                backend.describe(),
                bytes(done.bytes_before),
                bytes(done.bytes_after),
                bytes(done.bytes_before.saturating_sub(done.bytes_after))
            ))
        }
    }
}

/// `1.5 MB`, `312 KB`, `40 B` (powers of 1,000, as file managers show them).
fn bytes(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.2} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.0} KB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

fn describe(store: &str, usage: &StorageUse) -> String {
    let mut out = format!("store     {store}\n");
    out += &format!(
        "on disk   {} (data {}, free {})\n",
        bytes(usage.file_bytes),
        bytes(usage.used_bytes),
        bytes(usage.free_bytes)
    );
    out += &format!("reclaim   {}\n", usage.reclaim);
    let traces = usage
        .tables
        .iter()
        .find(|(t, _)| t == "traces")
        .map_or(String::new(), |(_, n)| format!("{n} traces, "));
    out += &match (usage.oldest_trace_ms, usage.newest_trace_ms) {
        (Some(oldest), Some(newest)) => format!(
            "traces    {traces}{} to {}\n",
            utc_iso(oldest as i64 * 1_000_000),
            utc_iso(newest as i64 * 1_000_000)
        ),
        _ => "traces    none\n".into(),
    };
    for (table, rows) in &usage.tables {
        out += &format!("rows      {table:<18} {rows:>12}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(40), "40 B");
        assert_eq!(bytes(312_400), "312 KB");
        assert_eq!(bytes(21_536_768), "21.5 MB");
        assert_eq!(bytes(1_250_000_000), "1.25 GB");
    }
}
