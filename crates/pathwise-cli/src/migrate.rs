//! `pathwise migrate`: copies a store into another (a SQLite file into a ClickHouse cluster,
//! typically) through the store traits, so the target computes its own rollups from the same
//! spans. Traces go over page by page; the cursor of the last page written is kept in a
//! checkpoint file, so an interrupted copy resumes there. At the end the trace and span counts
//! of both stores are compared.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use pathwise_model::{
    AttrValue, ErrorInfo, Name, Record, SpanDetails, SpanRecord, TraceEvent, TraceStatus,
};
use pathwise_store::{
    Backend, Cursor, FunctionInfo, PATH_SEPARATOR, PathList, Reader, SpanRow, TraceFilter,
    WriteBatch,
};

use crate::MigrateArgs;
use crate::error::{CliError, open_backend};
use crate::format::{emit, progress_bar};

/// Paths of the copied spans, by their text.
#[derive(Default)]
struct TextPaths {
    ids: HashMap<String, u32>,
    list: PathList,
}

impl TextPaths {
    /// The id of `text` (`A → B → C`), adding it and its ancestors as needed.
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let (parent, name) = match text.rsplit_once(PATH_SEPARATOR) {
            Some((parent, name)) => (self.id(parent), name),
            None => (0, text),
        };
        let id = self.list.push(parent, name.to_string());
        self.ids.insert(text.to_string(), id);
        id
    }
}

fn attr(value: &serde_json::Value) -> Option<AttrValue> {
    Some(match value {
        serde_json::Value::Bool(b) => AttrValue::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => AttrValue::I64(i),
            None => AttrValue::F64(n.as_f64()?),
        },
        serde_json::Value::String(s) => AttrValue::Str(s.clone().into()),
        _ => return None,
    })
}

/// JSON text as it was recorded: strings that were not JSON come back as JSON strings, and
/// are stored as their text again.
fn json_text(value: &Option<serde_json::Value>) -> Option<String> {
    value.as_ref().map(|v| match v {
        serde_json::Value::String(s) if serde_json::from_str::<serde_json::Value>(s).is_err() => {
            s.clone()
        }
        other => other.to_string(),
    })
}

/// A stored span as the record the pipeline would have written.
fn record(trace: pathwise_model::TraceId, row: &SpanRow, paths: &mut TextPaths) -> SpanRecord {
    let mut span = SpanRecord::new(
        trace,
        row.span_id,
        row.parent_id,
        row.name.clone().into(),
        row.kind,
    );
    span.start_ns = row.start_ns;
    span.duration_ns = row.duration_ns.max(0) as u64;
    span.group = row.group.clone().map(Into::into);
    span.path = paths.id(&row.path);
    span.status = row.status;
    let attrs: Vec<(Name, AttrValue)> = row
        .attrs
        .as_ref()
        .and_then(|a| a.as_object())
        .map(|map| {
            map.iter()
                .filter_map(|(k, v)| Some((Name::from(k.clone()), attr(v)?)))
                .collect()
        })
        .unwrap_or_default();
    let error = row.error_type.as_ref().map(|t| ErrorInfo {
        error_type: t.clone().into(),
        message: row.error_message.clone().unwrap_or_default(),
        chain: row
            .error_chain
            .as_ref()
            .and_then(|c| c.as_array())
            .map(|c| {
                c.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    });
    let details = SpanDetails {
        attrs,
        error,
        input: json_text(&row.input),
        output: json_text(&row.output),
        reasoning: row.reasoning.clone(),
        metadata: json_text(&row.metadata),
    };
    if details != SpanDetails::default() {
        span.details = Some(Box::new(details));
    }
    span
}

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

/// Trace and span counts of a store.
fn counts(reader: &dyn Reader) -> Result<(u64, u64), CliError> {
    let traces = reader
        .trace_stats(None, None)
        .map_err(store_error("counting traces"))?;
    let spans = reader
        .error_rate_since(0)
        .map_err(store_error("counting spans"))?;
    Ok((traces.total, spans.spans))
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

    let resumed = std::fs::read_to_string(&args.checkpoint)
        .ok()
        .and_then(|text| Cursor::decode(text.trim()));
    let (total_traces, _) = counts(source.as_ref())?;
    let progress = progress_bar(total_traces, "traces");
    let mut filter = TraceFilter {
        limit: args.batch.clamp(1, 10_000),
        cursor: resumed,
        ..TraceFilter::default()
    };
    if let Some(cursor) = resumed {
        // Traces newer than the cursor were copied before the interruption.
        let done = source
            .trace_stats(Some(cursor.start_ns), None)
            .map_err(store_error("counting"))?
            .total;
        progress.set_position(done);
    }
    let mut paths = TextPaths::default();
    loop {
        let page = source
            .list_traces(&filter)
            .map_err(store_error("listing traces"))?;
        let mut records = Vec::new();
        for t in &page.traces {
            let spans = source
                .spans(t.trace_id, None, 10_000_000)
                .map_err(store_error("reading spans"))?;
            if t.status == TraceStatus::Running || spans.iter().all(|s| s.parent_id != 0) {
                records.push(Record::Trace(TraceEvent::Started {
                    trace_id: t.trace_id,
                    name: t.name.clone().into(),
                    start_ns: t.start_ns,
                    metadata: t.metadata.as_ref().map(|m| m.to_string()),
                }));
            }
            records.extend(
                spans
                    .iter()
                    .map(|s| Record::Span(record(t.trace_id, s, &mut paths))),
            );
        }
        target
            .write_batch(
                &WriteBatch {
                    records: &records,
                    ..WriteBatch::EMPTY
                },
                &paths.list,
            )
            .map_err(store_error("writing"))?;
        progress.inc(page.traces.len() as u64);
        match page.next_cursor.as_deref().and_then(Cursor::decode) {
            Some(cursor) => {
                std::fs::write(&args.checkpoint, cursor.encode()).map_err(|e| {
                    CliError::Failed(format!("cannot write {}: {e}", args.checkpoint.display()))
                })?;
                filter.cursor = Some(cursor);
            }
            None => break,
        }
    }
    progress.finish_and_clear();

    // Resources and baselines: small, copied whole.
    let mut since = i64::MIN;
    loop {
        let samples = source
            .resource_samples(since, None, 10_000)
            .map_err(store_error("reading resources"))?;
        let Some(last) = samples.last().map(|s| s.ts_ns) else {
            break;
        };
        let records: Vec<Record> = samples.into_iter().map(Record::Resource).collect();
        target
            .write_batch(
                &WriteBatch {
                    records: &records,
                    ..WriteBatch::EMPTY
                },
                &paths.list,
            )
            .map_err(store_error("writing resources"))?;
        since = last + 1;
    }
    for baseline in source
        .baselines()
        .map_err(store_error("reading baselines"))?
    {
        target
            .save_baseline(&baseline)
            .map_err(store_error("writing baselines"))?;
        if baseline.pinned {
            target
                .pin_baseline(&baseline.name, true)
                .map_err(store_error("pinning baselines"))?;
        }
    }
    drop(target);
    let _ = std::fs::remove_file(&args.checkpoint);

    let (from_traces, from_spans) = counts(source.as_ref())?;
    let reader = to.reader().map_err(store_error("reading the target"))?;
    let (to_traces, to_spans) = counts(reader.as_ref())?;
    emit(&format!(
        "{} → {}\n  traces {from_traces} → {to_traces}\n  spans  {from_spans} → {to_spans}\n",
        from.describe(),
        to.describe()
    ))?;
    if (from_traces, from_spans) != (to_traces, to_spans) {
        return Err(CliError::Failed(
            "the counts differ: the target holds other data too, or the copy is incomplete".into(),
        ));
    }
    emit("verified: every trace and span is in the target\n")
}
