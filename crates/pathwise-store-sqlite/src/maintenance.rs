//! Writes that are not spans: pipeline statistics, cache counters, resource samples, the
//! function registry and retention.

use pathwise_model::{ResourceSample, TraceId};
use rusqlite::{Connection, Transaction, params};

use crate::Error;
use pathwise_store::{CacheDelta, CacheRow, FunctionInfo, PipelineStats, StoreError};

pub(super) fn write_stats(tx: &Transaction<'_>, s: &PipelineStats) -> Result<(), Error> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO pipeline_stats (ts_ns, recorded, written, spilled, replayed,
           dropped, sampled_out, queue_depth, write_lag_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        s.ts_ns,
        s.recorded as i64,
        s.written as i64,
        s.spilled as i64,
        s.replayed as i64,
        s.dropped as i64,
        s.sampled_out as i64,
        s.queue_depth as i64,
        s.write_lag_ns.min(i64::MAX as u64) as i64
    ])?;
    Ok(())
}

/// Clamps a counter into SQLite's signed 64-bit integers.
fn sql_u64(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}

/// Stores one resource sample; a replayed sample replaces itself (keyed by its timestamp).
pub(super) fn write_resource(tx: &Transaction<'_>, r: &ResourceSample) -> Result<(), Error> {
    let (p, h) = (&r.process, &r.host);
    tx.prepare_cached(
        "INSERT OR REPLACE INTO resource_samples (ts_ns, cpu_pct, rss_bytes, virtual_bytes,
           disk_read_bytes, disk_write_bytes, threads, open_fds, host_cpu_pct, mem_used_bytes,
           mem_available_bytes, net_rx_bytes, net_tx_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        r.ts_ns,
        p.cpu_pct as f64,
        sql_u64(p.rss_bytes),
        sql_u64(p.virtual_bytes),
        sql_u64(p.disk_read_bytes),
        sql_u64(p.disk_write_bytes),
        p.threads,
        p.open_fds,
        h.cpu_pct as f64,
        sql_u64(h.mem_used_bytes),
        sql_u64(h.mem_available_bytes),
        sql_u64(h.net_rx_bytes),
        sql_u64(h.net_tx_bytes),
    ])?;
    Ok(())
}

pub(super) fn write_cache(
    tx: &Transaction<'_>,
    ts_ns: i64,
    deltas: &[CacheDelta],
) -> Result<(), Error> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO cache_stats (ts_ns, component, hits, misses) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for d in deltas {
        insert.execute(params![
            ts_ns,
            &*d.component,
            d.hits as i64,
            d.misses as i64
        ])?;
    }
    Ok(())
}

/// Cache rows read from another store, each with its own timestamp.
pub(super) fn write_cache_rows(tx: &Transaction<'_>, rows: &[CacheRow]) -> Result<(), Error> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO cache_stats (ts_ns, component, hits, misses) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in rows {
        insert.execute(params![
            r.ts_ns,
            r.component,
            sql_u64(r.hits),
            sql_u64(r.misses)
        ])?;
    }
    Ok(())
}

/// Runs `f` in a transaction, committed when it succeeds (rolled back on drop otherwise).
pub(super) fn in_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
) -> Result<T, StoreError> {
    let tx = conn.transaction().map_err(Error::from)?;
    let out = f(&tx)?;
    tx.commit().map_err(Error::from)?;
    Ok(out)
}

pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Records (or refreshes) the functions registered at link time.
pub(super) fn register_functions(
    tx: &Transaction<'_>,
    functions: &[FunctionInfo],
) -> Result<(), Error> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO functions (name, group_name, module_path, file, line, is_async, registered_ns)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (name) DO UPDATE SET group_name = excluded.group_name,
           module_path = excluded.module_path, file = excluded.file,
           line = excluded.line, is_async = excluded.is_async",
    )?;
    let now = now_ns();
    for f in functions {
        upsert.execute(params![
            &*f.name,
            f.group.as_deref(),
            &*f.module_path,
            &*f.file,
            f.line,
            f.is_async,
            now
        ])?;
    }
    Ok(())
}

/// Deletes everything that started before the cutoff: spans and traces by the time prefix of
/// their trace ids (a range delete on the primary key), statistics and resource samples by
/// timestamp, rollups by bucket. Returns the rows removed.
pub(super) fn delete_before(tx: &Transaction<'_>, cutoff_unix_ms: u64) -> Result<u64, Error> {
    let bound = TraceId::lower_bound(cutoff_unix_ms).to_bytes();
    let cutoff_ns = (cutoff_unix_ms as i64).saturating_mul(1_000_000);
    let cutoff_minute = cutoff_ns.div_euclid(60_000_000_000);
    let mut removed = 0usize;
    for table in ["spans", "span_details", "traces"] {
        removed += tx.execute(
            &format!("DELETE FROM {table} WHERE trace_id < ?1"),
            [&bound],
        )?;
    }
    for table in ["pipeline_stats", "cache_stats", "resource_samples"] {
        removed += tx.execute(
            &format!("DELETE FROM {table} WHERE ts_ns < ?1"),
            [cutoff_ns],
        )?;
    }
    for (table, bucket) in [
        ("rollup_minute", cutoff_minute),
        ("rollup_errors_minute", cutoff_minute),
        ("rollup_hour", cutoff_minute.div_euclid(60)),
        ("rollup_errors_hour", cutoff_minute.div_euclid(60)),
    ] {
        removed += tx.execute(&format!("DELETE FROM {table} WHERE bucket < ?1"), [bucket])?;
    }
    Ok(removed as u64)
}
