//! The pipeline's sink as an OTLP/HTTP collector (`POST <endpoint>/v1/traces`, protobuf).
//!
//! Each span keeps its ids, times, name, status and typed attributes; its group becomes the
//! resource's `service.name`, its path `pathwise.path`, its kind `pathwise.kind`; the error an
//! `exception` event; input and output `input.value` / `output.value` (OpenInference), and an
//! LLM call in `metadata.llm` the GenAI attributes (`gen_ai.request.model`, token usage,
//! temperature). Trace start events and resource samples have no OTLP trace form and stay
//! local.

use std::collections::BTreeMap;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span::Event, status::StatusCode,
};
use pathwise_model::{AttrValue, Record, SpanRecord};
use pathwise_store::{
    FunctionInfo, PATH_SEPARATOR, PathDictionary, Store, StoreError, WriteBatch, path_segments,
};
use prost::Message;

use crate::http::{Client, base_url};

/// Sends spans to an OTLP/HTTP endpoint (an OpenTelemetry Collector, Jaeger, Tempo, Phoenix, or
/// another Pathwise server's `/v1/traces`).
///
/// ```
/// let sink = pathwise_export::OtlpStore::new("http://127.0.0.1:4318", "checkout", vec![]);
/// assert!(sink.is_ok());
/// ```
pub struct OtlpStore {
    url: String,
    service: String,
    client: Client,
}

impl OtlpStore {
    /// A sink posting to `<endpoint>/v1/traces`; spans without a group are reported under
    /// `service`. `headers` (`(name, value)`) go with every request: `authorization`, or a
    /// collector's API-key header.
    pub fn new(
        endpoint: &str,
        service: &str,
        headers: Vec<(String, String)>,
    ) -> Result<Self, StoreError> {
        let base = base_url(endpoint)?;
        let url = if base.ends_with("/v1/traces") {
            base
        } else {
            format!("{base}/v1/traces")
        };
        Ok(OtlpStore {
            url,
            service: service.to_string(),
            client: Client::new(Duration::from_secs(30), headers),
        })
    }
}

impl Store for OtlpStore {
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        // Request-sized pieces; a failure part-way resends the batch (collectors dedup or not:
        // OTLP has no idempotence, so a repeat is possible only after a failed request).
        for chunk in crate::chunks(batch.records) {
            let request = to_otlp(chunk, paths, &self.service);
            if !request.resource_spans.is_empty() {
                self.client.post(
                    &self.url,
                    "application/x-protobuf",
                    &request.encode_to_vec(),
                )?;
            }
        }
        Ok(())
    }

    /// A collector has no function registry.
    fn register_functions(&mut self, _functions: &[FunctionInfo]) -> Result<(), StoreError> {
        Ok(())
    }

    /// Retention is the collector's business.
    fn delete_before(&mut self, _cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(key: &str, value: impl Into<String>) -> KeyValue {
    kv(key, Value::StringValue(value.into()))
}

/// The OTLP export request for `records`' spans, one resource per group.
///
/// ```
/// use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
/// let span = SpanRecord::new(TraceId(1), 2, 0, "main".into(), SpanKind::Span);
/// let request = pathwise_export::to_otlp(&[Record::Span(span)], &pathwise_store::NoPaths, "app");
/// assert_eq!(request.resource_spans[0].scope_spans[0].spans[0].name, "main");
/// ```
pub fn to_otlp(
    records: &[Record],
    paths: &dyn PathDictionary,
    service: &str,
) -> ExportTraceServiceRequest {
    let mut by_service: BTreeMap<&str, Vec<Span>> = BTreeMap::new();
    for record in records {
        if let Record::Span(span) = record {
            let group = span.group.as_deref().unwrap_or(service);
            by_service
                .entry(group)
                .or_default()
                .push(to_span(span, paths));
        }
    }
    ExportTraceServiceRequest {
        resource_spans: by_service
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![text("service.name", service)],
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "pathwise".into(),
                        version: env!("CARGO_PKG_VERSION").into(),
                        ..Default::default()
                    }),
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            })
            .collect(),
    }
}

fn to_span(span: &SpanRecord, paths: &dyn PathDictionary) -> Span {
    let start = span.start_ns.max(0) as u64;
    let mut attributes = vec![
        text(
            "pathwise.path",
            path_segments(paths, span.path, &span.name).join(PATH_SEPARATOR),
        ),
        text("pathwise.kind", span.kind.as_str()),
    ];
    let mut status = None;
    let mut events = Vec::new();
    if let Some(details) = &span.details {
        for (key, value) in &details.attrs {
            attributes.push(kv(
                key,
                match value {
                    AttrValue::Bool(b) => Value::BoolValue(*b),
                    AttrValue::I64(i) => Value::IntValue(*i),
                    AttrValue::F64(f) => Value::DoubleValue(*f),
                    AttrValue::Str(s) => Value::StringValue(s.to_string()),
                },
            ));
        }
        if let Some(input) = &details.input {
            attributes.push(text("input.value", input.clone()));
            attributes.push(text("input.mime_type", "application/json"));
        }
        if let Some(output) = &details.output {
            attributes.push(text("output.value", output.clone()));
            attributes.push(text("output.mime_type", "application/json"));
        }
        if let Some(reasoning) = &details.reasoning {
            attributes.push(text("pathwise.reasoning", reasoning.clone()));
        }
        if let Some(metadata) = &details.metadata {
            attributes.push(text("metadata", metadata.clone()));
            attributes.extend(llm_attributes(metadata));
        }
        if let Some(error) = &details.error {
            status = Some(Status {
                code: StatusCode::Error as i32,
                message: error.message.clone(),
            });
            events.push(Event {
                time_unix_nano: start.saturating_add(span.duration_ns),
                name: "exception".into(),
                attributes: vec![
                    text("exception.type", error.error_type.to_string()),
                    text("exception.message", error.message.clone()),
                ],
                ..Event::default()
            });
        }
    }
    if status.is_none() && span.status == pathwise_model::Status::Error {
        status = Some(Status {
            code: StatusCode::Error as i32,
            message: String::new(),
        });
    }
    Span {
        trace_id: span.trace_id.to_bytes().to_vec(),
        span_id: span.span_id.to_be_bytes().to_vec(),
        parent_span_id: if span.parent_id == 0 {
            Vec::new()
        } else {
            span.parent_id.to_be_bytes().to_vec()
        },
        name: span.name.to_string(),
        start_time_unix_nano: start,
        end_time_unix_nano: start.saturating_add(span.duration_ns),
        attributes,
        events,
        status,
        ..Span::default()
    }
}

/// GenAI attributes for a `metadata.llm` object, so OTLP tools show the call.
fn llm_attributes(metadata: &str) -> Vec<KeyValue> {
    let Ok(serde_json::Value::Object(meta)) = serde_json::from_str::<serde_json::Value>(metadata)
    else {
        return Vec::new();
    };
    let Some(serde_json::Value::Object(llm)) = meta.get("llm") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(model) = llm.get("model").and_then(|v| v.as_str()) {
        out.push(text("gen_ai.request.model", model));
    }
    if let Some(provider) = llm.get("provider").and_then(|v| v.as_str()) {
        out.push(text("gen_ai.provider.name", provider));
    }
    for (field, key) in [
        ("input_tokens", "gen_ai.usage.input_tokens"),
        ("output_tokens", "gen_ai.usage.output_tokens"),
    ] {
        if let Some(n) = llm.get(field).and_then(|v| v.as_i64()) {
            out.push(kv(key, Value::IntValue(n)));
        }
    }
    if let Some(t) = llm.get("temperature").and_then(|v| v.as_f64()) {
        out.push(kv("gen_ai.request.temperature", Value::DoubleValue(t)));
    }
    out
}
