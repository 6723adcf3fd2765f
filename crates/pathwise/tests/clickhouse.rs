//! Recording from an application straight into a real two-shard ClickHouse cluster with
//! `Config::store("clickhouse://…")` (feature `clickhouse`): what lands, and the clear error
//! for a cluster that is not there. One test at a time: recording is process-global.

use std::sync::Mutex;
use std::time::Duration;

use pathwise::Config;
use pathwise_store::{Backend, TraceFilter};
use pathwise_store_clickhouse::ClickHouseBackend;
use pathwise_store_clickhouse::testing::Cluster;

static SERIAL: Mutex<()> = Mutex::new(());

#[pathwise::monitor(group = "search")]
fn rank(scores: &[u32]) -> u32 {
    scores.iter().copied().max().unwrap_or(0)
}

#[test]
fn an_application_records_into_the_cluster() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(cluster) = Cluster::start(18183) else {
        return;
    };
    let url = cluster.url("pw_sdk");
    let spool = tempfile::tempdir().unwrap();
    let recording = pathwise::init(Config {
        data_dir: Some(spool.path().to_path_buf()),
        resource_interval: None,
        ..Config::default().store(&url)
    })
    .unwrap();
    for i in 0..20u32 {
        let _root = pathwise::span("SearchService.search");
        let _geo = pathwise::span("GEOClient.search");
        if i == 3 {
            let mut cache = pathwise::span("GEOCache.get");
            cache.fail("CacheError", "evicted");
        }
        rank(&[i, 7, 3]);
    }
    assert!(recording.flush(Duration::from_secs(20)));
    let stats = recording.shutdown();
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.written, stats.recorded, "{stats:?}");

    let reader = ClickHouseBackend::connect(&url).unwrap().reader().unwrap();
    assert_eq!(
        reader
            .trace_stats(&pathwise_store::TraceFilter::default())
            .unwrap()
            .total,
        20
    );
    // Per trace: the root, GEOClient.search and rank; one trace also has the failed cache call.
    let spans = reader.error_rate_since(0).unwrap();
    assert_eq!((spans.spans, spans.errors), (61, 1));
    let page = reader
        .list_traces(&TraceFilter {
            limit: 100,
            ..TraceFilter::default()
        })
        .unwrap();
    let mut paths: Vec<String> = page
        .traces
        .iter()
        .flat_map(|t| reader.spans(t.trace_id, None, 100).unwrap())
        .map(|s| s.path)
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths,
        [
            "SearchService.search",
            "SearchService.search → GEOClient.search",
            "SearchService.search → GEOClient.search → GEOCache.get",
            "SearchService.search → GEOClient.search → clickhouse::rank",
        ]
    );
    let functions = reader.functions().unwrap();
    assert!(
        functions
            .iter()
            .any(|f| f.name == "clickhouse::rank" && f.group.as_deref() == Some("search")),
        "{functions:?}"
    );
}

#[test]
fn a_cluster_that_is_not_there_is_an_error_at_init() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let spool = tempfile::tempdir().unwrap();
    let result = pathwise::init(Config {
        data_dir: Some(spool.path().to_path_buf()),
        ..Config::default().store("clickhouse://127.0.0.1:9/pw")
    });
    let error = result
        .err()
        .expect("no cluster listens on port 9")
        .to_string();
    assert!(error.contains("127.0.0.1:9"), "{error}");
}
