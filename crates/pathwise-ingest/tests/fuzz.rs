//! Fuzz targets for everything ingest decodes from the network: OTLP protobuf and JSON bodies
//! (plain and gzip) and native frame bodies. Under `cargo test` each runs a bounded number of
//! random inputs; `cargo bolero test <target>` runs it under a coverage-guided fuzzer.
//! Whatever the input: no panic, and a refusal is one of the statuses the API documents.

use std::io::Write;
use std::time::Duration;

use pathwise_ingest::{Ingest, IngestConfig, MemorySink};

/// One endpoint for all of a target's inputs, so assembler state builds up across them. A
/// panic fails the test anyway, so unwind safety is moot here.
fn ingest() -> std::panic::AssertUnwindSafe<Ingest> {
    let config = IngestConfig {
        ack_timeout: Duration::ZERO,
        ..IngestConfig::default()
    };
    std::panic::AssertUnwindSafe(Ingest::with_sink(config, Box::new(MemorySink::default())))
}

fn documented(status: u16) -> bool {
    matches!(status, 400 | 413 | 415 | 503)
}

#[test]
fn otlp_protobuf_bodies() {
    let ingest = ingest();
    bolero::check!().for_each(|bytes: &[u8]| {
        if let Err(e) = ingest.export_traces(bytes, Some("application/x-protobuf"), None) {
            assert!(documented(e.status()), "{e}");
        }
    });
}

#[test]
fn otlp_json_bodies() {
    let ingest = ingest();
    bolero::check!().for_each(|bytes: &[u8]| {
        if let Err(e) = ingest.export_traces(bytes, Some("application/json"), None) {
            assert!(documented(e.status()), "{e}");
        }
    });
}

#[test]
fn gzip_bodies() {
    let ingest = ingest();
    bolero::check!().for_each(|bytes: &[u8]| {
        // Random bytes as the gzip body itself, and gzip of random bytes (the inflated
        // protobuf decoder is then reached far more often).
        let _ = ingest.export_traces(bytes, Some("application/x-protobuf"), Some("gzip"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        if let Err(e) = ingest.export_traces(
            &gz.finish().unwrap(),
            Some("application/x-protobuf"),
            Some("gzip"),
        ) {
            assert!(documented(e.status()), "{e}");
        }
    });
}

#[test]
fn native_frame_bodies() {
    let ingest = ingest();
    bolero::check!().for_each(|bytes: &[u8]| {
        if let Err(e) = ingest.submit_frames(bytes, None) {
            assert!(documented(e.status()), "{e}");
        }
    });
}

#[test]
fn otlp_protobuf_with_valid_framing_and_random_fields() {
    // Structured inputs: a valid request shape whose span fields come from the fuzzer.
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;
    let ingest = ingest();
    bolero::check!()
        .with_type::<(Vec<u8>, Vec<u8>, Vec<u8>, String, u64, u64, i32)>()
        .for_each(|(trace, span, parent, name, start, end, kind)| {
            let request = ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span {
                            trace_id: trace.clone(),
                            span_id: span.clone(),
                            parent_span_id: parent.clone(),
                            name: name.clone(),
                            start_time_unix_nano: *start,
                            end_time_unix_nano: *end,
                            kind: *kind,
                            ..Span::default()
                        }],
                        ..ScopeSpans::default()
                    }],
                    ..ResourceSpans::default()
                }],
            };
            let reply = ingest
                .export_traces(
                    &request.encode_to_vec(),
                    Some("application/x-protobuf"),
                    None,
                )
                .expect("a well-formed request is never refused as a whole");
            assert_eq!(reply.accepted + reply.rejected, 1);
        });
}
