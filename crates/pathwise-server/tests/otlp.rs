//! OTLP/HTTP ingest end to end: real HTTP requests (protobuf, JSON, gzip) into a real server
//! recording through the pipeline into a SQLite file, read back through the API. One test:
//! the pipeline is one per process.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Otel;
use opentelemetry_proto::tonic::trace::v1::{Span, Status};
use pathwise_ingest::testing::{kv, parent_bytes};
use pathwise_ingest::{AssemblyConfig, Ingest, IngestConfig};
use pathwise_server::ServerConfig;
use prost::Message;
use reqwest::StatusCode;
use serde_json::Value;

const TOKEN: &str = "ingest-secret";
const START_NS: u64 = 1_764_000_000_000_000_000;

fn span(trace: u8, id: u64, parent: u64, name: &str, ms: (u64, u64)) -> Span {
    Span {
        trace_id: [
            [0xe1, trace],
            [7; 2],
            [9; 2],
            [3; 2],
            [4; 2],
            [5; 2],
            [6; 2],
            [8; 2],
        ]
        .concat(),
        span_id: id.to_be_bytes().to_vec(),
        parent_span_id: parent_bytes(parent),
        name: name.into(),
        start_time_unix_nano: START_NS + ms.0 * 1_000_000,
        end_time_unix_nano: START_NS + ms.1 * 1_000_000,
        ..Span::default()
    }
}

fn request(service: &str, spans: Vec<Span>) -> Vec<u8> {
    pathwise_ingest::testing::request(service, spans).encode_to_vec()
}

async fn post(
    addr: SocketAddr,
    body: Vec<u8>,
    content_type: &str,
    gzip: bool,
    token: Option<&str>,
) -> (StatusCode, Vec<u8>) {
    let mut builder = reqwest::Client::new()
        .post(format!("http://{addr}/v1/traces"))
        .header("content-type", content_type);
    let body = if gzip {
        builder = builder.header("content-encoding", "gzip");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).unwrap();
        gz.finish().unwrap()
    } else {
        body
    };
    if let Some(token) = token {
        builder = builder.bearer_auth(token);
    }
    let response = builder.body(body).send().await.unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

async fn get(addr: SocketAddr, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// `name → (path, span)` of every span of the trace whose root is `root`.
async fn spans_of(addr: SocketAddr, root: &str) -> std::collections::BTreeMap<String, Value> {
    let list = get(addr, &format!("/api/traces?q={root}&limit=10")).await;
    let trace = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == root)
        .unwrap_or_else(|| panic!("no trace {root} in {list}"));
    let id = trace["trace_id"].as_str().unwrap();
    let detail = get(addr, &format!("/api/traces/{id}")).await;
    detail["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_exports_become_traces_with_paths_errors_and_llm_steps() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path().join("ingest.db"));
    let pipeline = pathwise_pipeline::install(
        // The fixture's spans are from 2025: not for retention to take.
        pathwise_pipeline::PipelineConfig {
            retention: None,
            ..pathwise_pipeline::PipelineConfig::new(dir.path().join("spool"))
        },
        backend.writer().unwrap(),
    )
    .unwrap();
    let ingest = Arc::new(Ingest::new(IngestConfig {
        assembly: AssemblyConfig {
            orphan_wait: Duration::from_millis(300),
            ..AssemblyConfig::default()
        },
        ..IngestConfig::default()
    }));
    ingest.spawn_sweeper(Duration::from_millis(100)).unwrap();
    let addr = common::start_server(ServerConfig {
        token: Some(TOKEN.into()),
        ingest: Some(ingest.clone()),
        ..ServerConfig::new(backend)
    });
    const PROTO: &str = "application/x-protobuf";

    // Trace 1, a parallel fan-out sent children first over two requests, one of them gzip:
    // search(0–100 ms) → {arrayexpress(0–90), geo(5–40) → cache.get(6–8)}.
    let (status, body) = post(
        addr,
        request(
            "search-api",
            vec![
                span(1, 4, 3, "cache.get", (6, 8)),
                span(1, 2, 1, "arrayexpress", (0, 90)),
            ],
        ),
        PROTO,
        true,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        ExportTraceServiceResponse::decode(&body[..])
            .unwrap()
            .partial_success
            .is_none()
    );
    let mut failed = span(1, 3, 1, "geo", (5, 40));
    failed.status = Some(Status {
        code: 2,
        message: "geo failed".into(),
    });
    failed.events = vec![opentelemetry_proto::tonic::trace::v1::span::Event {
        name: "exception".into(),
        attributes: vec![
            kv("exception.type", Otel::StringValue("TimeoutError".into())),
            kv(
                "exception.message",
                Otel::StringValue("geo timed out".into()),
            ),
        ],
        ..Default::default()
    }];
    let (status, _) = post(
        addr,
        request(
            "search-api",
            vec![failed, span(1, 1, 0, "search", (0, 100))],
        ),
        PROTO,
        false,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Trace 2 as OTLP/JSON, with an LLM step (GenAI conventions) and a span whose parent
    // never arrives.
    let json = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"ranker"}}]},
      "scopeSpans":[{"spans":[
        {"traceId":"e1020707090903030404050506060808","spanId":"0000000000000001","name":"rank",
         "startTimeUnixNano":"1764000000000000000","endTimeUnixNano":"1764000000900000000"},
        {"traceId":"e1020707090903030404050506060808","spanId":"0000000000000002","parentSpanId":"0000000000000001",
         "name":"llm.chat","startTimeUnixNano":"1764000000100000000","endTimeUnixNano":"1764000000800000000",
         "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4"}},
           {"key":"gen_ai.usage.input_tokens","value":{"intValue":"812"}},
           {"key":"gen_ai.usage.output_tokens","value":{"intValue":"64"}},
           {"key":"gen_ai.request.temperature","value":{"doubleValue":0.7}},
           {"key":"gen_ai.prompt","value":{"stringValue":"Rank the datasets"}},
           {"key":"input.value","value":{"stringValue":"{\"candidates\":50}"}}]},
        {"traceId":"e1020707090903030404050506060808","spanId":"0000000000000009","parentSpanId":"00000000000000ff",
         "name":"late.callback","startTimeUnixNano":"1764000000950000000","endTimeUnixNano":"1764000000960000000"}
      ]}]}]}"#;
    let (status, body) = post(
        addr,
        json.as_bytes().to_vec(),
        "application/json",
        false,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&body).is_ok());

    // Refusals: no token, garbage, too large, wrong type; one bad span is a partial success.
    assert_eq!(
        post(addr, request("x", vec![]), PROTO, false, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = post(
        addr,
        b"\x0a\xff\xff\xff".to_vec(),
        PROTO,
        false,
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an OTLP trace export request")
    );
    assert_eq!(
        post(addr, vec![0; 17 << 20], PROTO, false, Some(TOKEN))
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        post(addr, b"{}".to_vec(), "text/csv", false, Some(TOKEN))
            .await
            .0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let mut bad = span(3, 1, 0, "bad", (0, 1));
    bad.trace_id.truncate(3);
    let (status, body) = post(addr, request("x", vec![bad]), PROTO, false, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ExportTraceServiceResponse::decode(&body[..])
            .unwrap()
            .partial_success
            .unwrap()
            .rejected_spans,
        1
    );

    // The orphan is rooted after its wait; then everything is committed.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(pipeline.flush(Duration::from_secs(10)));

    let t1 = spans_of(addr, "search").await;
    let paths: Vec<(&str, &str)> = t1
        .iter()
        .map(|(n, s)| (n.as_str(), s["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("arrayexpress", "search → arrayexpress"),
            ("cache.get", "search → geo → cache.get"),
            ("geo", "search → geo"),
            ("search", "search"),
        ]
    );
    assert_eq!(t1["geo"]["status"], "error");
    assert_eq!(t1["geo"]["error_type"], "TimeoutError");
    assert_eq!(t1["geo"]["error_message"], "geo timed out");
    assert_eq!(t1["geo"]["group"], "search-api");
    assert_eq!(t1["arrayexpress"]["duration_ns"], 90_000_000);

    let t2 = spans_of(addr, "rank").await;
    let llm = &t2["llm.chat"];
    assert_eq!(llm["path"], "rank → llm.chat");
    assert_eq!(llm["kind"], "step");
    assert_eq!(llm["metadata"]["llm"]["model"], "gpt-4");
    assert_eq!(llm["metadata"]["llm"]["total_tokens"], 876);
    assert_eq!(llm["metadata"]["llm"]["prompt"], "Rank the datasets");
    assert_eq!(llm["input"]["candidates"], 50);
    let orphan = &t2["late.callback"];
    assert_eq!(orphan["path"], "late.callback");
    assert_eq!(orphan["attrs"]["pathwise.orphan"], true);
    assert_eq!(ingest.stats().orphans, 1);
    assert_eq!(ingest.stats().rejected_spans, 1);
    assert_eq!(pipeline.stats().dropped, 0);

    // The same figures for Prometheus.
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        r#"pathwise_node_calls_total{node="geo"} 1"#,
        r#"pathwise_node_errors_total{node="geo"} 1"#,
        r#"pathwise_node_errors_total{node="search"} 0"#,
        // arrayexpress took 90 ms: above 50 ms, within 100 ms.
        r#"pathwise_node_duration_seconds_bucket{node="arrayexpress",le="0.05"} 0"#,
        r#"pathwise_node_duration_seconds_bucket{node="arrayexpress",le="0.1"} 1"#,
        r#"pathwise_node_duration_seconds_count{node="arrayexpress"} 1"#,
        r#"pathwise_ingest_spans_total{outcome="accepted"} 7"#,
        r#"pathwise_ingest_spans_total{outcome="rejected"} 1"#,
        "pathwise_ingest_orphans_total 1",
        r#"pathwise_server_pipeline_records_total{stage="dropped"} 0"#,
        r#"pathwise_alerts_firing{severity="critical"} 0"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}
