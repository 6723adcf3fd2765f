//! The field catalogue: what each name means and what values and operators it takes.

use pathwise_model::{SpanKind, Status, TraceStatus};

use crate::ast::{Doc, Field, Segment};

/// What kind of values a field holds, which decides how literals convert.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Text,
    /// Named codes; the first name of each entry is the canonical one.
    Code(&'static [(&'static str, i64)]),
    /// A duration, nanoseconds; bare numbers are milliseconds.
    Nanos,
    /// An instant, Unix nanoseconds.
    Time,
    Count,
    Id,
    /// A value inside a JSON document: typed by the literal.
    Json,
    /// A whole JSON document: `contains` and `exists` only.
    Document,
}

const SPAN_STATUS: &[(&str, i64)] = &[
    ("ok", Status::Ok as i64),
    ("error", Status::Error as i64),
    ("failed", Status::Error as i64),
    ("err", Status::Error as i64),
];

const TRACE_STATUS: &[(&str, i64)] = &[
    ("running", TraceStatus::Running as i64),
    ("completed", TraceStatus::Completed as i64),
    ("ok", TraceStatus::Completed as i64),
    ("failed", TraceStatus::Failed as i64),
    ("error", TraceStatus::Failed as i64),
];

const KINDS: &[(&str, i64)] = &[
    ("span", SpanKind::Span as i64),
    ("function", SpanKind::Function as i64),
    ("step", SpanKind::Step as i64),
    ("operation", SpanKind::Operation as i64),
    ("trace", SpanKind::Trace as i64),
    ("iteration", SpanKind::Iteration as i64),
];

/// The fields a user can name, for error messages.
pub(crate) const FIELD_LIST: &str = "name, group, status, kind, duration_ms, start, path, \
error.type, error.message, reasoning, attr.<key>, metadata.<path>, input.<path>, output.<path>, \
trace.id, trace.name, trace.status, trace.duration_ms, trace.start, trace.span_count, \
trace.error_count, trace.metadata.<path> (steps.<field> is the same as <field>)";

/// Resolves a dotted field. `Err` carries the message; the caller adds the column.
pub(crate) fn resolve(path: &[Segment]) -> Result<(Field, Kind), String> {
    let key = |i: usize| match path.get(i) {
        Some(Segment::Key(k)) => Some(k.to_ascii_lowercase()),
        _ => None,
    };
    let head = key(0).unwrap_or_default();
    let (on_trace, at) = match head.as_str() {
        "trace" => (true, 1),
        "steps" | "step" | "span" | "spans" => (false, 1),
        _ => (false, 0),
    };
    let Some(name) = key(at) else {
        return Err(format!(
            "`{head}` needs a field after it, e.g. `{head}.name`"
        ));
    };
    let tail = &path[at + 1..];
    let scalar = |field: Field, kind: Kind| {
        if tail.is_empty() {
            Ok((field, kind))
        } else {
            Err(format!("`{name}` has no sub-fields"))
        }
    };
    match (on_trace, name.as_str()) {
        (false, "name") => scalar(Field::Name, Kind::Text),
        (false, "group") => scalar(Field::Group, Kind::Text),
        (false, "status") => scalar(Field::Status, Kind::Code(SPAN_STATUS)),
        (false, "kind") => scalar(Field::Kind, Kind::Code(KINDS)),
        (false, "duration_ms" | "duration") => scalar(Field::Duration, Kind::Nanos),
        (false, "start" | "time") => scalar(Field::Start, Kind::Time),
        (false, "path") => scalar(Field::Path, Kind::Text),
        (false, "error_type") => scalar(Field::ErrorType, Kind::Text),
        (false, "error_message") => scalar(Field::ErrorMessage, Kind::Text),
        (false, "error") => match tail {
            [Segment::Key(k)] if k.eq_ignore_ascii_case("type") => {
                Ok((Field::ErrorType, Kind::Text))
            }
            [Segment::Key(k)] if k.eq_ignore_ascii_case("message") => {
                Ok((Field::ErrorMessage, Kind::Text))
            }
            _ => Err("`error` has the fields error.type and error.message".to_string()),
        },
        (false, "reasoning") => scalar(Field::Reasoning, Kind::Text),
        (false, "attr" | "attrs" | "attributes") => {
            attr_key(tail).map(|k| (Field::Attr(k), Kind::Json))
        }
        (false, "metadata") => Ok(document(Field::Doc(Doc::Metadata, tail.to_vec()), tail)),
        (false, "input") => Ok(document(Field::Doc(Doc::Input, tail.to_vec()), tail)),
        (false, "output") => Ok(document(Field::Doc(Doc::Output, tail.to_vec()), tail)),
        (true, "id") => scalar(Field::TraceId, Kind::Id),
        (true, "name") => scalar(Field::TraceName, Kind::Text),
        (true, "status") => scalar(Field::TraceStatus, Kind::Code(TRACE_STATUS)),
        (true, "duration_ms" | "duration") => scalar(Field::TraceDuration, Kind::Nanos),
        (true, "start" | "time") => scalar(Field::TraceStart, Kind::Time),
        (true, "span_count" | "spans") => scalar(Field::TraceSpanCount, Kind::Count),
        (true, "error_count" | "errors") => scalar(Field::TraceErrorCount, Kind::Count),
        (true, "metadata") => Ok(document(Field::TraceMetadata(tail.to_vec()), tail)),
        (true, other) => Err(format!(
            "unknown trace field `trace.{other}` (trace fields: id, name, status, duration_ms, \
             start, span_count, error_count, metadata.<path>)"
        )),
        (false, other) => Err(format!("unknown field `{other}` (fields: {FIELD_LIST})")),
    }
}

fn document(field: Field, tail: &[Segment]) -> (Field, Kind) {
    let kind = if tail.is_empty() {
        Kind::Document
    } else {
        Kind::Json
    };
    (field, kind)
}

/// Attribute keys are flat and may contain dots (`http.method`): the rest of the path is the
/// key.
fn attr_key(tail: &[Segment]) -> Result<String, String> {
    if tail.is_empty() {
        return Err("`attr` needs a key, e.g. `attr.user`".to_string());
    }
    let mut parts = Vec::with_capacity(tail.len());
    for segment in tail {
        match segment {
            Segment::Key(k) => parts.push(k.as_str()),
            Segment::Index(_) => return Err("attributes are not lists: no `[index]`".to_string()),
        }
    }
    Ok(parts.join("."))
}

/// The code of `name` among `codes`, or a message listing the names.
pub(crate) fn code(codes: &[(&str, i64)], name: &str) -> Result<i64, String> {
    codes
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
        .ok_or_else(|| {
            let names: Vec<&str> = codes.iter().map(|(n, _)| *n).collect();
            format!("`{name}` is not one of {}", names.join(", "))
        })
}
