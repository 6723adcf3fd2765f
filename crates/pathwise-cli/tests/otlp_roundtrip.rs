//! The SDK's OTLP exporter sending to a Pathwise server's `/v1/traces` (in another process):
//! names, paths, typed attributes, errors and LLM fields survive the round trip.

mod remote_support;

use std::time::Duration;

use pathwise_store::{Backend, TraceFilter};
use remote_support::{TOKEN, free_port, start_server, stop};

#[test]
fn otlp_export_round_trip_keeps_names_paths_attributes_errors_and_llm_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    drop(pathwise_store_sqlite::SqliteBackend::create(&db).unwrap());
    let port = free_port();
    let server = start_server(&db, port);
    let pathwise = pathwise::init(pathwise::Config {
        data_dir: Some(dir.path().join("app-spool")),
        export: vec![pathwise::Export::Otlp {
            endpoint: format!("http://127.0.0.1:{port}"),
            service: "roundtrip-app".into(),
            headers: vec![("authorization".into(), format!("Bearer {TOKEN}"))],
        }],
        keep_local: false,
        resource_interval: None,
        ..pathwise::Config::default()
    })
    .unwrap();
    {
        let trace = pathwise::trace("competitor-selection");
        let _entered = trace.enter();
        {
            let mut step = trace.step("rank_with_llm");
            step.input(&serde_json::json!({"candidates": 50}));
            step.llm(pathwise::Llm::new("gpt-4").tokens(812, 64).temperature(0.7));
        }
        let mut lookup = pathwise::span("catalog.lookup")
            .attr("dataset_count", 50i64)
            .attr("cached", false);
        lookup.fail("CatalogTimeout", "catalog did not answer in 5 s");
    }
    assert!(pathwise.flush(Duration::from_secs(20)));
    let stats = pathwise.shutdown();
    assert_eq!(stats.dropped, 0);
    stop(server);

    let backend = pathwise_store_sqlite::SqliteBackend::open(&db).unwrap();
    let reader = backend.reader().unwrap();
    let page = reader
        .list_traces(&TraceFilter {
            limit: 10,
            ..TraceFilter::default()
        })
        .unwrap();
    assert_eq!(page.traces.len(), 1, "{:?}", page.traces);
    let trace = &page.traces[0];
    let skeleton = reader.span_skeleton(trace.trace_id).unwrap();
    let ids: Vec<u64> = skeleton.iter().map(|s| s.span_id).collect();
    let spans = reader.spans_by_id(trace.trace_id, &ids).unwrap();
    let by_name = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no {name} in {spans:?}"))
    };
    assert_eq!(by_name("competitor-selection").path, "competitor-selection");
    let step = by_name("rank_with_llm");
    assert_eq!(step.path, "competitor-selection → rank_with_llm");
    assert_eq!(step.group.as_deref(), Some("roundtrip-app"));
    let llm = &step.metadata.as_ref().unwrap()["llm"];
    assert_eq!(
        (
            llm["model"].as_str(),
            llm["total_tokens"].as_i64(),
            llm["temperature"].as_f64()
        ),
        (Some("gpt-4"), Some(876), Some(0.7))
    );
    assert_eq!(step.input.as_ref().unwrap()["candidates"], 50);
    let lookup = by_name("catalog.lookup");
    assert_eq!(lookup.path, "competitor-selection → catalog.lookup");
    assert_eq!(lookup.status, pathwise_model::Status::Error);
    assert_eq!(lookup.error_type.as_deref(), Some("CatalogTimeout"));
    assert_eq!(
        lookup.error_message.as_deref(),
        Some("catalog did not answer in 5 s")
    );
    let attrs = lookup.attrs.as_ref().unwrap();
    assert_eq!(
        (attrs["dataset_count"].as_i64(), attrs["cached"].as_bool()),
        (Some(50), Some(false))
    );
}
