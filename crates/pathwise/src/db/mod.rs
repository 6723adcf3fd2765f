//! Database queries as spans: [`query`] (also [`crate::db_query`]) times one statement under
//! the current span, named by its normalised text ([`normalize_statement`]: values taken out)
//! in the component `db.<system>`. The writer's rollups then hold calls, errors and
//! p50/p95/p99 per statement, which the Queries view and `/api/queries` read; the rows a
//! statement touched travel as the `db.rows` attribute.
//!
//! The statement as written — with the values the application put in it, which may be user
//! data — is kept only when [`Config::db_full_statements`](crate::Config::db_full_statements)
//! says so (off by default), as `db.statement.full`.
//!
//! With the `rusqlite` feature, [`TracedConnection`] records every statement it runs this way.

mod normalize;
#[cfg(feature = "rusqlite")]
mod traced_sqlite;

use std::sync::atomic::{AtomicBool, Ordering};

use pathwise_model::{AttrValue, ErrorInfo, Name, SpanKind};

use crate::context::{Context, Parent};
use crate::span::ActiveSpan;

pub use normalize::normalize_statement;
#[cfg(feature = "rusqlite")]
pub use traced_sqlite::{TracedConnection, TracedMappedRows, TracedRows, TracedStatement};

/// The database product (`sqlite`, `postgresql`, …), lowercase.
pub const SYSTEM_ATTR: &str = "db.system";
/// The normalised statement, whole (the span name is cut at [`MAX_NAME_CHARS`]).
pub const STATEMENT_ATTR: &str = "db.statement";
/// The statement as the application wrote it, only with `Config::db_full_statements`.
pub const FULL_STATEMENT_ATTR: &str = "db.statement.full";
/// Rows returned (queries) or changed (inserts, updates, deletes).
pub const ROWS_ATTR: &str = "db.rows";
/// Query spans are in the component `db.<system>`: this prefix is how readers find them.
pub const GROUP_PREFIX: &str = "db.";
/// Longest span name, in characters. A longer statement keeps its first characters and a hash
/// of the whole text, so two long statements that differ only at their end stay apart.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest `db.statement`, in characters.
const MAX_STATEMENT_CHARS: usize = 2048;
/// Longest `db.statement.full`, in characters.
const MAX_FULL_STATEMENT_CHARS: usize = 8192;

/// Whether statements are also kept as written (`Config::db_full_statements`).
static FULL_STATEMENTS: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_full_statements(keep: bool) {
    FULL_STATEMENTS.store(keep, Ordering::Relaxed);
}

fn full_statements() -> bool {
    FULL_STATEMENTS.load(Ordering::Relaxed)
}

/// `text` cut to `max` characters, with `…` when something was left out.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            let mut out = text[..end].trim_end().to_string();
            out.push('…');
            out
        }
    }
}

/// FNV-1a: a stable hash (the same in every process and build) of a long statement's text.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// The span name of a normalised statement: itself, or its first characters and a hash.
fn span_name(normalized: &str) -> String {
    if normalized.chars().nth(MAX_NAME_CHARS).is_none() {
        return normalized.to_string();
    }
    let mut name = cut(normalized, MAX_NAME_CHARS - 11);
    name.push_str(&format!(" #{:08x}", fnv1a(normalized)));
    name
}

/// The component of a database system's queries: `db.<system>`.
fn group_of(system: &str) -> Name {
    match system {
        "sqlite" => Name::Borrowed("db.sqlite"),
        "postgresql" => Name::Borrowed("db.postgresql"),
        "mysql" => Name::Borrowed("db.mysql"),
        other => Name::Owned(format!("{GROUP_PREFIX}{other}")),
    }
}

/// What a statement is recorded as, worked out once (a prepared statement reuses it for each
/// execution instead of normalising again).
#[derive(Clone, Debug)]
pub(crate) struct QueryIdentity {
    system: Name,
    group: Name,
    name: Name,
    statement: Name,
}

impl QueryIdentity {
    pub(crate) fn new(system: &str, statement: &str) -> QueryIdentity {
        let system = system.trim().to_ascii_lowercase();
        let normalized = normalize_statement(&system, statement);
        QueryIdentity {
            group: group_of(&system),
            name: span_name(&normalized).into(),
            statement: cut(&normalized, MAX_STATEMENT_CHARS).into(),
            system: system.into(),
        }
    }

    /// A running query span under the current span; `written` is the statement as the
    /// application wrote it, kept when full statements are on.
    pub(crate) fn start(&self, written: Option<&str>) -> QuerySpan {
        let mut span = ActiveSpan::start(self.name.clone(), SpanKind::Span, Parent::Current, false);
        if let Some(span) = &mut span {
            span.group = Some(self.group.clone());
            span.set_attr(SYSTEM_ATTR, AttrValue::Str(self.system.clone()));
            span.set_attr(STATEMENT_ATTR, AttrValue::Str(self.statement.clone()));
        }
        let mut query = QuerySpan { span, rows: None };
        if let Some(written) = written {
            query.keep_full_statement(written);
        }
        query
    }
}

/// Starts timing one database statement as a span under the current span (or as the root of a
/// new trace): named by the statement with its values taken out, in component `db.<system>`,
/// with the attributes `db.system` and `db.statement`. Set the rows with
/// [`QuerySpan::set_rows`], mark a failure with [`QuerySpan::record_error`]; the span ends when
/// the guard drops.
///
/// The span is not made current (a statement has no child spans), and the guard is `Send`, so
/// it may be held across `.await`.
///
/// ```
/// let recorder = pathwise::testing::Recorder::start();
/// {
///     let mut query = pathwise::db_query("sqlite", "SELECT * FROM users WHERE id = 42");
///     // … run it …
///     query.set_rows(1);
/// }
/// let records = recorder.records();
/// let span = &pathwise::testing::spans(&records)[0];
/// assert_eq!(span.name, "SELECT * FROM users WHERE id = ?");
/// assert_eq!(span.group.as_deref(), Some("db.sqlite"));
/// ```
pub fn query(system: &str, statement: &str) -> QuerySpan {
    if !pathwise_pipeline::is_running() {
        return QuerySpan::off();
    }
    QueryIdentity::new(system, statement).start(Some(statement))
}

/// A database statement being timed; see [`query`]. Ends (and is recorded) when dropped.
///
/// ```
/// # fn run(_: &str) -> Result<u64, std::io::Error> { Err(std::io::Error::other("locked")) }
/// let _recording = pathwise::testing::Recorder::start();
/// let statement = "UPDATE accounts SET balance = balance - 10 WHERE id = 7";
/// let mut query = pathwise::db_query("sqlite", statement);
/// match run(statement) {
///     Ok(changed) => query.set_rows(changed),
///     Err(error) => query.record_error(&error), // the span is failed, with the error
/// }
/// query.end();
/// ```
#[must_use = "the query span ends when the guard drops; bind it with `let mut q = ...`"]
pub struct QuerySpan {
    span: Option<ActiveSpan>,
    rows: Option<u64>,
}

impl QuerySpan {
    /// A span that records nothing (nothing is recording).
    pub(crate) fn off() -> QuerySpan {
        QuerySpan {
            span: None,
            rows: None,
        }
    }

    /// The rows the statement returned or changed (builder form).
    pub fn rows(mut self, rows: u64) -> Self {
        self.set_rows(rows);
        self
    }

    /// The rows the statement returned or changed, recorded as `db.rows` when the span ends (a
    /// later call replaces an earlier one).
    ///
    /// ```
    /// let _recording = pathwise::testing::Recorder::start();
    /// let statement = "DELETE FROM sessions WHERE expires < now()";
    /// let mut query = pathwise::db_query("postgresql", statement);
    /// query.set_rows(17);
    /// ```
    pub fn set_rows(&mut self, rows: u64) {
        self.rows = Some(rows);
    }

    /// Adds a typed attribute (builder form).
    pub fn attr(mut self, key: impl Into<Name>, value: impl Into<AttrValue>) -> Self {
        self.set_attr(key, value);
        self
    }

    /// Adds a typed attribute.
    pub fn set_attr(&mut self, key: impl Into<Name>, value: impl Into<AttrValue>) {
        if let Some(span) = &mut self.span {
            span.set_attr(key, value);
        }
    }

    /// Marks the statement failed with `error` (its type, variant, message and source chain).
    pub fn record_error<E: std::error::Error + ?Sized>(&mut self, error: &E) {
        if let Some(span) = &mut self.span {
            span.record_error(error);
        }
    }

    /// Marks the statement failed with an error type and message of your choosing.
    pub fn fail(&mut self, error_type: impl Into<Name>, message: impl Into<String>) {
        if let Some(span) = &mut self.span {
            span.fail(ErrorInfo::new(error_type, message));
        }
    }

    /// This span's context; `None` when nothing records.
    pub fn context(&self) -> Option<Context> {
        self.span.as_ref().map(|s| s.ctx)
    }

    /// Whether a span is being recorded at all.
    pub fn is_recording(&self) -> bool {
        self.span.is_some()
    }

    /// Ends the span now (the same as dropping it).
    pub fn end(self) {}

    /// Keeps `written` as `db.statement.full` if full statements are on.
    pub(crate) fn keep_full_statement(&mut self, written: &str) {
        if full_statements() {
            self.set_attr(FULL_STATEMENT_ATTR, cut(written, MAX_FULL_STATEMENT_CHARS));
        }
    }

    /// Whether the statement as written is wanted (so a wrapper only builds it then).
    #[cfg(feature = "rusqlite")]
    pub(crate) fn wants_full_statement(&self) -> bool {
        self.span.is_some() && full_statements()
    }
}

impl Drop for QuerySpan {
    fn drop(&mut self) {
        if let Some(mut span) = self.span.take() {
            if let Some(rows) = self.rows {
                span.set_attr(ROWS_ATTR, rows);
            }
            span.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_statements_keep_a_bounded_name_that_tells_them_apart() {
        let long = |end: &str| format!("{}{end}", "a, ".repeat(150));
        let (first, second) = (span_name(&long("x")), span_name(&long("y")));
        assert_ne!(first, second);
        for name in [&first, &second] {
            assert!(name.chars().count() <= MAX_NAME_CHARS, "{name}");
            assert!(name.contains("… #"), "{name}");
        }
        assert_eq!(span_name("short"), "short");
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[test]
    fn systems_are_lowercase_and_group_queries_by_system() {
        let identity = QueryIdentity::new(" SQLite ", "PRAGMA user_version");
        assert_eq!(identity.system, "sqlite");
        assert_eq!(identity.group, "db.sqlite");
        assert_eq!(
            QueryIdentity::new("duckdb", "PRAGMA user_version").group,
            "db.duckdb"
        );
    }
}
