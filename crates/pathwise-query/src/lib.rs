//! The query language over traces and spans.
//!
//! A query is a boolean expression about **one span and its trace**; a trace matches when one
//! of its spans does. Bare fields (or `steps.<field>`, as the planning documents write them)
//! are the span's, `trace.<field>` its trace's, so
//!
//! ```text
//! metadata.llm.model == "gpt-4"                                # a step that used GPT-4
//! duration_ms > 5000                                           # a span (so a trace) over 5 s
//! steps.name == "apply_filters" AND steps.status == "failed"   # one step, both true
//! trace.status == failed AND attr.user in ("u1", "u2") AND start > now - 1h
//! input contains "B0123" OR NOT output.items[0].price < 30
//! ```
//!
//! Operators: `==` (`=`), `!=`, `<`, `<=`, `>`, `>=`, `contains` (ASCII-case-insensitive
//! substring), `in (..)`, `not in (..)`, `exists`; `AND`, `OR`, `NOT` (also `&&`, `||`, `!`)
//! and parentheses. Values: strings in double or single quotes, unquoted words (`status ==
//! failed`), numbers, durations (`250ms`, `5s`, `1h`; a bare number is milliseconds),
//! times (`"2026-12-01T10:00:00Z"`, `now - 1h`, `-1h`), `true`, `false`, `null`. A term that
//! is not a comparison is free text: 32 hex digits find that trace, anything else is a
//! substring of the trace name.
//!
//! The backends compile the checked [`Expr`]; this crate knows no store.
//!
//! ```
//! use pathwise_query::{Expr, Field, Op, Query, Value};
//! let q = Query::parse("duration_ms > 5000", 0).unwrap();
//! assert_eq!(
//!     q.expr(),
//!     Some(&Expr::Test(pathwise_query::Test {
//!         field: Field::Duration,
//!         op: Op::Gt(Value::Int(5_000_000_000)),
//!     }))
//! );
//! let err = Query::parse("duration_ms > ", 0).unwrap_err();
//! assert_eq!(err.column, 15);
//! ```

mod ast;
mod fields;
mod parse;

pub use ast::{Doc, Expr, Field, Op, Segment, Test, Value};
pub use parse::{MAX_DEPTH, MAX_LIST, MAX_QUERY_BYTES};

/// A parsed and checked query, with the text it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    source: String,
    expr: Option<Expr>,
}

impl Query {
    /// Parses and checks `text`; relative times (`now - 1h`) are taken from `now_ns`. An empty
    /// query matches everything.
    ///
    /// ```
    /// let q = pathwise_query::Query::parse("  ", 0).unwrap();
    /// assert!(q.expr().is_none());
    /// ```
    pub fn parse(text: &str, now_ns: i64) -> Result<Query, QueryError> {
        Ok(Query {
            source: text.to_string(),
            expr: parse::parse(text, now_ns)?,
        })
    }

    /// The checked expression; `None` for an empty query.
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// The text the query was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Why a query was refused, and where.
///
/// ```
/// let err = pathwise_query::Query::parse("nme == 1", 0).unwrap_err();
/// assert_eq!((err.line, err.column), (1, 1));
/// assert!(err.to_string().starts_with("column 1: unknown field `nme`"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location(*line, *column))]
pub struct QueryError {
    /// 1-based line of the offending text.
    pub line: usize,
    /// 1-based column (in characters) of the offending text.
    pub column: usize,
    /// Byte offset of the offending text.
    pub offset: usize,
    pub message: String,
}

fn location(line: usize, column: usize) -> String {
    if line > 1 {
        format!("line {line}, column {column}: ")
    } else {
        format!("column {column}: ")
    }
}

impl QueryError {
    pub(crate) fn at(text: &str, offset: usize, message: String) -> QueryError {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        QueryError {
            line,
            column,
            offset,
            message,
        }
    }

    /// The offending line with a caret under the column, for terminals.
    ///
    /// ```
    /// let text = "status == meh";
    /// let err = pathwise_query::Query::parse(text, 0).unwrap_err();
    /// assert_eq!(err.caret(text), "status == meh\n          ^");
    /// ```
    pub fn caret(&self, text: &str) -> String {
        let line = text.lines().nth(self.line - 1).unwrap_or("");
        format!("{line}\n{}^", " ".repeat(self.column - 1))
    }
}

#[cfg(test)]
mod tests;
