//! Retention and baselines: the writes that are not batches of spans.

use pathwise_model::TraceId;
use pathwise_store::{BaselineRow, StoreError};

use crate::Conn;
use crate::rows::*;
use crate::write::insert;

pub(crate) fn delete_before(conn: &Conn, cutoff_unix_ms: u64) -> Result<u64, StoreError> {
    let cutoff_ns = (cutoff_unix_ms as i64).saturating_mul(1_000_000);
    let bound = id_literal(&TraceId::lower_bound(cutoff_unix_ms).to_bytes());
    let minute = cutoff_ns.div_euclid(60_000_000_000);
    let removed: u64 = conn.run(
        conn.client
            .query(&format!(
                "SELECT count() FROM {} WHERE trace_id < {bound}",
                conn.table("spans")
            ))
            .fetch_one::<u64>(),
    )?;
    let db = &conn.config.database;
    let cluster = conn.config.cluster.as_deref();
    let local = |t: &str| crate::schema::local_name(t, cluster);
    let statements = [
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE trace_id < {bound}",
            local("spans")
        ),
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE trace_id < {bound}",
            local("traces")
        ),
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE bucket < {minute}",
            local("rollup_minute")
        ),
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE bucket < {}",
            local("rollup_hour"),
            minute.div_euclid(60)
        ),
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE minute < {minute}",
            local("rollup_errors")
        ),
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE ts_ns < {cutoff_ns}",
            local("resource_samples")
        ),
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE ts_ns < {cutoff_ns}",
            local("cache_stats")
        ),
        format!(
            "ALTER TABLE {db}.{} DELETE WHERE ts_ns < {cutoff_ns}",
            local("pipeline_stats")
        ),
    ];
    for shard in &conn.shards {
        for statement in &statements {
            conn.run(shard.query(statement).execute())?;
        }
    }
    Ok(removed)
}

pub(crate) fn save_baseline(conn: &Conn, b: &BaselineRow) -> Result<i64, StoreError> {
    // Older rows of a version only repeat it: the maximum needs no FINAL (and `max` of
    // nothing is 0 in ClickHouse).
    let max: i64 = conn.run(
        conn.client
            .query(&format!(
                "SELECT max(version) FROM {} WHERE name = ?",
                conn.table("baselines")
            ))
            .bind(&b.name)
            .fetch_one::<i64>(),
    )?;
    let version = max + 1;
    insert(conn, "baselines", &[baseline_row(b, version, false)])?;
    Ok(version)
}

pub(crate) fn pin_baseline(
    conn: &Conn,
    name: &str,
    pinned: bool,
) -> Result<Option<i64>, StoreError> {
    let rows: Vec<BaselineRowCh> = conn.run(
        conn.client
            .query(&format!(
                "SELECT {BASELINE_COLUMNS} FROM {} FINAL WHERE name = ? ORDER BY version",
                conn.table("baselines")
            ))
            .bind(name)
            .fetch_all(),
    )?;
    let Some(newest) = rows.iter().map(|r| r.version).max() else {
        return Ok(None);
    };
    let now = now_ns();
    let updated: Vec<BaselineRowCh> = rows
        .into_iter()
        .map(|mut r| {
            r.pinned = (pinned && r.version == newest) as u8;
            r.updated_ns = now;
            r
        })
        .collect();
    insert(conn, "baselines", &updated)?;
    Ok(Some(newest))
}

fn baseline_row(b: &BaselineRow, version: i64, pinned: bool) -> BaselineRowCh {
    BaselineRowCh {
        name: b.name.clone(),
        version,
        learned_ns: b.learned_ns,
        pinned: pinned as u8,
        samples: b.samples,
        kept: b.kept,
        outliers: b.outliers,
        p50: b.p50,
        p95: b.p95,
        p99: b.p99,
        mean: b.mean,
        std_dev: b.std_dev,
        confidence: b.confidence,
        updated_ns: now_ns(),
    }
}
