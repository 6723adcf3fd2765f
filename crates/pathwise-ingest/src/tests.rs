//! Assembly and request handling against fixtures whose answer is known by construction.

use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::trace::v1::Span;
use pathwise_model::{AttrValue, TraceId};
use prost::Message;

use super::*;

/// A random-looking W3C trace id: its leading bits are no time near now.
const OTEL_TRACE: [u8; 16] = [
    0xf3, 0x1c, 0x9a, 0x02, 0x77, 0x41, 0xbe, 0x10, 1, 2, 3, 4, 5, 6, 7, 8,
];
const START_NS: u64 = 1_764_000_000_123_000_000;

fn span(trace: [u8; 16], id: u64, parent: u64, name: &str) -> Span {
    Span {
        trace_id: trace.to_vec(),
        span_id: id.to_be_bytes().to_vec(),
        parent_span_id: crate::testing::parent_bytes(parent),
        name: name.into(),
        start_time_unix_nano: START_NS + id * 1000,
        end_time_unix_nano: START_NS + id * 1000 + 500,
        ..Span::default()
    }
}

fn body(spans: Vec<Span>) -> Vec<u8> {
    crate::testing::request("search", spans).encode_to_vec()
}

const PROTOBUF: Option<&str> = Some("application/x-protobuf");

fn ingest(config: IngestConfig) -> (Ingest, MemorySink) {
    let sink = MemorySink::default();
    (Ingest::with_sink(config, Box::new(sink.clone())), sink)
}

fn path_of(span: &SpanRecord) -> String {
    pathwise_pipeline::paths::segments(span.path)
        .iter()
        .map(|s| s.as_ref())
        .collect::<Vec<_>>()
        .join(" → ")
}

fn paths(sink: &MemorySink) -> Vec<(u64, String)> {
    let mut out: Vec<_> = sink
        .spans()
        .iter()
        .map(|s| (s.span_id, path_of(s)))
        .collect();
    out.sort();
    out
}

#[test]
fn children_before_parents_across_requests_get_full_paths() {
    let (ingest, sink) = ingest(IngestConfig::default());
    // R(1) → A(2) → C(4), R → B(3); exporters send in end order, split over requests.
    let t = OTEL_TRACE;
    ingest
        .export_traces(
            &body(vec![span(t, 4, 2, "C"), span(t, 3, 1, "B")]),
            PROTOBUF,
            None,
        )
        .unwrap();
    assert_eq!((sink.spans().len(), ingest.stats().held_spans), (0, 2));
    ingest
        .export_traces(&body(vec![span(t, 2, 1, "A")]), PROTOBUF, None)
        .unwrap();
    assert_eq!(ingest.stats().held_spans, 3);
    ingest
        .export_traces(&body(vec![span(t, 1, 0, "R")]), PROTOBUF, None)
        .unwrap();
    assert_eq!(
        paths(&sink),
        vec![
            (1, "R".into()),
            (2, "R → A".into()),
            (3, "R → B".into()),
            (4, "R → A → C".into())
        ]
    );
    let stats = ingest.stats();
    assert_eq!(
        (
            stats.held_spans,
            stats.orphans,
            stats.accepted_spans,
            stats.requests
        ),
        (0, 0, 4, 3)
    );
    // One Pathwise trace id for the whole trace, starting at its first span's time.
    let spans = sink.spans();
    assert!(spans.iter().all(|s| s.trace_id == spans[0].trace_id));
    assert_eq!(spans[0].trace_id.unix_ms(), (START_NS + 4000) / 1_000_000);
    let root = spans.iter().find(|s| s.span_id == 1).unwrap();
    assert_eq!(
        root.attr("otel.trace_id"),
        Some(&AttrValue::Str("f31c9a027741be100102030405060708".into()))
    );
    assert!(spans.iter().all(|s| s.group.as_deref() == Some("search")));
}

#[test]
fn a_parent_that_never_arrives_roots_the_orphan_and_keeps_its_subtree() {
    let config = IngestConfig {
        assembly: AssemblyConfig {
            orphan_wait: Duration::ZERO,
            ..AssemblyConfig::default()
        },
        ..IngestConfig::default()
    };
    let (ingest, sink) = ingest(config);
    let t = OTEL_TRACE;
    // X's parent 99 is never sent; Y hangs below X.
    ingest
        .export_traces(
            &body(vec![span(t, 6, 5, "Y"), span(t, 5, 99, "X")]),
            PROTOBUF,
            None,
        )
        .unwrap();
    assert_eq!(sink.spans().len(), 0);
    ingest.sweep().unwrap();
    assert_eq!(paths(&sink), vec![(5, "X".into()), (6, "X → Y".into())]);
    let spans = sink.spans();
    let x = spans.iter().find(|s| s.span_id == 5).unwrap();
    let y = spans.iter().find(|s| s.span_id == 6).unwrap();
    assert_eq!(x.attr("pathwise.orphan"), Some(&AttrValue::Bool(true)));
    // The trace has no root of its own: the orphan becomes it, the missing parent's id kept.
    assert_eq!(x.parent_id, 0);
    assert_eq!(
        x.attr("pathwise.missing_parent"),
        Some(&AttrValue::Str("0000000000000063".into()))
    );
    assert_eq!(y.attr("pathwise.orphan"), None);
    assert_eq!((ingest.stats().orphans, ingest.stats().held_spans), (1, 0));
}

#[test]
fn spans_waiting_on_each_other_are_still_recorded() {
    let (ingest, sink) = ingest(IngestConfig::default());
    let t = OTEL_TRACE;
    ingest
        .export_traces(
            &body(vec![span(t, 7, 8, "P"), span(t, 8, 7, "Q")]),
            PROTOBUF,
            None,
        )
        .unwrap();
    ingest.finish().unwrap();
    let got = paths(&sink);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(ingest.stats().held_spans, 0);
}

#[test]
fn pathwise_made_ids_are_kept_and_random_ids_stay_consistent() {
    let (ingest, sink) = ingest(IngestConfig::default());
    let ours = TraceId::from_parts(now_ms(), 0xabc).to_bytes();
    ingest
        .export_traces(&body(vec![span(ours, 1, 0, "root")]), PROTOBUF, None)
        .unwrap();
    assert_eq!(sink.spans()[0].trace_id.to_bytes(), ours);
    assert_eq!(sink.spans()[0].attr("otel.trace_id"), None);
    let t = OTEL_TRACE;
    ingest
        .export_traces(&body(vec![span(t, 1, 0, "a")]), PROTOBUF, None)
        .unwrap();
    ingest
        .export_traces(&body(vec![span(t, 2, 1, "b")]), PROTOBUF, None)
        .unwrap();
    let spans = sink.spans();
    assert_eq!(spans[1].trace_id, spans[2].trace_id);
    assert_ne!(spans[1].trace_id.to_bytes(), t);
}

#[test]
fn bad_spans_are_a_partial_success_and_bad_requests_are_refused() {
    let (ingest, sink) = ingest(IngestConfig::default());
    let mut bad = span(OTEL_TRACE, 2, 1, "bad");
    bad.span_id = vec![1, 2, 3];
    let reply = ingest
        .export_traces(
            &body(vec![span(OTEL_TRACE, 1, 0, "ok"), bad]),
            PROTOBUF,
            None,
        )
        .unwrap();
    assert_eq!((reply.accepted, reply.rejected), (1, 1));
    let response = ExportTraceServiceResponse::decode(&reply.body[..]).unwrap();
    let partial = response.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial
            .error_message
            .contains("span \"bad\": spanId must be 8 bytes"),
        "{}",
        partial.error_message
    );
    assert_eq!(sink.spans().len(), 1);

    let status = |r: Result<Reply, IngestError>| r.map(|_| 200).unwrap_or_else(|e| e.status());
    assert_eq!(
        status(ingest.export_traces(b"\xff\xff\xff", PROTOBUF, None)),
        400
    );
    assert_eq!(
        status(ingest.export_traces(b"{", Some("application/json"), None)),
        400
    );
    assert_eq!(
        status(ingest.export_traces(b"{}", Some("text/plain"), None)),
        415
    );
    assert_eq!(status(ingest.export_traces(b"{}", None, None)), 415);
    assert_eq!(
        status(ingest.export_traces(b"{}", Some("application/json"), Some("br"))),
        415
    );
    assert_eq!(
        status(ingest.export_traces(b"{}", Some("application/json"), None)),
        200
    );

    let small = IngestConfig {
        limits: Limits {
            max_spans: 2,
            max_body_bytes: 10_000,
            ..Limits::default()
        },
        ..IngestConfig::default()
    };
    let (limited, _) = self::ingest(small);
    let three = body((1..=3).map(|i| span(OTEL_TRACE, i, 0, "s")).collect());
    let err = limited.export_traces(&three, PROTOBUF, None).unwrap_err();
    assert_eq!(
        (err.status(), err.to_string()),
        (
            413,
            "request holds 3 spans; the limit is 2 per request".into()
        )
    );
    let err = limited
        .export_traces(&vec![0u8; 10_001], PROTOBUF, None)
        .unwrap_err();
    assert_eq!(err.status(), 413);
    assert_eq!(limited.stats().refused_requests, 2);
}

/// Refuses the first `fail` submissions, as a full disk would.
struct FlakySink {
    inner: MemorySink,
    fail: AtomicUsize,
}

impl SpanSink for FlakySink {
    fn submit(&self, records: Vec<Record>) -> Result<(), SubmitError> {
        if self.fail.load(Ordering::SeqCst) > 0 {
            self.fail.fetch_sub(1, Ordering::SeqCst);
            return Err(SubmitError::Spool(std::io::Error::other("disk full")));
        }
        self.inner.submit(records)
    }
    fn wait_committed(&self, _: Duration) -> bool {
        true
    }
}

#[test]
fn a_refusing_sink_gives_503_and_loses_nothing() {
    let inner = MemorySink::default();
    let sink = FlakySink {
        inner: inner.clone(),
        fail: AtomicUsize::new(1),
    };
    let ingest = Ingest::with_sink(IngestConfig::default(), Box::new(sink));
    let t = OTEL_TRACE;
    let err = ingest
        .export_traces(&body(vec![span(t, 1, 0, "R")]), PROTOBUF, None)
        .unwrap_err();
    assert_eq!(err.status(), 503);
    // The client retries the same batch and sends the next one: each span arrives once
    // from the pipeline's point of view up to the retry, which the store absorbs by span id.
    ingest
        .export_traces(&body(vec![span(t, 2, 1, "A")]), PROTOBUF, None)
        .unwrap();
    assert_eq!(paths(&inner), vec![(1, "R".into()), (2, "R → A".into())]);
}

#[test]
fn json_and_gzip_bodies_are_accepted() {
    use std::io::Write;
    let (ingest, sink) = ingest(IngestConfig::default());
    let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"f31c9a027741be100102030405060708","spanId":"0000000000000001","name":"root",
         "kind":2,"startTimeUnixNano":"1764000000000000000","endTimeUnixNano":"1764000000500000000",
         "attributes":[{"key":"http.route","value":{"stringValue":"/search"}},
                       {"key":"retries","value":{"intValue":"3"}}],
         "status":{"code":2,"message":"upstream failed"}}]}]}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(json).unwrap();
    let reply = ingest
        .export_traces(
            &gz.finish().unwrap(),
            Some("application/json"),
            Some("gzip"),
        )
        .unwrap();
    assert_eq!(reply.content_type, "application/json");
    let span = &sink.spans()[0];
    assert_eq!(span.duration_ns, 500_000_000);
    assert_eq!(span.status, pathwise_model::Status::Error);
    assert_eq!(span.error().unwrap().message, "upstream failed");
    assert_eq!(span.attr("retries"), Some(&AttrValue::I64(3)));
    assert_eq!(
        span.attr("otel.kind"),
        Some(&AttrValue::Str("server".into()))
    );
}

#[test]
fn ids_differing_only_in_their_leading_bytes_stay_apart() {
    let (ingest, sink) = ingest(IngestConfig::default());
    let mut other = OTEL_TRACE;
    other[1] ^= 0xff;
    ingest
        .export_traces(
            &body(vec![span(OTEL_TRACE, 1, 0, "a"), span(other, 1, 0, "b")]),
            PROTOBUF,
            None,
        )
        .unwrap();
    let spans = sink.spans();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].trace_id.unix_ms(), spans[1].trace_id.unix_ms());
    assert_ne!(spans[0].trace_id, spans[1].trace_id);
}
