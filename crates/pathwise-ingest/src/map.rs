//! One OTLP span → one Pathwise [`SpanRecord`] (without its path, which the assembler adds).
//!
//! Resource `service.name` becomes the span's group; OTLP status and `exception` events become
//! the error; attributes keep their types (arrays and maps become JSON text); links are kept as
//! a JSON attribute; GenAI and OpenInference attributes fill the decision-step fields
//! (see [`crate::llm`]).

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind as OtelKind, status::StatusCode};
use pathwise_model::{AttrValue, ErrorInfo, Name, SpanKind, SpanRecord, Status, TraceId};
use serde_json::json;

use crate::Limits;

/// A span ready for assembly: the client's 16-byte trace id and the mapped record (whose
/// `trace_id` is set by the assembler).
#[derive(Debug)]
pub(crate) struct Mapped {
    pub otel_trace: [u8; 16],
    pub span: SpanRecord,
}

/// Maps one span, or says why it is rejected (the reason names the span and the field).
pub(crate) fn map_span(
    span: Span,
    service: Option<&str>,
    limits: &Limits,
) -> Result<Mapped, String> {
    let label = || format!("span {:?}", truncate(&span.name, 80));
    let otel_trace: [u8; 16] = span
        .trace_id
        .as_slice()
        .try_into()
        .ok()
        .filter(|id: &[u8; 16]| id.iter().any(|b| *b != 0))
        .ok_or_else(|| {
            format!(
                "{}: traceId must be 16 bytes and not all zero (got {} bytes)",
                label(),
                span.trace_id.len()
            )
        })?;
    let span_id = id8(&span.span_id)
        .filter(|id| *id != 0)
        .ok_or_else(|| format!("{}: spanId must be 8 bytes and not all zero", label()))?;
    let parent_id = match span.parent_span_id.len() {
        0 => 0,
        _ => id8(&span.parent_span_id)
            .ok_or_else(|| format!("{}: parentSpanId must be 8 bytes or empty", label()))?,
    };
    if span.name.len() > limits.max_name_bytes {
        return Err(format!(
            "{}: name is {} bytes; the limit is {}",
            label(),
            span.name.len(),
            limits.max_name_bytes
        ));
    }
    if span.attributes.len() > limits.max_attributes {
        return Err(format!(
            "{}: {} attributes; the limit is {}",
            label(),
            span.attributes.len(),
            limits.max_attributes
        ));
    }
    let mut attrs: Vec<(Name, AttrValue)> = Vec::with_capacity(span.attributes.len() + 2);
    for KeyValue { key, value, .. } in span.attributes {
        let Some(value) = value.and_then(attr_value) else {
            continue;
        };
        let size = match &value {
            AttrValue::Str(s) => s.len(),
            _ => 8,
        };
        if size > limits.max_attribute_bytes || key.len() > limits.max_name_bytes {
            return Err(format!(
                "{}: attribute {:?} is {} bytes; the limit is {}",
                label(),
                truncate(&key, 80),
                size.max(key.len()),
                limits.max_attribute_bytes
            ));
        }
        attrs.push((Name::Owned(key), value));
    }
    let name = if span.name.is_empty() {
        Name::Borrowed("(unnamed)")
    } else {
        Name::Owned(span.name)
    };
    let mut record = SpanRecord::new(TraceId::default(), span_id, parent_id, name, SpanKind::Span);
    record.start_ns = i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX);
    record.duration_ns = span
        .end_time_unix_nano
        .saturating_sub(span.start_time_unix_nano);
    record.group = service.map(|s| Name::Owned(s.to_string()));
    if let Some(kind) = kind_name(span.kind) {
        attrs.push((
            Name::Borrowed("otel.kind"),
            AttrValue::Str(Name::Borrowed(kind)),
        ));
    }
    if !span.links.is_empty() {
        let links: Vec<_> = span
            .links
            .iter()
            .map(|l| json!({"trace_id": hex(&l.trace_id), "span_id": hex(&l.span_id)}))
            .collect();
        attrs.push((
            Name::Borrowed("otel.links"),
            AttrValue::Str(Name::Owned(serde_json::Value::Array(links).to_string())),
        ));
    }
    let status = span.status.unwrap_or_default();
    if status.code == StatusCode::Error as i32 {
        record.status = Status::Error;
        let mut error = ErrorInfo {
            error_type: Name::Borrowed(pathwise_model::UNTYPED_ERROR),
            message: status.message,
            chain: Vec::new(),
        };
        if let Some(exception) = span.events.iter().rev().find(|e| e.name == "exception") {
            for KeyValue { key, value, .. } in &exception.attributes {
                let text = value.as_ref().and_then(|v| attr_value(v.clone()));
                let Some(AttrValue::Str(text)) = text else {
                    continue;
                };
                match key.as_str() {
                    "exception.type" => error.error_type = text,
                    // More specific than the status message, which SDKs often derive from it.
                    "exception.message" => error.message = text.into_owned(),
                    "exception.stacktrace" => attrs.push((
                        Name::Borrowed("exception.stacktrace"),
                        AttrValue::Str(Name::Owned(
                            truncate(&text, limits.max_attribute_bytes).to_string(),
                        )),
                    )),
                    _ => {}
                }
            }
        }
        record.details_mut().error = Some(error);
    }
    crate::llm::fill_decision_fields(&mut record, &mut attrs);
    if !attrs.is_empty() {
        record.details_mut().attrs = attrs;
    }
    Ok(Mapped {
        otel_trace,
        span: record,
    })
}

/// The value of a resource attribute `service.name`, if it is a string.
pub(crate) fn service_name(attributes: &[KeyValue]) -> Option<&str> {
    attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        })
}

/// A typed attribute: scalars keep their type; arrays, maps and bytes become JSON text.
pub(crate) fn attr_value(value: AnyValue) -> Option<AttrValue> {
    Some(match value.value? {
        Value::StringValue(s) => AttrValue::Str(Name::Owned(s)),
        Value::BoolValue(b) => AttrValue::Bool(b),
        Value::IntValue(i) => AttrValue::I64(i),
        Value::DoubleValue(f) => AttrValue::F64(f),
        other => AttrValue::Str(Name::Owned(json_of(Some(other)).to_string())),
    })
}

fn json_of(value: Option<Value>) -> serde_json::Value {
    match value {
        None => serde_json::Value::Null,
        Some(Value::StringValue(s)) => s.into(),
        Some(Value::BoolValue(b)) => b.into(),
        Some(Value::IntValue(i)) => i.into(),
        Some(Value::DoubleValue(f)) => json!(f),
        Some(Value::ArrayValue(array)) => array
            .values
            .into_iter()
            .map(|v| json_of(v.value))
            .collect::<Vec<_>>()
            .into(),
        Some(Value::KvlistValue(list)) => list
            .values
            .into_iter()
            .map(|kv| (kv.key, json_of(kv.value.and_then(|v| v.value))))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Some(Value::BytesValue(bytes)) => hex(&bytes).into(),
        Some(_) => serde_json::Value::Null,
    }
}

fn id8(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The longest prefix of `text` within `max` bytes that ends on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// OTLP's span kind as an attribute value; internal and unspecified spans carry none.
fn kind_name(kind: i32) -> Option<&'static str> {
    match OtelKind::try_from(kind).ok()? {
        OtelKind::Server => Some("server"),
        OtelKind::Client => Some("client"),
        OtelKind::Producer => Some("producer"),
        OtelKind::Consumer => Some("consumer"),
        OtelKind::Internal | OtelKind::Unspecified => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{Status as OtelStatus, span::Event};

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        }
    }

    fn span(name: &str) -> Span {
        Span {
            trace_id: vec![7; 16],
            span_id: vec![0, 0, 0, 0, 0, 0, 0, 9],
            parent_span_id: vec![0, 0, 0, 0, 0, 0, 0, 3],
            name: name.into(),
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 4_500,
            ..Span::default()
        }
    }

    #[test]
    fn ids_times_types_and_errors_map() {
        let mut s = span("GET /search");
        s.kind = OtelKind::Server as i32;
        s.attributes = vec![
            kv("http.status", Value::IntValue(500)),
            kv("cached", Value::BoolValue(false)),
            kv(
                "tags",
                Value::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
                    values: vec![AnyValue {
                        value: Some(Value::StringValue("a".into())),
                    }],
                }),
            ),
        ];
        s.status = Some(OtelStatus {
            code: StatusCode::Error as i32,
            message: "boom".into(),
        });
        s.events = vec![Event {
            name: "exception".into(),
            attributes: vec![
                kv("exception.type", Value::StringValue("TimeoutError".into())),
                kv(
                    "exception.message",
                    Value::StringValue("timed out after 5s".into()),
                ),
                kv(
                    "exception.stacktrace",
                    Value::StringValue("Traceback ...".into()),
                ),
            ],
            ..Event::default()
        }];
        let m = map_span(s, Some("search-api"), &Limits::default()).unwrap();
        assert_eq!(m.otel_trace, [7; 16]);
        let r = m.span;
        assert_eq!(
            (r.span_id, r.parent_id, r.start_ns, r.duration_ns),
            (9, 3, 1_000, 3_500)
        );
        assert_eq!(r.group.as_deref(), Some("search-api"));
        assert_eq!(r.status, Status::Error);
        let error = r.error().unwrap();
        assert_eq!(error.error_type, "TimeoutError");
        assert_eq!(error.message, "timed out after 5s");
        let attrs = &r.details.as_ref().unwrap().attrs;
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("http.status"), Some(AttrValue::I64(500)));
        assert_eq!(get("cached"), Some(AttrValue::Bool(false)));
        assert_eq!(get("tags"), Some(AttrValue::Str(r#"["a"]"#.into())));
        assert_eq!(get("otel.kind"), Some(AttrValue::Str("server".into())));
        assert_eq!(
            get("exception.stacktrace"),
            Some(AttrValue::Str("Traceback ...".into()))
        );
    }

    #[test]
    fn bad_spans_are_rejected_with_a_reason() {
        let limits = Limits {
            max_attribute_bytes: 10,
            ..Limits::default()
        };
        let mut s = span("x");
        s.trace_id = vec![1; 15];
        assert!(
            map_span(s, None, &limits)
                .unwrap_err()
                .contains("traceId must be 16 bytes")
        );
        let mut s = span("x");
        s.span_id = vec![0; 8];
        assert!(map_span(s, None, &limits).unwrap_err().contains("spanId"));
        let mut s = span("x");
        s.parent_span_id = vec![1, 2];
        assert!(
            map_span(s, None, &limits)
                .unwrap_err()
                .contains("parentSpanId")
        );
        let mut s = span("x");
        s.attributes = vec![kv("prompt", Value::StringValue("y".repeat(11)))];
        let reason = map_span(s, None, &limits).unwrap_err();
        assert!(
            reason.contains("attribute \"prompt\" is 11 bytes; the limit is 10"),
            "{reason}"
        );
        // End before start is a clock problem, not a reason to lose the span.
        let mut s = span("x");
        s.end_time_unix_nano = 0;
        assert_eq!(map_span(s, None, &limits).unwrap().span.duration_ns, 0);
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
