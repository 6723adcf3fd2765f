//! Traces and their spans, page by page (newest first, as the trace list pages): each span
//! becomes the record the pipeline would have written, so the target computes its own rollups.
//! The cursor of the last page written is kept in the checkpoint file, so an interrupted copy
//! resumes there; what the target holds already is not written again.

use std::collections::{HashMap, HashSet};

use pathwise_model::{
    AttrValue, ErrorInfo, Name, Record, SpanDetails, SpanRecord, TraceEvent, TraceId, TraceStatus,
};
use pathwise_store::{
    Cursor, PATH_SEPARATOR, PathList, Reader, SpanRow, Store, TraceFilter, TraceSummary, WriteBatch,
};

use super::store_error;
use crate::MigrateArgs;
use crate::error::CliError;
use crate::format::progress_bar;

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

/// The target's summaries of the traces started in the time range of `page`, by id: what it
/// holds of them already.
fn held(
    target: &dyn Reader,
    page: &[TraceSummary],
) -> Result<HashMap<TraceId, TraceSummary>, CliError> {
    let mut held = HashMap::new();
    let (Some(first), Some(last)) = (
        page.iter().map(|t| t.start_ns).min(),
        page.iter().map(|t| t.start_ns).max(),
    ) else {
        return Ok(held);
    };
    let mut filter = TraceFilter {
        since_ns: Some(first),
        until_ns: Some(last.saturating_add(1)),
        limit: 10_000,
        ..TraceFilter::default()
    };
    loop {
        let found = target
            .list_traces(&filter)
            .map_err(store_error("listing the target's traces"))?;
        held.extend(found.traces.into_iter().map(|t| (t.trace_id, t)));
        match found.next_cursor.as_deref().and_then(Cursor::decode) {
            Some(cursor) => filter.cursor = Some(cursor),
            None => return Ok(held),
        }
    }
}

/// Copies every trace of `source` into `target` (read through `target_reader`), from the
/// checkpoint on if there is one; returns how many traces needed writing.
///
/// A trace the target holds as the source does is skipped, and of one it holds in part only
/// the missing spans are written: not every backend replaces a span written twice at once
/// (ClickHouse merges replaced rows later, and would count the span twice in its rollups).
pub(super) fn copy(
    source: &dyn Reader,
    target_reader: &dyn Reader,
    target: &mut dyn Store,
    args: &MigrateArgs,
) -> Result<u64, CliError> {
    let total_traces = source
        .trace_stats(&pathwise_store::TraceFilter::default())
        .map_err(store_error("counting traces"))?
        .total;
    let resumed = std::fs::read_to_string(&args.checkpoint)
        .ok()
        .and_then(|text| Cursor::decode(text.trim()));
    let progress = progress_bar(total_traces, "traces");
    let mut filter = TraceFilter {
        limit: args.batch.clamp(1, 10_000),
        cursor: resumed,
        ..TraceFilter::default()
    };
    if let Some(cursor) = resumed {
        // Traces newer than the cursor were copied before the interruption.
        let done = source
            .trace_stats(&pathwise_store::TraceFilter {
                since_ns: Some(cursor.key),
                ..Default::default()
            })
            .map_err(store_error("counting"))?
            .total;
        progress.set_position(done);
    }
    let mut paths = TextPaths::default();
    let mut written = 0;
    loop {
        let page = source
            .list_traces(&filter)
            .map_err(store_error("listing traces"))?;
        let held = held(target_reader, &page.traces)?;
        let mut records = Vec::new();
        for t in &page.traces {
            let present: HashSet<u64> = match held.get(&t.trace_id) {
                Some(h) if h == t => continue,
                Some(_) => target_reader
                    .span_skeleton(t.trace_id)
                    .map_err(store_error("reading the target's spans"))?
                    .into_iter()
                    .map(|s| s.span_id)
                    .collect(),
                None => HashSet::new(),
            };
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
                    .filter(|s| !present.contains(&s.span_id))
                    .map(|s| Record::Span(record(t.trace_id, s, &mut paths))),
            );
            written += 1;
        }
        if !records.is_empty() {
            target
                .write_batch(
                    &WriteBatch {
                        records: &records,
                        ..WriteBatch::EMPTY
                    },
                    &paths.list,
                )
                .map_err(store_error("writing"))?;
        }
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
    Ok(written)
}
