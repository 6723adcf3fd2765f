//! Aggregate queries of the read side.

use pathwise_model::{TraceId, TraceStatus};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use crate::Error;
use pathwise_store::{ErrorRate, TraceFilter, TraceStats};

/// Counts by status and duration figures of the traces `filter` selects.
pub(super) fn trace_stats(conn: &Connection, filter: &TraceFilter) -> Result<TraceStats, Error> {
    let (clauses, args) = crate::read::trace_conditions(filter);
    let table = crate::read::trace_table(conn, filter, &clauses, &args)?;
    let where_sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let mut stats = TraceStats::default();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.status, count(*), avg(t.duration_ns), count(t.duration_ns) FROM {table}
         {where_sql} GROUP BY t.status"
    ))?;
    let mut rows = stmt.query(params_from_iter(args.iter()))?;
    let (mut weighted_sum, mut finished) = (0.0, 0u64);
    while let Some(row) = rows.next()? {
        let count = row.get::<_, i64>(1)? as u64;
        stats.total += count;
        match TraceStatus::from_code(row.get(0)?) {
            Some(TraceStatus::Running) => stats.running += count,
            Some(TraceStatus::Completed) => stats.completed += count,
            Some(TraceStatus::Failed) => stats.failed += count,
            None => {}
        }
        let with_duration = row.get::<_, i64>(3)? as u64;
        if let Some(avg) = row.get::<_, Option<f64>>(2)? {
            weighted_sum += avg * with_duration as f64;
            finished += with_duration;
        }
    }
    if finished > 0 {
        stats.avg_duration_ns = Some(weighted_sum / finished as f64);
        // Nearest-rank p95 over finished traces.
        let rank = ((finished as f64) * 0.95).ceil() as i64 - 1;
        let finished_only = if clauses.is_empty() {
            "WHERE t.duration_ns IS NOT NULL".to_string()
        } else {
            format!("{where_sql} AND t.duration_ns IS NOT NULL")
        };
        let mut args = args;
        args.push(SqlValue::Integer(rank.max(0)));
        stats.p95_duration_ns = conn
            .prepare_cached(&format!(
                "SELECT t.duration_ns FROM {table} {finished_only}
                 ORDER BY t.duration_ns LIMIT 1 OFFSET ?"
            ))?
            .query_row(params_from_iter(args.iter()), |row| row.get(0))
            .optional()?;
    }
    Ok(stats)
}

/// Spans of traces started since `since_unix_ms`: trace ids begin with their start time, so
/// this is a range scan of the primary key.
pub(super) fn error_rate_since(conn: &Connection, since_unix_ms: u64) -> Result<ErrorRate, Error> {
    let bound = TraceId::lower_bound(since_unix_ms).to_bytes();
    let (spans, errors): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(status), 0) FROM spans WHERE trace_id >= ?1",
        )?
        .query_row([bound], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(ErrorRate {
        spans: spans as u64,
        errors: errors as u64,
    })
}
