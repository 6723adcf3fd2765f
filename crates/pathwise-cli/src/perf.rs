//! `pathwise snapshot` and `pathwise baseline ...`: performance monitoring from the terminal.

use std::time::Duration;

use pathwise_analysis::monitoring::{
    MonitorConfig, StoredBaseline, accept, evaluate_now, learned_rows,
};
use pathwise_store::{Backend, Reader, Store};

use crate::error::{CliError, open_backend, open_reader};
use crate::format::emit;
use crate::{BaselineAction, BaselineArgs, SnapshotArgs};

fn failed(what: &str) -> impl Fn(String) -> CliError + '_ {
    move |e| CliError::Failed(format!("{what}: {e}"))
}

/// Now, Unix nanoseconds.
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Parses `--at`: Unix milliseconds or an RFC 3339 time, as `/api/snapshot` takes it.
fn parse_at(text: &str) -> Result<i64, CliError> {
    if let Ok(ms) = text.parse::<i64>() {
        return ms
            .checked_mul(1_000_000)
            .filter(|ns| *ns >= 0)
            .ok_or_else(|| CliError::Input(format!("--at {text}: milliseconds out of range")));
    }
    let at = humantime::parse_rfc3339_weak(text).map_err(|_| {
        CliError::Input(format!(
            "--at {text:?}: expected Unix milliseconds or an RFC 3339 time such as 2026-05-01T12:00:00Z"
        ))
    })?;
    at.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .ok_or_else(|| CliError::Input(format!("--at {text}: outside 1970–2262")))
}

/// The monitor settings `pathwise snapshot` was given.
fn snapshot_config(args: &SnapshotArgs) -> MonitorConfig {
    let mut config = MonitorConfig::default();
    if let Some(seconds) = args.recent_s {
        config.recent_window = Duration::from_secs(seconds);
    }
    if let Some(hours) = args.baseline_h {
        config.baseline_window = Duration::from_secs(hours * 3600);
    }
    config
}

fn stored_baselines(reader: &dyn Reader) -> Result<Vec<StoredBaseline>, CliError> {
    Ok(reader
        .baselines()
        .map_err(|e| failed("reading baselines")(e.to_string()))?
        .iter()
        .map(StoredBaseline::from)
        .collect())
}

/// Runs `pathwise snapshot`: the whole monitoring state as JSON.
pub fn snapshot(args: &SnapshotArgs) -> Result<(), CliError> {
    let at = args.at.as_deref().map(parse_at).transpose()?;
    let reader = open_reader(&args.db.db)?;
    let stored = stored_baselines(reader.as_ref())?;
    let snap = pathwise_analysis::snapshot::snapshot(
        reader.as_ref(),
        at.unwrap_or_else(now_ns),
        &snapshot_config(args),
        &stored,
        None,
        &[],
    )
    .map_err(|e| failed("snapshot")(e.to_string()))?;
    let text =
        serde_json::to_string_pretty(&snap).map_err(|e| failed("encoding")(e.to_string()))?;
    emit(&format!("{text}\n"))
}

/// `pathwise baseline accept NAME`: stores NAME's new level as its baseline, pinned when the
/// one it replaces was.
fn accept_level(
    backend: &dyn Backend,
    store: &mut dyn Store,
    db: &std::path::Path,
    name: &str,
) -> Result<(), CliError> {
    let reader = backend.reader().map_err(|e| CliError::store(db, e))?;
    let stored = stored_baselines(reader.as_ref())?;
    let was_pinned = stored.iter().any(|s| s.name == name && s.pinned);
    let row = accept(
        reader.as_ref(),
        now_ns(),
        &MonitorConfig::default(),
        &stored,
        name,
    )
    .map_err(|e| CliError::Failed(e.to_string()))?;
    let version = store
        .save_baseline(&row)
        .map_err(|e| CliError::store(db, e))?;
    if was_pinned {
        store
            .pin_baseline(name, true)
            .map_err(|e| CliError::store(db, e))?;
    }
    emit(&format!(
        "{name} v{version}{}: accepted the new level, p50 {:.3} ms, p95 {:.3} ms from {} samples\n",
        if was_pinned { " (pinned)" } else { "" },
        row.p50,
        row.p95,
        row.kept
    ))
}

/// Runs `pathwise baseline list|learn|pin|unpin|accept`.
pub fn baseline(args: &BaselineArgs) -> Result<(), CliError> {
    let db = &args.db.db;
    // A missing database is an input error, not a new empty file.
    let backend = open_backend(db)?;
    let mut store = backend.writer().map_err(|e| CliError::store(db, e))?;
    match &args.action {
        BaselineAction::List => {
            let reader = backend.reader().map_err(|e| CliError::store(db, e))?;
            let rows = reader.baselines().map_err(|e| CliError::store(db, e))?;
            if rows.is_empty() {
                return emit("no stored baselines (learn them with `pathwise baseline learn`)\n");
            }
            emit(&format!(
                "{:<48} {:>4} {:>6} {:>9} {:>9} {:>9} {:>7} {:>5}\n",
                "OPERATION", "VER", "PINNED", "P50 MS", "P95 MS", "P99 MS", "SAMPLES", "CONF"
            ))?;
            for r in rows {
                emit(&format!(
                    "{:<48} {:>4} {:>6} {:>9.3} {:>9.3} {:>9.3} {:>7} {:>5.2}\n",
                    r.name,
                    r.version,
                    if r.pinned { "yes" } else { "" },
                    r.p50,
                    r.p95,
                    r.p99,
                    r.kept,
                    r.confidence
                ))?;
            }
            Ok(())
        }
        BaselineAction::Learn { name } => {
            let reader = backend.reader().map_err(|e| CliError::store(db, e))?;
            // Re-learn everything not pinned: evaluate with only the pinned baselines known.
            let pinned: Vec<StoredBaseline> = reader
                .baselines()
                .map_err(|e| CliError::store(db, e))?
                .iter()
                .filter(|r| r.pinned)
                .map(StoredBaseline::from)
                .collect();
            // Learn from all history up to now: no recent window held back for comparison.
            let config = MonitorConfig {
                recent_window: std::time::Duration::ZERO,
                ..MonitorConfig::default()
            };
            let reports = evaluate_now(reader.as_ref(), &config, &pinned)
                .map_err(|e| failed("evaluating")(e.to_string()))?;
            let rows = learned_rows(&reports, now_ns(), name.as_deref());
            if rows.is_empty() {
                let waiting: Vec<String> = reports
                    .iter()
                    .filter_map(|r| r.learning.as_ref().map(|l| format!("{}: {l}", r.name)))
                    .collect();
                return Err(CliError::Failed(format!(
                    "nothing learned (too few samples or pinned){}{}",
                    if waiting.is_empty() { "" } else { "; " },
                    waiting.join("; ")
                )));
            }
            for row in &rows {
                let version = store
                    .save_baseline(row)
                    .map_err(|e| CliError::store(db, e))?;
                emit(&format!(
                    "{} v{version}: p50 {:.3} ms, p95 {:.3} ms from {} samples\n",
                    row.name, row.p50, row.p95, row.kept
                ))?;
            }
            Ok(())
        }
        BaselineAction::Accept { name } => accept_level(backend.as_ref(), store.as_mut(), db, name),
        BaselineAction::Pin { name } | BaselineAction::Unpin { name } => {
            let pin = matches!(args.action, BaselineAction::Pin { .. });
            match store
                .pin_baseline(name, pin)
                .map_err(|e| CliError::store(db, e))?
            {
                Some(version) => emit(&format!(
                    "{name}: v{version} {}\n",
                    if pin { "pinned" } else { "unpinned" }
                )),
                None => Err(CliError::Failed(format!(
                    "no stored baseline for {name:?} (run `pathwise baseline learn` first)"
                ))),
            }
        }
    }
}
