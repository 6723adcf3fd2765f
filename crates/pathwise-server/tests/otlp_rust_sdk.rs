//! The OpenTelemetry Rust SDK's own OTLP/HTTP exporter (protobuf) pointed at a Pathwise
//! server: what an unchanged Rust service sends arrives with its paths, attributes and errors.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::{Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use pathwise_ingest::{Ingest, IngestConfig};
use pathwise_server::ServerConfig;
use serde_json::Value;

const TOKEN: &str = "rust-sdk-token";

fn get(addr: std::net::SocketAddr, path: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("http://{addr}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    })
}

#[test]
fn the_rust_otlp_exporter_records_into_pathwise() {
    let dir = tempfile::tempdir().unwrap();
    let backend = common::backend(dir.path().join("rust-sdk.db"));
    let pipeline = pathwise_pipeline::install(
        pathwise_pipeline::PipelineConfig::new(dir.path().join("spool")),
        backend.writer().unwrap(),
    )
    .unwrap();
    let ingest = Arc::new(Ingest::new(IngestConfig::default()));
    let addr = common::start_server(ServerConfig {
        token: Some(TOKEN.into()),
        ingest: Some(ingest),
        ..ServerConfig::new(backend)
    });

    // The exporter's blocking client must not run on an async runtime's thread.
    std::thread::spawn(move || {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("http://{addr}/v1/traces"))
            .with_headers(HashMap::from([(
                "authorization".to_string(),
                format!("Bearer {TOKEN}"),
            )]))
            .build()
            .unwrap();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name("checkout-svc")
                    .build(),
            )
            .build();
        let tracer = provider.tracer("checkout");
        tracer.in_span("POST /checkout", |cx: Context| {
            cx.span().set_attribute(KeyValue::new("cart.items", 3));
            tracer.in_span("charge card", |cx: Context| {
                let span = cx.span();
                span.set_attribute(KeyValue::new("amount.eur", 42.5));
                span.set_attribute(KeyValue::new("retry", false));
                span.set_status(Status::error("card declined"));
            });
        });
        provider.shutdown().unwrap();
    })
    .join()
    .unwrap();
    assert!(pipeline.flush(Duration::from_secs(10)));

    let list = get(addr, "/api/traces?q=checkout&limit=5");
    let id = list["traces"][0]["trace_id"].as_str().unwrap().to_string();
    assert_eq!(list["traces"][0]["name"], "POST /checkout");
    let detail = get(addr, &format!("/api/traces/{id}"));
    let spans = detail["spans"].as_array().unwrap();
    let span = |name: &str| spans.iter().find(|s| s["name"] == name).unwrap().clone();
    let root = span("POST /checkout");
    let charge = span("charge card");
    assert_eq!(root["path"], "POST /checkout");
    assert_eq!(charge["path"], "POST /checkout → charge card");
    assert_eq!(charge["parent_id"], root["span_id"]);
    assert_eq!(root["group"], "checkout-svc");
    assert_eq!(root["attrs"]["cart.items"], 3);
    assert_eq!(
        (
            charge["attrs"]["amount.eur"].as_f64(),
            charge["attrs"]["retry"].as_bool()
        ),
        (Some(42.5), Some(false))
    );
    assert_eq!(charge["status"], "error");
    assert_eq!(charge["error_message"], "card declined");
    assert_eq!(detail["trace"]["error_count"], 1);
}
