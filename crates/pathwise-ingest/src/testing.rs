//! Building OTLP requests by hand, for tests and benchmarks that send what an exporter would.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// An attribute.
///
/// ```
/// use opentelemetry_proto::tonic::common::v1::any_value::Value;
/// let attr = pathwise_ingest::testing::kv("retries", Value::IntValue(3));
/// assert_eq!(attr.key, "retries");
/// ```
pub fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// One resource (`service.name` = `service`) holding `spans` in one scope.
///
/// ```
/// let request = pathwise_ingest::testing::request("search", vec![Default::default()]);
/// assert_eq!(request.resource_spans[0].scope_spans[0].spans.len(), 1);
/// ```
pub fn request(service: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", Value::StringValue(service.into()))],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

/// The parent field of a span: empty for a root (0), the id's bytes otherwise.
pub fn parent_bytes(parent: u64) -> Vec<u8> {
    if parent == 0 {
        Vec::new()
    } else {
        parent.to_be_bytes().to_vec()
    }
}
