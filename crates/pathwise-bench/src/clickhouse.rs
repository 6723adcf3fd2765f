//! What `throughput --store clickhouse` reports: spans stored (through the backend's reader)
//! and bytes on disk of the spans tables summed over every shard of the cluster.

use std::time::Duration;

use pathwise_store::Backend;
use pathwise_store_clickhouse::{ClickHouseBackend, ClickHouseConfig};

use crate::BoxError;
use crate::report::Report;

/// Adds the stored count, persisted rate and bytes per span to `report`.
pub fn report(
    report: &mut Report,
    url: &str,
    produced: u64,
    total: Duration,
    writer_cpu_s: f64,
) -> Result<(), BoxError> {
    let backend = ClickHouseBackend::connect(url)?;
    let spans = backend.reader()?.error_rate_since(0)?.spans;
    let persisted = spans as f64 / total.as_secs_f64();
    report.int("span rows", spans);
    report.check("every span stored", spans == produced);
    report.float("persisted spans/s", persisted, 0);
    report.check("goal >= 200,000 spans/s", persisted >= 200_000.0);
    report.float("writer CPU s", writer_cpu_s, 2);
    report.float(
        "writer CPU ns/span",
        writer_cpu_s * 1e9 / spans.max(1) as f64,
        0,
    );
    // Parts live on each shard: ask every one over its HTTP interface.
    let config = ClickHouseConfig::parse(url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::new();
    let mut bytes = 0.0;
    for endpoint in &config.endpoints {
        let sql = format!(
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = '{}'
             AND table IN ('spans', 'spans_local')",
            config.database
        );
        let text = runtime.block_on(async {
            client
                .post(endpoint)
                .body(sql)
                .send()
                .await?
                .error_for_status()?
                .text()
                .await
        })?;
        bytes += text
            .trim()
            .parse::<f64>()
            .map_err(|e| format!("{endpoint}: {e}: {text}"))?;
    }
    report.float("bytes on disk, spans tables (all shards)", bytes, 0);
    report.float("bytes/span (spans tables)", bytes / spans.max(1) as f64, 1);
    report.check(
        "goal <= 40 bytes/span",
        bytes / (spans.max(1) as f64) <= 40.0,
    );
    Ok(())
}
