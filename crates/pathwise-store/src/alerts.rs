//! What the alert engine keeps in the store: active state, history and silences, and the
//! SQL rule as a capability of the backend (in its own dialect, read-only and limited).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::StoreError;

/// What a silence mutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Matcher {
    /// One alert.
    Fingerprint(String),
    /// Every alert of a rule.
    Rule(String),
}

impl Matcher {
    /// Stored form: `fingerprint=…` or `rule=…`.
    ///
    /// ```
    /// use pathwise_store::alerts::Matcher;
    /// let m = Matcher::Rule("slow".into());
    /// assert_eq!(Matcher::parse(&m.to_text()), Some(m));
    /// ```
    pub fn to_text(&self) -> String {
        match self {
            Matcher::Fingerprint(f) => format!("fingerprint={f}"),
            Matcher::Rule(r) => format!("rule={r}"),
        }
    }

    /// Parses [`Matcher::to_text`] output.
    pub fn parse(text: &str) -> Option<Matcher> {
        if let Some(f) = text.strip_prefix("fingerprint=") {
            return Some(Matcher::Fingerprint(f.into()));
        }
        text.strip_prefix("rule=").map(|r| Matcher::Rule(r.into()))
    }

    /// Whether this matcher covers the alert.
    pub fn matches(&self, fingerprint: &str, rule: &str) -> bool {
        match self {
            Matcher::Fingerprint(f) => f == fingerprint,
            Matcher::Rule(r) => r == rule,
        }
    }
}

/// A mute until a time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Silence {
    pub id: i64,
    pub matcher: Matcher,
    pub until_ns: i64,
    pub created_ns: i64,
    pub comment: String,
}

/// One `alert_history` row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRow {
    pub ts_ns: i64,
    pub fingerprint: String,
    pub rule: String,
    /// `pending`, `firing`, `escalated`, `repeat`, `resolved`, `inactive`, `acknowledged` or
    /// `delivery_failed`; a silenced change shows in `actor`.
    pub state: String,
    pub severity: String,
    pub value: Option<f64>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `engine`, `engine (silenced)`, the acknowledging user, or the failing receiver.
    pub actor: String,
}

/// Which history rows to return, newest first unless `oldest_first`.
///
/// Rows written in the same nanosecond come back in the order they were written (reversed
/// when newest first), so a copy that pages oldest first keeps their order.
///
/// ```
/// use pathwise_store::alerts::HistoryFilter;
/// // One timestamp's rows, oldest first: what `pathwise migrate` compares.
/// let at = |ts: i64| HistoryFilter {
///     since_ns: Some(ts),
///     until_ns: Some(ts + 1),
///     oldest_first: true,
///     ..HistoryFilter::default()
/// };
/// assert_eq!(at(7).until_ns, Some(8));
/// ```
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    pub fingerprint: Option<String>,
    pub rule: Option<String>,
    /// Rows at or after this time (default 0).
    pub since_ns: Option<i64>,
    /// Rows before this time (no bound by default).
    pub until_ns: Option<i64>,
    /// At most this many rows (default 1000).
    pub limit: Option<usize>,
    /// Oldest first instead of newest first, for paging through the whole history.
    pub oldest_first: bool,
}

/// The stored text of alert labels or annotations (a JSON object).
///
/// ```
/// use pathwise_store::alerts::{labels_from_text, labels_text};
/// let labels = [("team".to_string(), "search".to_string())].into();
/// assert_eq!(labels_from_text(&labels_text(&labels)), labels);
/// assert!(labels_from_text("not json").is_empty());
/// ```
pub fn labels_text(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

/// Labels or annotations read back; damaged text reads as none rather than failing.
pub fn labels_from_text(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// One active (pending or firing) alert as stored. `state` and `severity` are the engine's
/// lowercase names; the engine maps unknown text back to safe defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertStateRow {
    pub fingerprint: String,
    pub rule: String,
    pub state: String,
    pub severity: String,
    pub value: Option<f64>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub since_ns: i64,
    pub fired_ns: Option<i64>,
    pub last_notified_ns: Option<i64>,
    pub clear_since_ns: Option<i64>,
    pub acked_by: Option<String>,
}

/// One change of an evaluation, applied together with the others by
/// [`AlertStateStore::apply`].
#[derive(Clone, Debug)]
pub enum AlertWrite<'a> {
    History(&'a HistoryRow),
    SaveState(&'a AlertStateRow),
    DeleteState(&'a str),
}

/// Alert state, history and silences. Only the alert engine writes them.
pub trait AlertStateStore: Send {
    /// Applies the writes atomically (all or none).
    fn apply(&mut self, writes: &[AlertWrite<'_>]) -> Result<(), StoreError>;
    /// History rows matching `filter`, newest first (oldest first when it says so).
    fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRow>, StoreError>;
    /// The active alerts saved by a previous engine.
    fn load_states(&self) -> Result<Vec<AlertStateRow>, StoreError>;
    /// Adds a silence; returns its id.
    fn add_silence(
        &mut self,
        matcher: &Matcher,
        until_ns: i64,
        created_ns: i64,
        comment: &str,
    ) -> Result<i64, StoreError>;
    /// Ends a silence now (kept for the record, with `until_ns` moved to `now_ns`); false for
    /// an unknown id.
    fn expire_silence(&mut self, id: i64, now_ns: i64) -> Result<bool, StoreError>;
    /// Silences still in force at `now_ns`.
    fn silences(&self, now_ns: i64) -> Result<Vec<Silence>, StoreError>;
    /// Records that the engine `holder` is alive at `now_ns`; its newest heartbeat replaces
    /// the one before. Servers sharing a store elect their evaluator from these.
    fn heartbeat(&mut self, holder: &str, now_ns: i64) -> Result<(), StoreError>;
    /// Withdraws `holder` from the election (a clean shutdown), so others need not wait for
    /// its heartbeat to age.
    fn resign(&mut self, holder: &str, now_ns: i64) -> Result<(), StoreError>;
    /// Engines whose newest heartbeat is at or after `since_ns` and that have not resigned
    /// since, ordered by holder.
    fn evaluators(&self, since_ns: i64) -> Result<Vec<Evaluator>, StoreError>;
}

/// An alert engine that takes part in electing the one that evaluates, as last heard of.
///
/// ```
/// let e = pathwise_store::alerts::Evaluator { holder: "00001-host-42".into(), heartbeat_ns: 7 };
/// assert!(e.holder < "00002-host-43".to_string(), "older engines sort first");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evaluator {
    pub holder: String,
    pub heartbeat_ns: i64,
}

/// What a read-only query returned: column names and rows of text (`None` for NULL).
///
/// ```
/// let rows = pathwise_store::alerts::SqlRows {
///     columns: vec!["n".into()],
///     rows: vec![vec![Some("3".into())]],
///     truncated: false,
/// };
/// assert_eq!(rows.rows[0][0].as_deref(), Some("3"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SqlRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// More rows were there than asked for.
    pub truncated: bool,
}

/// Why a SQL rule's query was refused or failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SqlGuardError {
    #[error("query writes")]
    Writes,
    #[error("query must be a single statement")]
    MultipleStatements,
    #[error("query took longer than {0}")]
    Timeout(String),
    #[error("query used more than {0} of memory")]
    Memory(String),
    #[error("query must return one number")]
    NotANumber,
    /// A statement that changes the connection rather than reading: attaching another
    /// database, or a pragma (which could lift the connection's own limits).
    #[error("query uses {0}, which rules may not")]
    Forbidden(String),
    #[error("query failed: {0}")]
    Failed(String),
}

/// `1 s`, `250 ms`: how limits are written in messages.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(pathwise_store::alerts::describe_limit(Duration::from_secs(2)), "2 s");
/// assert_eq!(pathwise_store::alerts::describe_limit(Duration::from_millis(250)), "250 ms");
/// ```
pub fn describe_limit(limit: Duration) -> String {
    if limit.subsec_millis() == 0 && limit.as_secs() > 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}

/// User-written SQL that returns one number, run by the backend in its own dialect: it must
/// refuse anything that writes or is more than one statement, and stop a query past `limit`.
pub trait SqlRules: Send {
    /// The query's single number; `Ok(None)` when it is NULL (no data).
    fn query_number(&mut self, sql: &str, limit: Duration) -> Result<Option<f64>, SqlGuardError>;
    /// The query's rows as text, at most `max_rows` of them, under the same guards (what
    /// `pathwise sql` prints). Payload columns read through the backend's functions.
    fn query_rows(
        &mut self,
        sql: &str,
        limit: Duration,
        max_rows: usize,
    ) -> Result<SqlRows, SqlGuardError>;
    /// The dialect, for messages (`SQLite`, `ClickHouse`).
    fn dialect(&self) -> &'static str;
}
