//! Performance-monitoring routes: snapshot, health, regressions, baselines, trends.

use axum::Json;
use pathwise_analysis::monitoring::MonitorConfig;
use pathwise_analysis::perf::forecast::{ForecastRules, Outlook, describe_band, outlook};
use pathwise_analysis::perf::trend::{Trend, describe_growth};
use pathwise_analysis::snapshot::{Snapshot, snapshot};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::params::Params;

type Shared = crate::state::Scoped;

/// `at` (default now) and the monitor settings a request may override.
fn settings(p: &Params) -> Result<(i64, MonitorConfig), ApiError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let at = p.time("at")?.unwrap_or(now);
    let mut config = MonitorConfig::default();
    if let Some(seconds) = p.int("recent_s", 10..=86_400)? {
        config.recent_window = std::time::Duration::from_secs(seconds as u64);
    }
    if let Some(hours) = p.int("baseline_h", 1..=24 * 90)? {
        config.baseline_window = std::time::Duration::from_secs(hours as u64 * 3600);
    }
    Ok((at, config))
}

async fn take_snapshot(state: &crate::state::Scoped, p: &Params) -> Result<Snapshot, ApiError> {
    let (at, config) = settings(p)?;
    let firing = crate::alerts::firing(state).await?;
    state
        .read(move |r| {
            let stored = crate::baselines::stored(r)?;
            snapshot(r, at, &config, &stored, None, &firing)
                .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await
}

fn to_json(value: impl serde::Serialize) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /api/snapshot`: the whole state at one instant (`at`, default now).
pub async fn snapshot_route(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    to_json(take_snapshot(&state, &p).await?)
}

/// `GET /api/health`: overall and per-component health.
pub async fn health(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let s = take_snapshot(&state, &p).await?;
    Ok(Json(
        json!({ "generated_ns": s.generated_ns, "overall": s.overall, "components": s.components }),
    ))
}

/// `GET /api/regressions`: operations whose latency, error rate or throughput shifted.
pub async fn regressions(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let s = take_snapshot(&state, &p).await?;
    let shifted: Vec<Value> = s
        .operations
        .iter()
        .filter(|o| {
            o.latency.as_ref().is_some_and(|l| l.kind != pathwise_analysis::perf::regression::ShiftKind::NoChange)
                || o.error_rate.as_ref().is_some_and(|e| e.change != pathwise_analysis::perf::regression::RateChange::NoChange)
                || o.throughput.as_ref().is_some_and(|t| t.change != pathwise_analysis::perf::regression::RateChange::NoChange)
        })
        .map(|o| json!({ "name": o.name, "latency": o.latency, "error_rate": o.error_rate, "throughput": o.throughput, "recent": o.recent, "baseline": o.baseline }))
        .collect();
    Ok(Json(
        json!({ "generated_ns": s.generated_ns, "regressions": s.regressions, "improvements": s.improvements, "shifts": shifted }),
    ))
}

/// `GET /api/baselines`: the baseline in force per operation, or its learning progress.
pub async fn baselines(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let s = take_snapshot(&state, &p).await?;
    let rows: Vec<Value> = s
        .operations
        .iter()
        .map(|o| json!({ "name": o.name, "baseline": o.baseline, "source": o.baseline_source, "learning": o.learning, "recent": o.recent }))
        .collect();
    Ok(Json(
        json!({ "generated_ns": s.generated_ns, "baselines": rows }),
    ))
}

/// `GET /api/trends`: p95 slope per operation over the last hour of the baseline window, or
/// why there is none (`outlook.status`: `not_enough_data`, `stale`).
pub async fn trends(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let s = take_snapshot(&state, &p).await?;
    let rows: Vec<Value> = s
        .operations
        .iter()
        .map(|o| match o.p95_trend.trend() {
            Some(t) => json!({ "name": o.name, "p95_ms_per_hour": t.slope_per_hour, "r_squared": t.r_squared, "points": t.points, "outlook": o.p95_trend }),
            None => json!({ "name": o.name, "outlook": o.p95_trend }),
        })
        .collect();
    Ok(Json(
        json!({ "generated_ns": s.generated_ns, "latency": rows }),
    ))
}

/// `GET /api/resources?since=`: process and host samples (default: the last hour, at most
/// `limit` evenly thinned points), whether the RSS may be forecast (`rss_outlook`: not enough
/// data, stale, or a forecast) and, when it may, the RSS trend with its 95 % band. `rss_limit_mb`
/// sets the limit for "time until"; by default the host's total memory.
pub async fn resources(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    let since = p.time("since")?.unwrap_or(now - 3_600_000_000_000);
    let until = p.time("until")?;
    let limit = p.limit(600, 10_000)?;
    let limit_mb = p.int("rss_limit_mb", 1..=1 << 30)?;
    let samples = state
        .read(move |r| Ok(r.resource_samples(since, until, 1_000_000)?))
        .await?;
    let points: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| (s.ts_ns as f64 / 1e9, s.process.rss_bytes as f64))
        .collect();
    let now_s = now as f64 / 1e9;
    // Judged as of `until` when looking back, else now: samples that stopped are stale.
    let as_of = until.map_or(now_s, |u| u as f64 / 1e9);
    let rss_outlook = outlook(&points, as_of, &ForecastRules::default());
    let rss_trend = match &rss_outlook {
        Outlook::Forecast {
            trend,
            slope_low_per_hour,
            slope_high_per_hour,
            ..
        } => {
            let last = samples.last();
            let current = last.map_or(f64::NAN, |s| s.process.rss_bytes as f64);
            let limit = limit_mb.map(|mb| mb as f64 * 1024.0 * 1024.0).or_else(|| {
                last.map(|s| (s.host.mem_used_bytes + s.host.mem_available_bytes) as f64)
            });
            // The band's slopes bound the time to the limit: the steeper one reaches it first.
            let until_limit = |slope: f64| {
                let t = Trend {
                    slope_per_hour: slope,
                    ..trend.clone()
                };
                limit
                    .and_then(|l| t.time_to_threshold(now_s, current, l))
                    .map(|d| d.as_secs_f64())
            };
            Some(json!({
                "slope_bytes_per_hour": trend.slope_per_hour,
                "slope_band_bytes_per_hour": [slope_low_per_hour, slope_high_per_hour],
                "r_squared": trend.r_squared,
                "forecast_bytes_in_1h": trend.forecast(now_s + 3600.0),
                "limit_bytes": limit,
                "time_to_limit_s": until_limit(trend.slope_per_hour),
                "time_to_limit_band_s": [until_limit(*slope_high_per_hour), until_limit(*slope_low_per_hour)],
                "description": describe_growth("RSS", "bytes", trend, now_s, current, limit),
            "band_description": describe_band("bytes", *slope_low_per_hour, *slope_high_per_hour),
            }))
        }
        _ => None,
    };
    let step = samples.len().div_ceil(limit).max(1);
    let thinned: Vec<_> = samples.iter().step_by(step).collect();
    Ok(Json(
        json!({ "samples": thinned, "total": samples.len(), "rss_outlook": rss_outlook, "rss_trend": rss_trend }),
    ))
}
