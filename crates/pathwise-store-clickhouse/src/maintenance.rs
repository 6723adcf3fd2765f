//! Retention and baselines: the writes that are not batches of spans.

use pathwise_store::{BaselineRow, StorageUse, StoreError};

use crate::Conn;
use crate::rows::*;
use crate::write::insert;

/// Day-partitioned tables and the partition value of the day a cutoff falls in.
enum DayKey {
    /// `toYYYYMMDD` of the start time, in the server's time zone (spans, traces): the
    /// server computes the cutoff's day, so zones never disagree.
    Date,
    /// Days since the epoch of a minute bucket (`intDiv(bucket, 1440)`) or of an hour bucket
    /// (`intDiv(bucket, 24)`).
    Days,
}

const DAY_PARTITIONED: [(&str, DayKey); 5] = [
    ("spans", DayKey::Date),
    ("traces", DayKey::Date),
    ("rollup_minute", DayKey::Days),
    ("rollup_hour", DayKey::Days),
    ("rollup_errors", DayKey::Days),
];

/// Small, unpartitioned tables trimmed row by row (by their `ts_ns`).
const BY_TIMESTAMP: [&str; 3] = ["resource_samples", "cache_stats", "pipeline_stats"];

#[derive(clickhouse::Row, serde::Deserialize)]
struct PartRow {
    partition: String,
    rows: u64,
}

/// Retention as ClickHouse does it best: whole day partitions that ended before the cutoff's
/// day are dropped (a cheap metadata operation on every shard, instead of a mutation that
/// rewrites parts), so spans and rollups are kept until their whole day is older than the
/// retention; the small resource, cache and pipeline tables are trimmed to the cutoff
/// exactly, and only when they hold something to trim. Returns the span rows dropped.
pub(crate) fn delete_before(conn: &Conn, cutoff_unix_ms: u64) -> Result<u64, StoreError> {
    let cutoff_ns = (cutoff_unix_ms as i64).saturating_mul(1_000_000);
    let cutoff_day = cutoff_ns.div_euclid(86_400_000_000_000);
    let cutoff_date: u32 = conn.run(
        conn.client
            .query(&format!(
                "SELECT toYYYYMMDD(toDateTime({}))",
                cutoff_ns.div_euclid(1_000_000_000).max(0)
            ))
            .fetch_one::<u32>(),
    )?;
    let db = &conn.config.database;
    let cluster = conn.config.cluster.as_deref();
    let mut spans_removed = 0;
    for shard in &conn.shards {
        for (table, key) in &DAY_PARTITIONED {
            let local = crate::schema::local_name(table, cluster);
            let parts: Vec<PartRow> = conn.run(
                shard
                    .query(
                        "SELECT partition, sum(rows) AS rows FROM system.parts
                         WHERE database = ? AND table = ? AND active GROUP BY partition",
                    )
                    .bind(db.as_str())
                    .bind(local.as_str())
                    .fetch_all(),
            )?;
            let bound = match key {
                DayKey::Date => i64::from(cutoff_date),
                DayKey::Days => cutoff_day,
            };
            for part in parts {
                // Partition values of these keys are plain integers; anything else is not
                // ours to drop.
                let Ok(value) = part.partition.trim_matches('\'').parse::<i64>() else {
                    continue;
                };
                if value >= bound {
                    continue;
                }
                conn.run(
                    shard
                        .query(&format!("ALTER TABLE {db}.{local} DROP PARTITION {value}"))
                        .execute(),
                )?;
                if *table == "spans" {
                    spans_removed += part.rows;
                }
            }
        }
        for table in BY_TIMESTAMP {
            let local = crate::schema::local_name(table, cluster);
            let old: u64 = conn.run(
                shard
                    .query(&format!(
                        "SELECT count() FROM {db}.{local} WHERE ts_ns < {cutoff_ns}"
                    ))
                    .fetch_one::<u64>(),
            )?;
            if old > 0 {
                conn.run(
                    shard
                        .query(&format!(
                            "ALTER TABLE {db}.{local} DELETE WHERE ts_ns < {cutoff_ns}"
                        ))
                        .execute(),
                )?;
            }
        }
    }
    Ok(spans_removed)
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

#[derive(clickhouse::Row, serde::Deserialize)]
struct TablePartsRow {
    table: String,
    rows: u64,
    bytes: u64,
}

/// The room the database takes on every shard: the active parts of its tables (ClickHouse
/// gives the space of replaced and dropped parts back by itself, so nothing is free), and the
/// oldest and newest trace; rows per table where asked (from the parts' counts: no scan).
pub(crate) fn storage_use(conn: &Conn, count_rows: bool) -> Result<StorageUse, StoreError> {
    let db = &conn.config.database;
    let mut bytes = 0;
    let mut tables: Vec<(String, u64)> = Vec::new();
    for shard in &conn.shards {
        // `bytes` is what 18.x calls a part's size on disk (newer servers keep the alias).
        let parts: Vec<TablePartsRow> = conn.run(
            shard
                .query(
                    "SELECT table, sum(rows) AS rows, sum(bytes) AS bytes FROM system.parts
                     WHERE database = ? AND active GROUP BY table",
                )
                .bind(db.as_str())
                .fetch_all(),
        )?;
        for part in parts {
            bytes += part.bytes;
            let table = part.table.trim_end_matches("_local").to_string();
            match tables.iter_mut().find(|(t, _)| *t == table) {
                Some(entry) => entry.1 += part.rows,
                None => tables.push((table, part.rows)),
            }
        }
    }
    let (oldest, newest): (i64, i64) = conn.run(
        conn.client
            .query(&format!(
                "SELECT min(start_ns), max(start_ns) FROM {}",
                conn.table("traces")
            ))
            .fetch_one::<(i64, i64)>(),
    )?;
    // `min` of no rows is 0 in ClickHouse: an empty store has no oldest trace.
    let any = tables.iter().any(|(t, n)| t == "traces" && *n > 0);
    let found = |ns: i64| (any && ns > 0).then_some(ns as u64 / 1_000_000);
    tables.sort_by_key(|t| std::cmp::Reverse(t.1));
    Ok(StorageUse {
        file_bytes: bytes,
        used_bytes: bytes,
        free_bytes: 0,
        oldest_trace_ms: found(oldest),
        newest_trace_ms: found(newest),
        tables: if count_rows { tables } else { Vec::new() },
        reclaim: "merges (ClickHouse gives space back by itself)".into(),
    })
}
