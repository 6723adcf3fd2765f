use std::path::Path;
use std::sync::{Arc, Mutex};

use pathwise_model::{HostResources, ProcessResources, ResourceSample, TraceId, TraceStatus};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params_from_iter};

use super::{connect, schema};
use super::{spans, stats};
use crate::Error;
use pathwise_store::{
    BaselineRow, CacheRow, CacheTotals, ErrorRate, FunctionRow, PipelineStatsRow, ReadStore,
    SpanRow, SpanSkeleton, StoreError, TraceFilter, TraceOrder, TracePage, TraceStats,
    TraceSummary,
};

/// Connections kept open between uses, per backend.
const POOL_SIZE: usize = 8;

/// Idle read-only connections of one database file.
pub(crate) type Pool = Arc<Mutex<Vec<Connection>>>;

/// A read-only connection, for the CLI and the server; any number may be open while the
/// application writes.
///
/// ```
/// use pathwise_store::{ReadStore, TraceFilter};
/// use pathwise_store_sqlite::{SqliteReader, SqliteStore};
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("p.db");
/// SqliteStore::open(&db).unwrap();
/// let reader = SqliteReader::open(&db).unwrap();
/// assert!(reader.list_traces(&TraceFilter::default()).unwrap().traces.is_empty());
/// ```
pub struct SqliteReader {
    /// Always `Some` until dropped; taken then to return it to the pool.
    conn: Option<Connection>,
    pool: Option<Pool>,
}

impl Drop for SqliteReader {
    fn drop(&mut self) {
        if let (Some(pool), Some(conn)) = (&self.pool, self.conn.take()) {
            let mut idle = pool.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < POOL_SIZE {
                idle.push(conn);
            }
        }
    }
}

/// Parses a JSON text column; text that is not JSON is returned as a JSON string.
pub(super) fn json_column(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
}

const TRACE_COLUMNS: &str = "t.trace_id, n.name, t.start_ns, t.end_ns, t.duration_ns, t.status,
    t.span_count, t.error_count, t.metadata";

fn trace_row(row: &Row<'_>) -> rusqlite::Result<TraceSummary> {
    let id: Vec<u8> = row.get(0)?;
    Ok(TraceSummary {
        trace_id: TraceId::from_bytes(&id).unwrap_or_default(),
        name: row.get(1)?,
        start_ns: row.get(2)?,
        end_ns: row.get(3)?,
        duration_ns: row.get(4)?,
        status: TraceStatus::from_code(row.get(5)?).unwrap_or(TraceStatus::Running),
        span_count: row.get(6)?,
        error_count: row.get(7)?,
        metadata: json_column(row.get(8)?),
    })
}

/// A `pipeline_stats` row.
fn stats_row(row: &Row<'_>) -> rusqlite::Result<PipelineStatsRow> {
    let get = |i: usize| row.get::<_, i64>(i).map(|v| v as u64);
    Ok(PipelineStatsRow {
        ts_ns: row.get(0)?,
        recorded: get(1)?,
        written: get(2)?,
        spilled: get(3)?,
        replayed: get(4)?,
        dropped: get(5)?,
        sampled_out: get(6)?,
        queue_depth: get(7)?,
        write_lag_ns: get(8)?,
    })
}

/// A `resource_samples` row; a NULL (written by hand) reads as 0.
fn resource_row(row: &Row<'_>) -> rusqlite::Result<ResourceSample> {
    let int = |i: usize| -> rusqlite::Result<u64> {
        Ok(row.get::<_, Option<i64>>(i)?.unwrap_or(0).max(0) as u64)
    };
    let pct = |i: usize| -> rusqlite::Result<f32> {
        Ok(row.get::<_, Option<f64>>(i)?.unwrap_or(0.0) as f32)
    };
    Ok(ResourceSample {
        ts_ns: row.get(0)?,
        process: ProcessResources {
            cpu_pct: pct(1)?,
            rss_bytes: int(2)?,
            virtual_bytes: int(3)?,
            disk_read_bytes: int(4)?,
            disk_write_bytes: int(5)?,
            threads: int(6)?.min(u32::MAX as u64) as u32,
            open_fds: int(7)?.min(u32::MAX as u64) as u32,
        },
        host: HostResources {
            cpu_pct: pct(8)?,
            mem_used_bytes: int(9)?,
            mem_available_bytes: int(10)?,
            net_rx_bytes: int(11)?,
            net_tx_bytes: int(12)?,
        },
    })
}

impl SqliteReader {
    /// Opens an existing database read-only; refuses a schema newer than this build.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(SqliteReader {
            conn: Some(open_connection(path.as_ref())?),
            pool: None,
        })
    }

    /// A reader on a pooled connection (opened if the pool is empty), returned on drop.
    pub(crate) fn pooled(path: &Path, pool: &Pool) -> Result<Self, StoreError> {
        let idle = pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_connection(path)?,
        };
        Ok(SqliteReader {
            conn: Some(conn),
            pool: Some(pool.clone()),
        })
    }

    pub(crate) fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }

    fn list_traces_sql(&self, filter: &TraceFilter) -> Result<TracePage, Error> {
        // Slowest first: when the slow traces (1 s and longer, a partial index by duration)
        // hold a whole page of the filter's matches, that page is the top of the list, read
        // walking the index from the slowest down and stopping at the page's end. Otherwise
        // the whole window is read and sorted.
        if filter.order == TraceOrder::Slowest
            && min_duration(filter).is_none_or(|ns| ns < SLOW_TRACE_NS)
            && filter.max_duration_ns.is_none_or(|ns| ns >= SLOW_TRACE_NS)
        {
            let slow = TraceFilter {
                min_duration_ns: Some(SLOW_TRACE_NS),
                ..filter.clone()
            };
            let page = self.list_page(&slow)?;
            if page.next_cursor.is_some() {
                return Ok(page);
            }
        }
        self.list_page(filter)
    }

    fn list_page(&self, filter: &TraceFilter) -> Result<TracePage, Error> {
        let (mut clauses, mut args) = trace_conditions(filter);
        let table = trace_table(self.conn(), filter, &clauses, &args)?;
        let has_query = filter.query.as_ref().and_then(|q| q.expr()).is_some();
        let order = filter.order;
        let (column, direction, past) = match (order.by_duration(), order.descending()) {
            (false, true) => ("t.start_ns", "DESC", "<"),
            (false, false) => ("t.start_ns", "ASC", ">"),
            (true, true) => ("t.duration_ns", "DESC", "<"),
            (true, false) => ("t.duration_ns", "ASC", ">"),
        };
        if order.by_duration() {
            clauses.push("t.duration_ns IS NOT NULL".into());
        }
        if let Some(cursor) = filter.cursor {
            clauses.push(format!("({column}, t.trace_id) {past} (?, ?)"));
            args.push(SqlValue::Integer(cursor.key));
            args.push(SqlValue::Blob(cursor.trace_id.to_bytes().to_vec()));
        }
        let limit = filter.limit.clamp(1, 10_000);
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let sql = format!(
            "SELECT {TRACE_COLUMNS} FROM {table} JOIN names n ON n.id = t.name_id {where_sql}
             ORDER BY {column} {direction}, t.trace_id {direction} LIMIT {}",
            limit + 1
        );
        // A query's SQL differs with each query: it would only churn the statement cache.
        let (mut cached, mut once);
        let stmt: &mut rusqlite::Statement = if !has_query {
            cached = self.conn().prepare_cached(&sql)?;
            &mut cached
        } else {
            once = self.conn().prepare(&sql)?;
            &mut once
        };
        let traces: Vec<TraceSummary> = stmt
            .query_map(params_from_iter(args), trace_row)?
            .collect::<Result<_, _>>()?;
        Ok(TracePage::from_overfetch(traces, limit, order))
    }

    fn latest_stats_sql(
        &self,
        since_ns: i64,
        until_ns: i64,
    ) -> Result<Option<PipelineStatsRow>, Error> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT ts_ns, recorded, written, spilled, replayed, dropped, sampled_out,
                        queue_depth, write_lag_ns
                 FROM pipeline_stats WHERE ts_ns > ?1 AND ts_ns <= ?2
                 ORDER BY ts_ns DESC LIMIT 1",
            )?
            .query_row(rusqlite::params![since_ns, until_ns], stats_row)
            .optional()?)
    }

    fn stats_rows_sql(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<PipelineStatsRow>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT ts_ns, recorded, written, spilled, replayed, dropped, sampled_out,
                    queue_depth, write_lag_ns
             FROM pipeline_stats WHERE ts_ns > ?1 AND ts_ns <= ?2 ORDER BY ts_ns LIMIT ?3",
        )?;
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = stmt.query_map(rusqlite::params![since_ns, until_ns, limit], stats_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn resources_sql(
        &self,
        since_ns: i64,
        until_ns: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ResourceSample>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT ts_ns, cpu_pct, rss_bytes, virtual_bytes, disk_read_bytes, disk_write_bytes,
                    threads, open_fds, host_cpu_pct, mem_used_bytes, mem_available_bytes,
                    net_rx_bytes, net_tx_bytes
             FROM resource_samples WHERE ts_ns >= ?1 AND ts_ns < ?2 ORDER BY ts_ns LIMIT ?3",
        )?;
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = stmt.query_map(
            rusqlite::params![since_ns, until_ns.unwrap_or(i64::MAX), limit],
            resource_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn functions_sql(&self) -> Result<Vec<FunctionRow>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT name, group_name, module_path, file, line, is_async FROM functions ORDER BY name",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(FunctionRow {
                name: row.get(0)?,
                group: row.get(1)?,
                module_path: row.get(2)?,
                file: row.get(3)?,
                line: row.get(4)?,
                is_async: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn cache_rows_sql(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<CacheRow>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT ts_ns, component, hits, misses FROM cache_stats
             WHERE ts_ns > ?1 AND ts_ns <= ?2 ORDER BY ts_ns, rowid LIMIT ?3",
        )?;
        let limit = limit.min(i64::MAX as usize) as i64;
        let rows = stmt.query_map(rusqlite::params![since_ns, until_ns, limit], |row| {
            Ok(CacheRow {
                ts_ns: row.get(0)?,
                component: row.get(1)?,
                hits: row.get::<_, i64>(2)?.max(0) as u64,
                misses: row.get::<_, i64>(3)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn cache_sql(&self, since_ns: i64, until_ns: i64) -> Result<Vec<CacheTotals>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT component, sum(hits), sum(misses) FROM cache_stats
             WHERE ts_ns > ?1 AND ts_ns <= ?2 GROUP BY component ORDER BY component",
        )?;
        let rows = stmt.query_map(rusqlite::params![since_ns, until_ns], |row| {
            Ok(CacheTotals {
                component: row.get(0)?,
                hits: row.get::<_, i64>(1)?.max(0) as u64,
                misses: row.get::<_, i64>(2)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Opens a read-only connection, upgrading a database written by an older build once.
fn open_connection(path: &Path) -> Result<Connection, Error> {
    if !path.exists() {
        return Err(super::open_error(path, "no such database file").into());
    }
    let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    schema::check_version(version)?;
    if version == 0 {
        return Err(super::open_error(path, "not a pathwise database").into());
    }
    if version < schema::SCHEMA_VERSION {
        // A database written by an older build: bring it up to date once (the writer does
        // the same on its next start), then read. If the file cannot be written, read it as
        // it is; queries that need newer tables then report their absence.
        drop(conn);
        if let Err(e) = super::SqliteStore::open(path) {
            eprintln!(
                "pathwise: cannot upgrade {} (reading as is): {e}",
                path.display()
            );
        }
        return connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY);
    }
    Ok(conn)
}

/// Traces at least this long are in the partial index `traces_slow` (schema v11).
pub(crate) const SLOW_TRACE_NS: i64 = 1_000_000_000;

/// Matches of a slow-trace filter beyond which reading them by duration stops paying: the
/// newest-first walk then finds a page among the first few thousand traces.
const SLOW_PROBE: usize = 2_000;

/// The traces table to read for `filter`'s conditions `clauses`: by the slow-trace index when
/// the filter asks for long traces and fewer than [`SLOW_PROBE`] match (then every match is
/// read and sorted, instead of walking all traces newest first to find a few), as it is
/// otherwise. The probe itself reads at most [`SLOW_PROBE`] index entries.
pub(crate) fn trace_table(
    conn: &Connection,
    filter: &TraceFilter,
    clauses: &[String],
    args: &[SqlValue],
) -> Result<&'static str, Error> {
    const PLAIN: &str = "traces t";
    const BY_DURATION: &str = "traces t INDEXED BY traces_slow";
    if min_duration(filter).is_none_or(|ns| ns < SLOW_TRACE_NS) {
        return Ok(PLAIN);
    }
    if filter.order == TraceOrder::Slowest {
        return Ok(BY_DURATION); // in the index's order: the walk stops at the page's end
    }
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM {BY_DURATION} WHERE {} LIMIT {SLOW_PROBE})",
        clauses.join(" AND ")
    );
    let matches: i64 = conn.query_row(&sql, params_from_iter(args.iter()), |row| row.get(0))?;
    Ok(if (matches as usize) < SLOW_PROBE {
        BY_DURATION
    } else {
        PLAIN
    })
}

/// The least duration `filter` asks for: its own bound or a `trace.duration_ms` lower bound
/// of its query's top-level AND, whichever is larger (either way the same traces match).
fn min_duration(filter: &TraceFilter) -> Option<i64> {
    let from_query = filter
        .query
        .as_ref()
        .and_then(|q| q.expr())
        .and_then(crate::query::trace_duration_floor);
    filter.min_duration_ns.max(from_query)
}

/// The conditions on `traces t` (joined to nothing) that `filter` sets, cursor and limit aside,
/// with their arguments: one translation for the list and its figures.
pub(crate) fn trace_conditions(filter: &TraceFilter) -> (Vec<String>, Vec<SqlValue>) {
    // Inlined (an enum code, not user text) so the planner can use the partial index of
    // traces that are not completed.
    let status_clause = filter.status.map(|status| match status {
        TraceStatus::Completed => "t.status = 1".to_string(),
        // `<> 1` lets SQLite prove the partial index applies; it cannot infer it.
        other => format!("t.status = {} AND t.status <> 1", other as u8),
    });
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    clauses.extend(status_clause);
    if let Some(q) = &filter.name_contains {
        clauses.push(
            "t.name_id IN (SELECT id FROM names WHERE instr(lower(name), lower(?)) > 0)".into(),
        );
        args.push(SqlValue::Text(q.clone()));
    }
    for (value, clause) in [
        (filter.since_ns, "t.start_ns >= ?"),
        (filter.until_ns, "t.start_ns < ?"),
        (min_duration(filter), "t.duration_ns >= ?"),
        (filter.max_duration_ns, "t.duration_ns <= ?"),
    ] {
        if let Some(v) = value {
            clauses.push(clause.into());
            args.push(SqlValue::Integer(v));
        }
    }
    if min_duration(filter).is_some_and(|ns| ns >= SLOW_TRACE_NS) {
        // Written out so SQLite can prove the partial index of slow traces applies; after
        // the bound given, because SQLite ranges an index scan on the first of two.
        clauses.push(format!("t.duration_ns >= {SLOW_TRACE_NS}"));
    }
    if let Some(expr) = filter.query.as_ref().and_then(|q| q.expr()) {
        crate::query::trace_clauses(expr, &mut clauses, &mut args);
    }
    (clauses, args)
}

impl ReadStore for SqliteReader {
    fn list_traces(&self, filter: &TraceFilter) -> Result<TracePage, StoreError> {
        Ok(self.list_traces_sql(filter)?)
    }

    fn trace(&self, id: TraceId) -> Result<Option<TraceSummary>, StoreError> {
        let sql = format!(
            "SELECT {TRACE_COLUMNS} FROM traces t JOIN names n ON n.id = t.name_id WHERE t.trace_id = ?1"
        );
        let row = self
            .conn()
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row([id.to_bytes()], trace_row).optional());
        Ok(row.map_err(Error::from)?)
    }

    fn spans(
        &self,
        id: TraceId,
        parent: Option<u64>,
        limit: usize,
    ) -> Result<Vec<SpanRow>, StoreError> {
        Ok(spans::children(self.conn(), id, parent, limit)?)
    }

    fn span_skeleton(&self, id: TraceId) -> Result<Vec<SpanSkeleton>, StoreError> {
        Ok(spans::skeleton(self.conn(), id)?)
    }

    fn spans_by_id(&self, id: TraceId, span_ids: &[u64]) -> Result<Vec<SpanRow>, StoreError> {
        Ok(spans::by_id(self.conn(), id, span_ids)?)
    }

    fn find_spans(&self, id: TraceId, text: &str) -> Result<Vec<u64>, StoreError> {
        Ok(spans::find(self.conn(), id, text)?)
    }

    fn trace_stats(&self, filter: &TraceFilter) -> Result<TraceStats, StoreError> {
        Ok(stats::trace_stats(self.conn(), filter)?)
    }

    fn error_rate_since(&self, since_unix_ms: u64) -> Result<ErrorRate, StoreError> {
        Ok(stats::error_rate_since(self.conn(), since_unix_ms)?)
    }

    fn latest_pipeline_stats_between(
        &self,
        since_ns: i64,
        until_ns: i64,
    ) -> Result<Option<PipelineStatsRow>, StoreError> {
        Ok(self.latest_stats_sql(since_ns, until_ns)?)
    }

    fn resource_samples(
        &self,
        since_ns: i64,
        until_ns: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ResourceSample>, StoreError> {
        Ok(self.resources_sql(since_ns, until_ns, limit)?)
    }

    fn storage_use(&self, count_rows: bool) -> Result<pathwise_store::StorageUse, StoreError> {
        let conn = self.conn();
        // The main database's file name; empty for an in-memory one, which has no size.
        let path = std::path::PathBuf::from(conn.path().unwrap_or_default());
        Ok(crate::storage::storage_use(conn, &path, count_rows)?)
    }

    fn functions(&self) -> Result<Vec<FunctionRow>, StoreError> {
        Ok(self.functions_sql()?)
    }

    fn cache_totals(&self, since_ns: i64, until_ns: i64) -> Result<Vec<CacheTotals>, StoreError> {
        Ok(self.cache_sql(since_ns, until_ns)?)
    }

    fn cache_rows(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<CacheRow>, StoreError> {
        Ok(self.cache_rows_sql(since_ns, until_ns, limit)?)
    }

    fn pipeline_stats_rows(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<PipelineStatsRow>, StoreError> {
        Ok(self.stats_rows_sql(since_ns, until_ns, limit)?)
    }

    fn baselines(&self) -> Result<Vec<BaselineRow>, StoreError> {
        Ok(super::baselines::in_force(self.conn())?)
    }
}
