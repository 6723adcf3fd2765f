//! `pathwise migrate`: copies a store into another (a SQLite file into a ClickHouse cluster,
//! typically) through the store traits: traces and spans ([`traces`], so the target computes
//! its own rollups from the same spans), the function registry, resource samples, cache and
//! pipeline statistics, the baselines in force, alert history, active alerts, silences in force
//! and API keys. Every part is safe to run again: traces resume from a checkpoint and are
//! written idempotently, timestamped rows are compared whole ([`timeline`]) and keyed ones by
//! their key ([`keyed`]), so a second or resumed run adds only what is missing. At the end the
//! count of every kind is compared between both stores.

mod keyed;
mod rows;
mod timeline;
mod traces;
mod verify;

use std::path::Path;
use std::sync::Arc;

use pathwise_model::Record;
use pathwise_store::alerts::AlertWrite;
use pathwise_store::{Backend, FunctionInfo, NoPaths, WriteBatch};

use crate::MigrateArgs;
use crate::error::{CliError, open_backend};
use crate::format::emit;
use rows::{Cache, History, Resources, Stats};
use timeline::{PAGE, copy_missing};

/// The target, created when it does not exist yet (a new SQLite file, new ClickHouse tables).
fn open_target(to: &Path) -> Result<Arc<dyn Backend>, CliError> {
    let text = to.to_string_lossy();
    if !text.starts_with("clickhouse://") {
        let path = Path::new(text.strip_prefix("sqlite:").unwrap_or(&text));
        if !path.exists() {
            pathwise_store_sqlite::SqliteStore::open(path)
                .map_err(|e| CliError::Input(format!("cannot create {}: {e}", path.display())))?;
        }
    }
    open_backend(to)
}

fn store_error(what: &str) -> impl Fn(pathwise_store::StoreError) -> CliError + '_ {
    move |e| CliError::Failed(format!("{what}: {e}"))
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// Copies everything but traces; returns how many rows of each kind were written, by the
/// names of [`verify::KINDS`].
fn copy_the_rest(
    from: &dyn Backend,
    to: &dyn Backend,
    now_ns: i64,
) -> Result<Vec<(&'static str, u64)>, CliError> {
    let source = from.reader().map_err(store_error("reading the source"))?;
    let target = to.reader().map_err(store_error("reading the target"))?;
    let mut writer = to.writer().map_err(store_error("opening the target"))?;
    let mut copied = Vec::new();

    let n = copy_missing(
        &Resources(source.as_ref()),
        &Resources(target.as_ref()),
        PAGE,
        |samples| {
            let records: Vec<Record> = samples.iter().copied().map(Record::Resource).collect();
            let batch = WriteBatch {
                records: &records,
                ..WriteBatch::EMPTY
            };
            writer
                .write_batch(&batch, &NoPaths)
                .map_err(store_error("writing resources"))
        },
    )?;
    copied.push(("resource samples", n));
    let n = copy_missing(
        &Cache(source.as_ref()),
        &Cache(target.as_ref()),
        PAGE,
        |rows| {
            writer
                .write_cache_rows(rows)
                .map_err(store_error("writing cache rows"))
        },
    )?;
    copied.push(("cache rows", n));
    let n = copy_missing(
        &Stats(source.as_ref()),
        &Stats(target.as_ref()),
        PAGE,
        |rows| {
            writer
                .write_pipeline_stats(rows)
                .map_err(store_error("writing pipeline statistics"))
        },
    )?;
    copied.push(("pipeline stats", n));
    let n = keyed::baselines(source.as_ref(), target.as_ref(), writer.as_mut())?;
    copied.push(("baselines", n));

    let alerts_from = from
        .alert_store()
        .map_err(store_error("opening the source's alerts"))?;
    // One alert store reads the target while another writes it: the copy compares as it goes.
    let alerts_seen = to
        .alert_store()
        .map_err(store_error("opening the target's alerts"))?;
    let mut alerts_to = to
        .alert_store()
        .map_err(store_error("opening the target's alerts"))?;
    let n = copy_missing(
        &History(alerts_from.as_ref()),
        &History(alerts_seen.as_ref()),
        PAGE,
        |rows| {
            let writes: Vec<AlertWrite<'_>> = rows.iter().map(AlertWrite::History).collect();
            alerts_to
                .apply(&writes)
                .map_err(store_error("writing alert history"))
        },
    )?;
    copied.push(("alert history", n));
    let n = keyed::alert_states(alerts_from.as_ref(), alerts_to.as_mut())?;
    copied.push(("active alerts", n));
    let n = keyed::silences(alerts_from.as_ref(), alerts_to.as_mut(), now_ns)?;
    copied.push(("silences", n));
    copied.push(("API keys", keyed::keys(from, to)?));
    Ok(copied)
}

/// Runs `pathwise migrate`.
pub fn run(args: &MigrateArgs) -> Result<(), CliError> {
    let from = open_backend(&args.from)?;
    let to = open_target(&args.to)?;
    if from.describe() == to.describe() {
        return Err(CliError::Input("--from and --to are the same store".into()));
    }
    let source = from.reader().map_err(store_error("reading the source"))?;
    let mut target = to.writer().map_err(store_error("opening the target"))?;
    let functions: Vec<FunctionInfo> = source
        .functions()
        .map_err(store_error("reading functions"))?
        .into_iter()
        .map(|f| FunctionInfo {
            name: f.name.into(),
            group: f.group.map(Into::into),
            module_path: f.module_path.into(),
            file: f.file.into(),
            line: f.line,
            is_async: f.is_async,
        })
        .collect();
    target
        .register_functions(&functions)
        .map_err(store_error("writing functions"))?;
    let target_reader = to.reader().map_err(store_error("reading the target"))?;
    let traces = traces::copy(
        source.as_ref(),
        target_reader.as_ref(),
        target.as_mut(),
        args,
    )?;
    drop(target);
    // One instant for both copying and counting silences, so one expiring in between does not
    // make the counts differ.
    let now = now_ns();
    let mut copied = vec![("traces", traces)];
    copied.extend(copy_the_rest(from.as_ref(), to.as_ref(), now)?);
    let _ = std::fs::remove_file(&args.checkpoint);

    let (before, after) = (
        verify::counts(from.as_ref(), now)?,
        verify::counts(to.as_ref(), now)?,
    );
    let mut text = format!("{} → {}\n", from.describe(), to.describe());
    let mut differ = Vec::new();
    for (i, kind) in verify::KINDS.iter().enumerate() {
        let new = copied
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(String::new(), |(_, n)| format!("  ({n} written)"));
        text.push_str(&format!(
            "  {kind:<17}{:>10} → {}{new}\n",
            before[i], after[i]
        ));
        if before[i] != after[i] {
            differ.push(*kind);
        }
    }
    emit(&text)?;
    if !differ.is_empty() {
        return Err(CliError::Failed(format!(
            "the counts of {} differ: the target holds other data too, or the copy is incomplete",
            differ.join(", ")
        )));
    }
    emit("verified: the target holds everything the source does\n")
}
