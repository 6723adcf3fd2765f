//! The Health page is honest about short and stopped series, in a real headless Chromium (the
//! harness of `tests/common/browser.rs`): twelve resource samples over eleven seconds, RSS
//! climbing 20 MB a second (a naive fit would say 70 GB an hour), show "not enough data" with
//! no forecast and a y-axis fitted to the samples; the same samples seen five minutes later are
//! stale. Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (see `browser_health.rs`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::browser::*;
use pathwise_model::{
    HostResources, ProcessResources, Record, ResourceSample, SpanKind, SpanRecord, TraceId,
};
use pathwise_server::ServerConfig;
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;
use serde_json::{Value, json};

const RSS_START: f64 = 4.0e9;
const RSS_PER_S: f64 = 2.0e7;

/// 200 calls of `checkout.pay` over the last ten minutes and the twelve resource samples,
/// one a second, the last one at `now_ms`.
fn record(db: &Path, now_ms: u64) {
    let mut records = Vec::new();
    for i in 0..200u64 {
        let at_ms = now_ms - 600_000 + i * 3_000;
        let mut span = SpanRecord::new(
            TraceId::from_parts(at_ms, u128::from(i) + 1),
            1,
            0,
            "checkout.pay".into(),
            SpanKind::Function,
        );
        span.path = 1;
        span.start_ns = at_ms as i64 * 1_000_000;
        span.duration_ns = 20_000_000 + i * 10_000;
        records.push(Record::Span(span));
    }
    for i in 0..12u64 {
        records.push(Record::Resource(ResourceSample {
            ts_ns: (now_ms - 11_000 + i * 1_000) as i64 * 1_000_000,
            process: ProcessResources {
                cpu_pct: 12.0,
                rss_bytes: (RSS_START + RSS_PER_S * i as f64) as u64,
                virtual_bytes: 9_000_000_000,
                disk_read_bytes: 0,
                disk_write_bytes: 0,
                threads: 8,
                open_fds: 20,
            },
            host: HostResources {
                cpu_pct: 30.0,
                mem_used_bytes: 8_000_000_000,
                mem_available_bytes: 17_200_000_000,
                net_rx_bytes: 0,
                net_tx_bytes: 0,
            },
        }));
    }
    SqliteStore::open(db)
        .unwrap()
        .write_batch(
            &WriteBatch {
                records: &records,
                ..WriteBatch::EMPTY
            },
            &PathList(vec![(0, "checkout.pay".into())]),
        )
        .unwrap();
}

/// The server over the fixture and the time of the last sample (Unix ms).
fn fixture() -> (String, u64) {
    static FIXTURE: OnceLock<(tempfile::TempDir, PathBuf, u64, String)> = OnceLock::new();
    let f = FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("outlook.db");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        record(&db, now);
        let addr = common::start_server(ServerConfig::new(common::backend(&db)));
        (dir, db, now, format!("http://{addr}"))
    });
    (f.3.clone(), f.2)
}

async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// The RSS chart's y-axis top, the samples' maximum, the outlook shown and its sentence.
async fn rss_figure(client: &fantoccini::Client) -> (f64, f64, String, String) {
    element(
        client,
        "#health-resources[data-state=\"loaded\"] #rss-chart",
    )
    .await;
    let v = js(
        client,
        "const c = document.querySelector('#rss-chart'); const t = document.querySelector('#rss-trend');
         return [Number(c.dataset.yMax), Number(c.dataset.dataMax), t.dataset.outlook, t.textContent,
                 document.querySelectorAll('#rss-forecast, #rss-band').length];",
    )
    .await;
    assert_eq!(v[4], json!(0), "no forecast is drawn: {v}");
    (
        v[0].as_f64().unwrap(),
        v[1].as_f64().unwrap(),
        v[2].as_str().unwrap().to_string(),
        v[3].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn short_and_stopped_series_are_not_forecast_and_the_axis_fits_the_data() {
    let (base, last) = fixture();
    // The API refuses too: an outlook and no trend.
    let api = get_json(&format!("{base}/api/resources?since={}", last - 60_000)).await;
    assert_eq!(
        api["rss_outlook"]["status"],
        json!("not_enough_data"),
        "{api}"
    );
    assert_eq!(api["rss_trend"], Value::Null, "{api}");
    let later = last + 300_000;
    let stale = get_json(&format!(
        "{base}/api/resources?since={}&until={later}",
        last - 60_000
    ))
    .await;
    assert_eq!(stale["rss_outlook"]["status"], json!("stale"), "{stale}");

    in_browser("health_outlook", move |client| async move {
        open(&client, &format!("{base}/#/health"), "health").await;
        let (y_max, data_max, outlook, text) = rss_figure(&client).await;
        let truth = RSS_START + 11.0 * RSS_PER_S;
        assert!((data_max - truth).abs() < 1.0, "data max {data_max}");
        assert!(
            y_max >= data_max && y_max <= 2.0 * data_max,
            "y-axis to {y_max} for data up to {data_max}"
        );
        assert_eq!(outlook, "not_enough_data");
        assert!(text.starts_with("Not enough data"), "{text}");
        assert!(text.contains("12 samples over 11 s"), "{text}");
        // The operations table leads with the p95 of all calls.
        let headers = texts(&client, "#baseline-table thead th").await;
        assert!(
            headers.iter().any(|h| h == "p95 (all calls)"),
            "{headers:?}"
        );
        screenshot(&client, "health_outlook_short").await;

        // Five minutes after the last sample: stale, still no forecast.
        open(&client, &format!("{base}/#/health?at={later}"), "health").await;
        // (Only the hash changed: the page may still show the last render for a moment.)
        until(
            &client,
            "the stale outlook",
            "(document.querySelector('#rss-trend') || { dataset: {} }).dataset.outlook === 'stale'",
        )
        .await;
        let (_, _, outlook, text) = rss_figure(&client).await;
        assert_eq!(outlook, "stale");
        assert!(text.starts_with("Stale: no samples since"), "{text}");
    })
    .await;
}
