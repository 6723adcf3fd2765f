//! The read side shared by every backend: what the CLI and the server ask of a store.

use pathwise_model::{AttrValue, ResourceSample, SpanKind, Status, TraceId, TraceStatus};
use serde::Serialize;

use crate::{BaselineRow, PipelineStats, StoreError};

/// Position after the last trace of a page: keyset pagination, never OFFSET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The last trace's sort key under the list's [`TraceOrder`]: its start, or its duration.
    pub key: i64,
    pub trace_id: TraceId,
}

impl Cursor {
    /// Opaque text form for URLs: `<key hex>-<trace id hex>`.
    ///
    /// ```
    /// use pathwise_store::Cursor;
    /// let c = Cursor { key: 42, trace_id: pathwise_model::TraceId(7) };
    /// assert_eq!(Cursor::decode(&c.encode()), Some(c));
    /// assert_eq!(Cursor::decode("nonsense"), None);
    /// ```
    pub fn encode(&self) -> String {
        format!("{:016x}-{}", self.key as u64, self.trace_id.to_hex())
    }

    /// Parses [`Cursor::encode`]'s output; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let (key, id) = text.split_once('-')?;
        if key.len() != 16 {
            return None;
        }
        Some(Cursor {
            key: u64::from_str_radix(key, 16).ok()? as i64,
            trace_id: TraceId::parse_hex(id)?,
        })
    }
}

/// The order of a trace list. Ties go by trace id, in the same direction, so pages never skip
/// or repeat a trace. By duration, running traces (no duration yet) are left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceOrder {
    #[default]
    Newest,
    Oldest,
    Slowest,
    Fastest,
}

impl TraceOrder {
    /// Every order by its name, as the API and the CLI spell it.
    pub const NAMES: [(&'static str, TraceOrder); 4] = [
        ("newest", TraceOrder::Newest),
        ("oldest", TraceOrder::Oldest),
        ("slowest", TraceOrder::Slowest),
        ("fastest", TraceOrder::Fastest),
    ];

    /// The order named `name`.
    ///
    /// ```
    /// use pathwise_store::TraceOrder;
    /// assert_eq!(TraceOrder::parse("slowest"), Some(TraceOrder::Slowest));
    /// assert_eq!(TraceOrder::parse("biggest"), None);
    /// ```
    pub fn parse(name: &str) -> Option<TraceOrder> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, o)| *o)
    }

    /// By duration rather than by start.
    pub fn by_duration(self) -> bool {
        matches!(self, TraceOrder::Slowest | TraceOrder::Fastest)
    }

    /// Largest key first.
    pub fn descending(self) -> bool {
        matches!(self, TraceOrder::Newest | TraceOrder::Slowest)
    }

    /// The key a trace is sorted by (a running trace has no duration: 0).
    pub fn key(self, trace: &TraceSummary) -> i64 {
        if self.by_duration() {
            trace.duration_ns.unwrap_or(0)
        } else {
            trace.start_ns
        }
    }
}

/// Which traces to list, and in which order.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFilter {
    pub status: Option<TraceStatus>,
    /// Case-insensitive substring of the trace name.
    pub name_contains: Option<String>,
    pub since_ns: Option<i64>,
    pub until_ns: Option<i64>,
    pub min_duration_ns: Option<i64>,
    pub max_duration_ns: Option<i64>,
    /// A query in the query language: the traces having a span it matches.
    pub query: Option<pathwise_query::Query>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
    pub order: TraceOrder,
}

impl Default for TraceFilter {
    fn default() -> Self {
        TraceFilter {
            status: None,
            name_contains: None,
            since_ns: None,
            until_ns: None,
            min_duration_ns: None,
            max_duration_ns: None,
            query: None,
            limit: 50,
            cursor: None,
            order: TraceOrder::Newest,
        }
    }
}

/// One trace in a list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceSummary {
    #[serde(serialize_with = "hex_id")]
    pub trace_id: TraceId,
    pub name: String,
    pub start_ns: i64,
    pub end_ns: Option<i64>,
    pub duration_ns: Option<i64>,
    #[serde(serialize_with = "trace_status")]
    pub status: TraceStatus,
    pub span_count: i64,
    pub error_count: i64,
    pub metadata: Option<serde_json::Value>,
}

/// A page of traces and where the next one starts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TracePage {
    pub traces: Vec<TraceSummary>,
    pub next_cursor: Option<String>,
}

impl TracePage {
    /// A page from `traces` fetched with `limit + 1` rows: the extra row, if any, only says
    /// that another page follows, whose cursor is the last kept trace.
    ///
    /// ```
    /// use pathwise_store::TracePage;
    /// let page = TracePage::from_overfetch(Vec::new(), 50, pathwise_store::TraceOrder::Newest);
    /// assert!(page.traces.is_empty() && page.next_cursor.is_none());
    /// ```
    pub fn from_overfetch(
        mut traces: Vec<TraceSummary>,
        limit: usize,
        order: TraceOrder,
    ) -> TracePage {
        let next_cursor = if traces.len() > limit {
            traces.truncate(limit);
            traces.last().map(|t| {
                Cursor {
                    key: order.key(t),
                    trace_id: t.trace_id,
                }
                .encode()
            })
        } else {
            None
        };
        TracePage {
            traces,
            next_cursor,
        }
    }
}

/// One span with everything known about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpanRow {
    /// Serialised as a decimal string: JSON numbers lose precision above 2^53.
    #[serde(serialize_with = "decimal")]
    pub span_id: u64,
    #[serde(serialize_with = "decimal")]
    pub parent_id: u64,
    pub name: String,
    pub path: String,
    pub group: Option<String>,
    #[serde(serialize_with = "span_kind")]
    pub kind: SpanKind,
    pub start_ns: i64,
    pub duration_ns: i64,
    #[serde(serialize_with = "span_status")]
    pub status: Status,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub error_chain: Option<serde_json::Value>,
    pub attrs: Option<serde_json::Value>,
    pub input: Option<serde_json::Value>,
    pub output: Option<serde_json::Value>,
    pub reasoning: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

/// A registered (`#[monitor]`ed) function.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunctionRow {
    pub name: String,
    pub group: Option<String>,
    pub module_path: String,
    pub file: String,
    pub line: u32,
    pub is_async: bool,
}

/// The shape of one span, enough to choose which spans of a huge trace to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SpanSkeleton {
    #[serde(serialize_with = "decimal")]
    pub span_id: u64,
    #[serde(serialize_with = "decimal")]
    pub parent_id: u64,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub failed: bool,
}

/// Trace counts and durations over a time window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct TraceStats {
    pub total: u64,
    pub running: u64,
    pub completed: u64,
    pub failed: u64,
    /// Over finished traces; `None` when there are none.
    pub avg_duration_ns: Option<f64>,
    pub p95_duration_ns: Option<i64>,
}

/// Spans and failed spans since an instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErrorRate {
    pub spans: u64,
    pub errors: u64,
}

/// The latest pipeline statistics and when they were written.
pub type PipelineStatsRow = PipelineStats;

/// Cache hits and misses of one component summed over a window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheTotals {
    pub component: String,
    pub hits: u64,
    pub misses: u64,
}

/// One `cache_stats` row as recorded: a component's hits and misses since its previous row.
///
/// ```
/// use pathwise_store::CacheRow;
/// let row = CacheRow { ts_ns: 5, component: "geo.cache".into(), hits: 3, misses: 1 };
/// assert_eq!(row.hits + row.misses, 4);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheRow {
    pub ts_ns: i64,
    pub component: String,
    pub hits: u64,
    pub misses: u64,
}

/// Queries every backend answers.
pub trait ReadStore {
    /// Traces matching `filter`, newest first, one page.
    fn list_traces(&self, filter: &TraceFilter) -> Result<TracePage, StoreError>;
    /// One trace, or `None` if unknown.
    fn trace(&self, id: TraceId) -> Result<Option<TraceSummary>, StoreError>;
    /// The spans of a trace in start order, at most `limit`; only children of `parent` when
    /// given (for loading large trees lazily).
    fn spans(
        &self,
        id: TraceId,
        parent: Option<u64>,
        limit: usize,
    ) -> Result<Vec<SpanRow>, StoreError>;
    /// The newest pipeline statistics row.
    fn latest_pipeline_stats(&self) -> Result<Option<PipelineStatsRow>, StoreError> {
        self.latest_pipeline_stats_between(i64::MIN, i64::MAX)
    }
    /// The newest pipeline statistics row written in `(since_ns, until_ns]`.
    fn latest_pipeline_stats_between(
        &self,
        since_ns: i64,
        until_ns: i64,
    ) -> Result<Option<PipelineStatsRow>, StoreError>;
    /// Cache hits and misses per component recorded in `(since_ns, until_ns]`, by component.
    fn cache_totals(&self, since_ns: i64, until_ns: i64) -> Result<Vec<CacheTotals>, StoreError>;
    /// Raw cache rows recorded in `(since_ns, until_ns]`, oldest first, at most `limit`: the
    /// history behind [`ReadStore::cache_totals`], for copying a store.
    fn cache_rows(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<CacheRow>, StoreError>;
    /// Pipeline statistics rows written in `(since_ns, until_ns]`, oldest first, at most
    /// `limit`.
    fn pipeline_stats_rows(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<PipelineStatsRow>, StoreError>;
    /// The baseline in force per operation: the pinned version if any, else the newest.
    fn baselines(&self) -> Result<Vec<BaselineRow>, StoreError>;
    /// All registered functions.
    fn functions(&self) -> Result<Vec<FunctionRow>, StoreError>;
    /// Every span of a trace, skeleton only, in start order.
    fn span_skeleton(&self, id: TraceId) -> Result<Vec<SpanSkeleton>, StoreError>;
    /// Full rows of the given spans of a trace, in start order.
    fn spans_by_id(&self, id: TraceId, span_ids: &[u64]) -> Result<Vec<SpanRow>, StoreError>;
    /// Ids of the spans of a trace whose name, group (component) or error type contains
    /// `text`, ASCII letters in any case (as the query language's `contains`), in start order:
    /// the search inside one trace, however many of its spans the page has loaded.
    fn find_spans(&self, id: TraceId, text: &str) -> Result<Vec<u64>, StoreError>;
    /// Trace counts and durations of the traces `filter` selects (its `limit` and `cursor`
    /// aside): the figures of a list, not of its page.
    fn trace_stats(&self, filter: &TraceFilter) -> Result<TraceStats, StoreError>;
    /// Spans of traces started at or after `since_unix_ms`, and how many failed.
    fn error_rate_since(&self, since_unix_ms: u64) -> Result<ErrorRate, StoreError>;
    /// Resource samples taken in `[since_ns, until_ns)` (no upper bound when `None`), oldest
    /// first, at most `limit`.
    fn resource_samples(
        &self,
        since_ns: i64,
        until_ns: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ResourceSample>, StoreError>;
    /// The room the store takes and what it holds; with `count_rows`, the rows of its main
    /// tables too (a scan of each, for `pathwise db stats`; the size signal leaves it off).
    fn storage_use(&self, count_rows: bool) -> Result<crate::StorageUse, StoreError> {
        let _ = count_rows;
        Err(StoreError::Unsupported("storage measurement".into()))
    }
}

/// JSON form of an attribute value (how every backend stores and returns attributes).
///
/// ```
/// use pathwise_model::AttrValue;
/// assert_eq!(pathwise_store::attr_json(&AttrValue::I64(3)), serde_json::json!(3));
/// ```
pub fn attr_json(value: &AttrValue) -> serde_json::Value {
    match value {
        AttrValue::Bool(b) => (*b).into(),
        AttrValue::I64(i) => (*i).into(),
        AttrValue::F64(f) => serde_json::Number::from_f64(*f)
            .map_or_else(|| f.to_string().into(), serde_json::Value::Number),
        AttrValue::Str(s) => s.to_string().into(),
    }
}

fn decimal<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
fn hex_id<S: serde::Serializer>(id: &TraceId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}
fn trace_status<S: serde::Serializer>(v: &TraceStatus, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}
fn span_kind<S: serde::Serializer>(v: &SpanKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}
fn span_status<S: serde::Serializer>(v: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_str())
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    /// Fuzz target: any text decodes to a cursor or to none, never a panic, and a cursor that
    /// decodes encodes back to the same cursor.
    #[test]
    fn any_text_is_a_cursor_or_none_and_cursors_round_trip() {
        bolero::check!().for_each(|bytes: &[u8]| {
            let Ok(text) = std::str::from_utf8(bytes) else {
                return;
            };
            if let Some(cursor) = Cursor::decode(text) {
                assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
            }
        });
    }
}
