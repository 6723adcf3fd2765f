//! Database queries over a window: per normalised statement its calls, error rate, latency
//! percentiles and rows ([`query_report`]), and the slow-query log of single executions over a
//! threshold ([`slow_queries`]).
//!
//! A query is a span in a component `db.<system>`, named by its normalised statement, as the
//! SDK's `pathwise::db_query` records it. Calls, errors and percentiles come from the rollups
//! (the node's paths merged: a statement run from several callers is one statement), exact for
//! any window; rows come from the `db.rows` attribute of the raw spans, the only place they are
//! kept, read from the window's most recent [`ROWS_SAMPLE`] queries so that a long window costs
//! no more than that (`row_counts` says how many executions a mean is over).

use std::collections::HashMap;
use std::time::Duration;

use pathwise_store::rollup::Bucket;
use pathwise_store::{Reader, Window};
use serde::Serialize;
use serde_json::Value;

use crate::AnalysisError;

/// The component prefix of query spans: `db.sqlite`, `db.postgresql`, …
pub const QUERY_GROUP_PREFIX: &str = "db.";
/// The rows a statement returned or changed.
pub const ROWS_ATTR: &str = "db.rows";
/// The whole normalised statement (the span name may be cut).
pub const STATEMENT_ATTR: &str = "db.statement";
/// The statement as the application wrote it, when the application keeps it.
pub const FULL_STATEMENT_ATTR: &str = "db.statement.full";

/// Most query spans whose `db.rows` are read for the mean rows of a report: the window's
/// newest (all of them in most windows; reading 100,000 takes about 0.3 s on SQLite).
pub const ROWS_SAMPLE: usize = 100_000;

const NS_PER_MS: f64 = 1e6;

/// How [`query_report`] orders statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryOrder {
    /// By p95 latency, then mean.
    Slowest,
    /// By calls.
    Frequent,
    /// By total time (calls × mean): what the database costs the application.
    Total,
}

impl QueryOrder {
    /// The names [`QueryOrder::parse`] accepts, as the API takes them.
    pub const NAMES: [&'static str; 3] = ["slowest", "frequent", "total"];

    /// `slowest`, `frequent` or `total`.
    ///
    /// ```
    /// use pathwise_analysis::queries::QueryOrder;
    /// assert_eq!(QueryOrder::parse("frequent"), Some(QueryOrder::Frequent));
    /// assert_eq!(QueryOrder::parse("fastest"), None);
    /// ```
    pub fn parse(text: &str) -> Option<QueryOrder> {
        match text {
            "slowest" => Some(QueryOrder::Slowest),
            "frequent" => Some(QueryOrder::Frequent),
            "total" => Some(QueryOrder::Total),
            _ => None,
        }
    }
}

/// One normalised statement over a window. Times in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryStats {
    /// The normalised statement as the span is named (cut past 200 characters).
    pub statement: String,
    /// The database (`sqlite`, `postgresql`, …): the component without its `db.`.
    pub system: String,
    pub calls: i64,
    pub errors: i64,
    pub error_rate: f64,
    /// Most frequent first.
    pub errors_by_type: Vec<(String, i64)>,
    pub total_ms: f64,
    pub avg_ms: f64,
    /// From a DDSketch: within 1 % (relative) of the exact value.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Mean `db.rows` of the executions that reported rows (of the window's newest
    /// [`ROWS_SAMPLE`] queries); `None` when none did.
    pub avg_rows: Option<f64>,
    /// How many executions `avg_rows` is the mean of.
    pub row_counts: i64,
    /// A query in the query language (docs/query.md) that finds the traces running it.
    pub trace_query: String,
}

/// The statements of a window, ordered and cut to a limit, with the window's totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryReport {
    /// Distinct statements in the window (before the limit).
    pub statements: usize,
    pub calls: i64,
    pub errors: i64,
    pub total_ms: f64,
    pub order: QueryOrder,
    pub queries: Vec<QueryStats>,
}

/// One execution over the slow-query threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlowQuery {
    /// 32 hex digits.
    pub trace_id: String,
    /// Decimal (JSON numbers lose precision above 2^53).
    pub span_id: String,
    pub statement: String,
    pub system: String,
    /// Where it ran: the root → query path.
    pub path: String,
    /// The path of the span that ran it (the path without its last segment); `None` for a
    /// query that is a trace of its own.
    pub caller: Option<String>,
    pub start_ns: i64,
    pub duration_ms: f64,
    pub rows: Option<i64>,
    pub failed: bool,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    /// The statement as written (values included), when the application keeps it.
    pub full_statement: Option<String>,
}

/// The query-language test for `text` as a double-quoted string.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// The query that finds the traces running `statement` in component `group`.
///
/// ```
/// use pathwise_analysis::queries::trace_query;
/// let q = trace_query("db.sqlite", r#"SELECT "a" FROM t WHERE b = ?"#);
/// assert_eq!(q, r#"group == "db.sqlite" AND name == "SELECT \"a\" FROM t WHERE b = ?""#);
/// ```
pub fn trace_query(group: &str, statement: &str) -> String {
    format!(
        "group == {} AND name == {}",
        quoted(group),
        quoted(statement)
    )
}

fn quantile_ms(bucket: &Bucket, q: f64) -> f64 {
    bucket.sketch.quantile(q).ok().flatten().unwrap_or(0.0) / NS_PER_MS
}

/// Orders `queries` as `order` says; ties by statement, so the order is stable.
fn sort(queries: &mut [QueryStats], order: QueryOrder) {
    queries.sort_by(|a, b| {
        let by = match order {
            QueryOrder::Slowest => b
                .p95_ms
                .total_cmp(&a.p95_ms)
                .then(b.avg_ms.total_cmp(&a.avg_ms)),
            QueryOrder::Frequent => b.calls.cmp(&a.calls),
            QueryOrder::Total => b.total_ms.total_cmp(&a.total_ms),
        };
        by.then_with(|| a.statement.cmp(&b.statement))
    });
}

/// Every statement run in the window, ordered by `order`, at most `limit` of them.
///
/// ```
/// use pathwise_analysis::queries::{QueryOrder, query_report};
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// pathwise_store_sqlite::SqliteStore::open(&db).unwrap();
/// let reader = pathwise_store_sqlite::SqliteReader::open(&db).unwrap();
/// let window = pathwise_analysis::Window::all();
/// let report = query_report(&reader, window, QueryOrder::Slowest, 50).unwrap();
/// assert_eq!((report.statements, report.calls), (0, 0));
/// ```
pub fn query_report(
    store: &dyn Reader,
    window: Window,
    order: QueryOrder,
    limit: usize,
) -> Result<QueryReport, AnalysisError> {
    // Which statements ran: the components of the window's spans.
    let groups: HashMap<String, String> = store
        .node_groups(window)?
        .into_iter()
        .filter(|(_, group)| group.starts_with(QUERY_GROUP_PREFIX))
        .collect();
    if groups.is_empty() {
        return Ok(QueryReport {
            statements: 0,
            calls: 0,
            errors: 0,
            total_ms: 0.0,
            order,
            queries: Vec::new(),
        });
    }
    // A statement is a node: its paths (callers) merged, their error types too.
    let mut buckets: HashMap<String, Bucket> = HashMap::new();
    let mut node_of_path: HashMap<String, String> = HashMap::new();
    for rollup in store.path_rollups(window)? {
        buckets
            .entry(rollup.path.node.clone())
            .or_default()
            .merge(&rollup.bucket);
        node_of_path.insert(rollup.path.text, rollup.path.node);
    }
    let mut error_types: HashMap<String, HashMap<String, i64>> = HashMap::new();
    for path in store.path_errors(window)? {
        if let Some(node) = node_of_path.get(&path.path) {
            let types = error_types.entry(node.clone()).or_default();
            for (error_type, count) in path.by_type {
                *types.entry(error_type).or_default() += count;
            }
        }
    }
    let mut rows: HashMap<String, (i64, f64)> = HashMap::new();
    for sum in store.group_attribute_sums(window, QUERY_GROUP_PREFIX, ROWS_ATTR, ROWS_SAMPLE)? {
        let entry = rows.entry(sum.node).or_default();
        entry.0 += sum.with_value;
        entry.1 += sum.sum;
    }
    let mut queries = Vec::with_capacity(groups.len());
    for (node, group) in groups {
        // A span whose minute is not rolled up yet (written this instant) has no figures.
        let Some(bucket) = buckets.get(&node) else {
            continue;
        };
        let mut errors_by_type: Vec<(String, i64)> = error_types
            .remove(&node)
            .unwrap_or_default()
            .into_iter()
            .collect();
        errors_by_type.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let calls = bucket.calls;
        let (row_counts, row_sum) = rows.get(&node).copied().unwrap_or_default();
        queries.push(QueryStats {
            system: group
                .strip_prefix(QUERY_GROUP_PREFIX)
                .unwrap_or(&group)
                .to_string(),
            trace_query: trace_query(&group, &node),
            calls,
            errors: bucket.errors,
            error_rate: if calls > 0 {
                bucket.errors as f64 / calls as f64
            } else {
                0.0
            },
            errors_by_type,
            total_ms: bucket.total_ns as f64 / NS_PER_MS,
            avg_ms: if calls > 0 {
                bucket.total_ns as f64 / calls as f64 / NS_PER_MS
            } else {
                0.0
            },
            p50_ms: quantile_ms(bucket, 0.50),
            p95_ms: quantile_ms(bucket, 0.95),
            p99_ms: quantile_ms(bucket, 0.99),
            max_ms: bucket.max_ns as f64 / NS_PER_MS,
            avg_rows: (row_counts > 0).then(|| row_sum / row_counts as f64),
            row_counts,
            statement: node,
        });
    }
    sort(&mut queries, order);
    let report = QueryReport {
        statements: queries.len(),
        calls: queries.iter().map(|q| q.calls).sum(),
        errors: queries.iter().map(|q| q.errors).sum(),
        total_ms: queries.iter().map(|q| q.total_ms).sum(),
        order,
        queries: queries.into_iter().take(limit).collect(),
    };
    Ok(report)
}

/// A string attribute of a span's attributes object.
fn text_attr(attrs: Option<&Value>, key: &str) -> Option<String> {
    attrs?.get(key)?.as_str().map(str::to_string)
}

/// The executions in the window that took at least `threshold`, newest first, at most `limit`.
///
/// ```
/// use std::time::Duration;
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// pathwise_store_sqlite::SqliteStore::open(&db).unwrap();
/// let reader = pathwise_store_sqlite::SqliteReader::open(&db).unwrap();
/// let window = pathwise_analysis::Window::all();
/// use pathwise_analysis::queries::slow_queries;
/// let slow = slow_queries(&reader, window, Duration::from_millis(100), 50);
/// assert!(slow.unwrap().is_empty());
/// ```
pub fn slow_queries(
    store: &dyn Reader,
    window: Window,
    threshold: Duration,
    limit: usize,
) -> Result<Vec<SlowQuery>, AnalysisError> {
    let min_ns = threshold.as_nanos().min(i64::MAX as u128) as i64;
    let spans = store.slow_spans(window, QUERY_GROUP_PREFIX, min_ns, limit)?;
    let mut slow: Vec<SlowQuery> = spans
        .into_iter()
        .map(|found| {
            let span = found.span;
            let attrs = span.attrs.as_ref();
            SlowQuery {
                trace_id: found.trace_id.to_hex(),
                span_id: span.span_id.to_string(),
                statement: text_attr(attrs, STATEMENT_ATTR).unwrap_or_else(|| span.name.clone()),
                system: span
                    .group
                    .as_deref()
                    .and_then(|g| g.strip_prefix(QUERY_GROUP_PREFIX))
                    .unwrap_or_default()
                    .to_string(),
                caller: span
                    .path
                    .strip_suffix(span.name.as_str())
                    .and_then(|rest| rest.strip_suffix(pathwise_store::PATH_SEPARATOR))
                    .map(str::to_string),
                path: span.path,
                start_ns: span.start_ns,
                duration_ms: span.duration_ns as f64 / NS_PER_MS,
                rows: attrs.and_then(|a| a.get(ROWS_ATTR)?.as_i64()),
                failed: span.status == pathwise_model::Status::Error,
                error_type: span.error_type,
                error_message: span.error_message,
                full_statement: text_attr(attrs, FULL_STATEMENT_ATTR),
            }
        })
        .collect();
    slow.sort_by(|a, b| {
        b.start_ns
            .cmp(&a.start_ns)
            .then_with(|| a.span_id.cmp(&b.span_id))
    });
    Ok(slow)
}
