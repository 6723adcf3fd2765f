//! Several servers on one ClickHouse cluster: both serve the same data; the one given the
//! rules evaluates (and alone would notify), the other shows the alerts it stored.

mod common;

use std::sync::Arc;

use pathwise_server::ServerConfig;
use pathwise_store::Backend;
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_one_cluster_one_evaluator() {
    let Some(cluster) = Cluster::start(18153) else {
        return;
    };
    let url = cluster.url("pw_servers");
    let backend: Arc<dyn Backend> = Arc::new(ClickHouseBackend::connect(&url).unwrap());
    // Some spans through the writer, as an application would send them.
    let records: Vec<pathwise_model::Record> = (0..20u64)
        .map(|i| {
            let trace = pathwise_model::TraceId::from_parts(1_790_000_000_000 + i, i as u128 + 1);
            let mut s = pathwise_model::SpanRecord::new(
                trace,
                1,
                0,
                "checkout".into(),
                pathwise_model::SpanKind::Function,
            );
            s.start_ns = (1_790_000_000_000 + i) as i64 * 1_000_000;
            s.duration_ns = 5_000_000;
            pathwise_model::Record::Span(s)
        })
        .collect();
    backend.writer().unwrap().write_records(&records).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("alerts.toml");
    std::fs::write(
        &rules,
        "check_interval = \"1s\"\n[[rule]]\nname = \"spans seen\"\nkind = \"sql\"\nquery = \"SELECT count() FROM spans\"\nop = \">\"\nthreshold = 10\nseverity = \"critical\"\n",
    )
    .unwrap();
    let evaluator = common::start_server(ServerConfig {
        alert_rules: Some(rules),
        ..ServerConfig::new(backend.clone())
    });
    let viewer = common::start_server(ServerConfig::new(Arc::new(
        ClickHouseBackend::connect(&url).unwrap(),
    )));

    // The same traces from either server.
    let list = |addr: std::net::SocketAddr| async move {
        let body: serde_json::Value = reqwest::get(format!("http://{addr}/api/traces?limit=100"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["traces"].as_array().unwrap().len()
    };
    assert_eq!(list(evaluator).await, 20);
    assert_eq!(list(viewer).await, 20);

    let fired = common::wait_for_alerts(evaluator, "the evaluator fires", |b| {
        b["active"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["state"] == "firing"))
    })
    .await;
    assert_eq!(fired["evaluated_here"], true);
    let seen = common::wait_for_alerts(viewer, "the viewer shows the stored alert", |b| {
        b["active"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["state"] == "firing"))
    })
    .await;
    assert_eq!(seen["evaluated_here"], false);
    assert_eq!(seen["active"][0]["rule"], "spans seen");
    assert!(
        seen["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["state"] == "firing")
    );
}
