//! The read side over ClickHouse: traces and a trace's spans from the replacing tables
//! (`FINAL`, so a row written twice reads once), rollups merged from their partial rows.
//! Window scans of spans (recent durations, attribute values, error rates) skip `FINAL`: the
//! writer already stores each span once, and `FINAL` would cost a merge of the whole window.

use std::collections::HashMap;

use clickhouse::Row;
use pathwise_model::{
    HostResources, ProcessResources, ResourceSample, SpanKind, Status, TraceId, TraceStatus,
};
use pathwise_store::rollup::{Bucket, Cover, decode_sketch};
use pathwise_store::{
    BaselineRow, CacheRow, CacheTotals, ErrorRate, FunctionRow, PipelineStatsRow, ReadStore,
    SpanRow, SpanSkeleton, StoreError, TraceFilter, TracePage, TraceStats, TraceSummary, Window,
};
use serde::Deserialize;

use crate::Conn;
use crate::rows::*;

/// A reader; cheap (a client handle), any number may run at once.
pub struct ClickHouseReader {
    pub(crate) conn: Conn,
}

#[derive(Row, Deserialize)]
struct TraceListRow {
    trace_id: [u8; 16],
    name: String,
    start_ns: i64,
    end_ns: Option<i64>,
    duration_ns: Option<i64>,
    status: u8,
    metadata: Option<String>,
    /// Selected because ClickHouse 18's FINAL over a Distributed table needs it.
    #[allow(dead_code)]
    version: u8,
}

/// The trace list's default order.
const NEWEST_FIRST: &str = "start_ns DESC, trace_id DESC";

const TRACE_COLUMNS: &str =
    "trace_id, name, start_ns, end_ns, duration_ns, status, metadata, version";

fn json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
}

/// The smallest trace id of a trace started at `ns` (ids begin with the start time).
pub(crate) fn bound(ns: i64) -> String {
    let ms = if ns == i64::MAX {
        u64::MAX >> 16
    } else {
        (ns.max(0) / 1_000_000) as u64
    };
    id_literal(&TraceId::lower_bound(ms).to_bytes())
}

pub(crate) fn span_row(r: SpanRowCh) -> SpanRow {
    SpanRow {
        span_id: r.span_id,
        parent_id: r.parent_id,
        name: r.name,
        path: r.path,
        group: r.group_name,
        kind: SpanKind::from_code(r.kind).unwrap_or(SpanKind::Span),
        start_ns: r.start_ns,
        duration_ns: r.duration_ns,
        status: if r.status == Status::Error as u8 {
            Status::Error
        } else {
            Status::Ok
        },
        error_type: r.error_type,
        error_message: r.error_message,
        error_chain: json(r.error_chain),
        attrs: json(r.attrs),
        input: json(r.input),
        output: json(r.output),
        reasoning: r.reasoning,
        metadata: json(r.metadata),
    }
}

pub(crate) fn bucket(r: &RollupRowCh) -> Bucket {
    Bucket {
        calls: r.calls,
        errors: r.errors,
        total_ns: r.total_ns,
        self_ns: r.self_ns,
        min_ns: r.min_ns,
        max_ns: r.max_ns,
        first_ns: r.first_ns,
        last_ns: r.last_ns,
        sketch: decode_sketch(&r.sketch),
        critical_ns: r.critical_ns,
    }
}

impl ClickHouseReader {
    pub(crate) fn new(conn: Conn) -> ClickHouseReader {
        ClickHouseReader { conn }
    }

    pub(crate) fn fetch<T>(&self, sql: &str) -> Result<Vec<T>, StoreError>
    where
        T: clickhouse::RowOwned + clickhouse::RowRead + Send,
    {
        self.conn.run(self.conn.client.query(sql).fetch_all::<T>())
    }

    /// Traces `clause` selects, in the order `sort` (an ORDER BY list), at most `limit`.
    fn traces_where(
        &self,
        clause: &str,
        sort: &str,
        limit: usize,
    ) -> Result<Vec<TraceSummary>, StoreError> {
        let rows: Vec<TraceListRow> = self.fetch(&format!(
            "SELECT {TRACE_COLUMNS} FROM {} FINAL {clause} ORDER BY {sort} LIMIT {limit}",
            self.conn.table("traces")
        ))?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows.iter().map(|r| id_literal(&r.trace_id)).collect();
        // Counts come from the spans themselves: each span once, operations on their own excluded
        // (they are no trace), as the SQLite backend counts them.
        let counts: Vec<TraceCountsCh> = self.fetch(&format!(
            "SELECT trace_id, uniqExact(span_id), uniqExactIf(span_id, status = 1) FROM {}
             WHERE trace_id IN ({}) AND NOT (kind = {} AND parent_id = 0) GROUP BY trace_id",
            self.conn.table("spans"),
            ids.join(","),
            SpanKind::Operation as u8
        ))?;
        let counts: HashMap<[u8; 16], (u64, u64)> = counts
            .into_iter()
            .map(|c| (c.trace_id, (c.spans, c.errors)))
            .collect();
        Ok(rows
            .into_iter()
            .map(|r| {
                let (spans, errors) = counts.get(&r.trace_id).copied().unwrap_or((0, 0));
                TraceSummary {
                    trace_id: TraceId::from_bytes(&r.trace_id).unwrap_or_default(),
                    name: r.name,
                    start_ns: r.start_ns,
                    end_ns: r.end_ns,
                    duration_ns: r.duration_ns,
                    status: TraceStatus::from_code(r.status).unwrap_or(TraceStatus::Running),
                    span_count: spans as i64,
                    error_count: errors as i64,
                    metadata: json(r.metadata),
                }
            })
            .collect())
    }

    fn span_rows(&self, clause: &str, limit: usize) -> Result<Vec<SpanRow>, StoreError> {
        let rows: Vec<SpanRowCh> = self.fetch(&format!(
            "SELECT {SPAN_COLUMNS} FROM {} FINAL {clause} ORDER BY start_ns, span_id LIMIT {limit}",
            self.conn.table("spans")
        ))?;
        Ok(rows.into_iter().map(span_row).collect())
    }

    /// Rollup rows of a window: hour rows for whole hours, minute rows for the edges.
    pub(crate) fn rollup_rows(&self, window: Window) -> Result<Vec<RollupRowCh>, StoreError> {
        let c = Cover::of(window);
        self.fetch(&format!(
            "SELECT {ROLLUP_COLUMNS} FROM {} WHERE bucket >= {} AND bucket < {}
             UNION ALL SELECT {ROLLUP_COLUMNS} FROM {}
               WHERE (bucket >= {} AND bucket < {}) OR (bucket >= {} AND bucket < {})",
            self.conn.table("rollup_hour"),
            c.hours.0,
            c.hours.1,
            self.conn.table("rollup_minute"),
            c.minutes[0].0,
            c.minutes[0].1,
            c.minutes[1].0,
            c.minutes[1].1
        ))
    }
}

/// `text` for the inside of a quoted ClickHouse string literal: its escaping of `\\` and `'`,
/// and `??` for `?`, which the client would otherwise take for a bind placeholder.
fn quote(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\'', "\\'")
        .replace('?', "??")
}

/// The conditions on the traces table that `filter` sets, cursor and limit aside: one
/// translation for the list and its figures.
fn trace_conditions(filter: &TraceFilter) -> Result<Vec<String>, StoreError> {
    // Refused rather than ignored: listing every trace for a query would be a wrong answer.
    if filter.query.as_ref().is_some_and(|q| q.expr().is_some()) {
        return Err(StoreError::Unsupported(
            "the query language (q=, --where) on ClickHouse".into(),
        ));
    }
    let mut clauses: Vec<String> = Vec::new();
    if let Some(status) = filter.status {
        clauses.push(format!("status = {}", status as u8));
    }
    if let Some(q) = &filter.name_contains {
        // A quoted literal: ClickHouse's escaping of `\` and `'` only.
        clauses.push(format!(
            "position(lowerUTF8(name), lowerUTF8('{}')) > 0",
            quote(q)
        ));
    }
    for (value, clause) in [
        (filter.since_ns, "start_ns >= "),
        (filter.until_ns, "start_ns < "),
        (filter.min_duration_ns, "duration_ns >= "),
        (filter.max_duration_ns, "duration_ns <= "),
    ] {
        if let Some(v) = value {
            clauses.push(format!("{clause}{v}"));
        }
    }
    Ok(clauses)
}

impl ReadStore for ClickHouseReader {
    fn list_traces(&self, filter: &TraceFilter) -> Result<TracePage, StoreError> {
        let mut clauses = trace_conditions(filter)?;
        let order = filter.order;
        let column = if order.by_duration() {
            clauses.push("duration_ns IS NOT NULL".into());
            "duration_ns"
        } else {
            "start_ns"
        };
        let (direction, past) = if order.descending() {
            ("DESC", "<")
        } else {
            ("ASC", ">")
        };
        if let Some(cursor) = filter.cursor {
            let id = id_literal(&cursor.trace_id.to_bytes());
            clauses.push(format!(
                "({column} {past} {0} OR ({column} = {0} AND trace_id {past} {id}))",
                cursor.key
            ));
        }
        let clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let limit = filter.limit.clamp(1, 10_000);
        let sort = format!("{column} {direction}, trace_id {direction}");
        let traces = self.traces_where(&clause, &sort, limit + 1)?;
        Ok(TracePage::from_overfetch(traces, limit, order))
    }

    fn trace(&self, id: TraceId) -> Result<Option<TraceSummary>, StoreError> {
        let clause = format!("WHERE trace_id = {}", id_literal(&id.to_bytes()));
        Ok(self
            .traces_where(&clause, NEWEST_FIRST, 1)?
            .into_iter()
            .next())
    }

    fn spans(
        &self,
        id: TraceId,
        parent: Option<u64>,
        limit: usize,
    ) -> Result<Vec<SpanRow>, StoreError> {
        let mut clause = format!("WHERE trace_id = {}", id_literal(&id.to_bytes()));
        if let Some(p) = parent {
            clause.push_str(&format!(" AND parent_id = {p}"));
        }
        self.span_rows(&clause, limit.min(1_000_000))
    }

    fn span_skeleton(&self, id: TraceId) -> Result<Vec<SpanSkeleton>, StoreError> {
        // The key columns are selected because FINAL over a Distributed table needs them.
        let rows: Vec<(u64, u64, i64, i64, u8)> = self.fetch(&format!(
            "SELECT span_id, parent_id, start_ns, duration_ns, status FROM (
               SELECT trace_id, span_id, parent_id, start_ns, duration_ns, status FROM {} FINAL
               WHERE trace_id = {}) ORDER BY start_ns, span_id",
            self.conn.table("spans"),
            id_literal(&id.to_bytes())
        ))?;
        Ok(rows
            .into_iter()
            .map(
                |(span_id, parent_id, start_ns, duration_ns, status)| SpanSkeleton {
                    span_id,
                    parent_id,
                    start_ns,
                    duration_ns,
                    failed: status == Status::Error as u8,
                },
            )
            .collect())
    }

    fn spans_by_id(&self, id: TraceId, span_ids: &[u64]) -> Result<Vec<SpanRow>, StoreError> {
        if span_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = span_ids.iter().map(u64::to_string).collect();
        let clause = format!(
            "WHERE trace_id = {} AND span_id IN ({})",
            id_literal(&id.to_bytes()),
            list.join(",")
        );
        self.span_rows(&clause, span_ids.len())
    }

    fn find_spans(&self, id: TraceId, text: &str) -> Result<Vec<u64>, StoreError> {
        let quoted = quote(text);
        let rows: Vec<(u64, i64)> = self.fetch(&format!(
            "SELECT span_id, start_ns FROM (
               SELECT trace_id, span_id, start_ns, name, group_name, error_type FROM {} FINAL
               WHERE trace_id = {}) WHERE positionCaseInsensitive(name, '{quoted}') > 0
                 OR positionCaseInsensitive(ifNull(group_name, ''), '{quoted}') > 0
                 OR positionCaseInsensitive(ifNull(error_type, ''), '{quoted}') > 0
             ORDER BY start_ns, span_id",
            self.conn.table("spans"),
            id_literal(&id.to_bytes())
        ))?;
        Ok(rows.into_iter().map(|(span_id, _)| span_id).collect())
    }

    fn trace_stats(&self, filter: &TraceFilter) -> Result<TraceStats, StoreError> {
        let clauses = trace_conditions(filter)?;
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let table = self.conn.table("traces");
        let rows: Vec<(u8, u64)> = self.fetch(&format!(
            "SELECT status, count() FROM (
               SELECT trace_id, status, version FROM {table} FINAL
               {where_sql}) GROUP BY status"
        ))?;
        let mut stats = TraceStats::default();
        for (status, n) in rows {
            stats.total += n;
            match TraceStatus::from_code(status) {
                Some(TraceStatus::Running) => stats.running += n,
                Some(TraceStatus::Completed) => stats.completed += n,
                Some(TraceStatus::Failed) => stats.failed += n,
                None => {}
            }
        }
        // Nearest-rank p95 over finished traces, as the SQLite backend computes it.
        let durations: Vec<i64> = self.fetch(&format!(
            "SELECT assumeNotNull(duration_ns) AS d FROM (
               SELECT trace_id, duration_ns, version FROM {table} FINAL
               {where_sql})
             WHERE isNotNull(duration_ns) ORDER BY d"
        ))?;
        if !durations.is_empty() {
            let n = durations.len();
            stats.avg_duration_ns =
                Some(durations.iter().map(|&d| d as f64).sum::<f64>() / n as f64);
            let rank = ((n as f64 * 0.95).ceil() as usize).max(1) - 1;
            stats.p95_duration_ns = durations.get(rank).copied();
        }
        Ok(stats)
    }

    fn error_rate_since(&self, since_unix_ms: u64) -> Result<ErrorRate, StoreError> {
        let rows: Vec<(u64, u64)> = self.fetch(&format!(
            "SELECT count(), countIf(status = 1) FROM {} WHERE trace_id >= {}",
            self.conn.table("spans"),
            id_literal(&TraceId::lower_bound(since_unix_ms).to_bytes())
        ))?;
        let (spans, errors) = rows.first().copied().unwrap_or((0, 0));
        Ok(ErrorRate { spans, errors })
    }

    fn latest_pipeline_stats_between(
        &self,
        since_ns: i64,
        until_ns: i64,
    ) -> Result<Option<PipelineStatsRow>, StoreError> {
        let rows: Vec<StatsRowCh> = self.fetch(&format!(
            "SELECT ts_ns, recorded, written, spilled, replayed, dropped, sampled_out,
                    queue_depth, write_lag_ns FROM {}
             WHERE ts_ns > {since_ns} AND ts_ns <= {until_ns} ORDER BY ts_ns DESC LIMIT 1",
            self.conn.table("pipeline_stats")
        ))?;
        Ok(rows.into_iter().next().map(PipelineStatsRow::from))
    }

    fn pipeline_stats_rows(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<PipelineStatsRow>, StoreError> {
        let rows: Vec<StatsRowCh> = self.fetch(&format!(
            "SELECT ts_ns, recorded, written, spilled, replayed, dropped, sampled_out,
                    queue_depth, write_lag_ns FROM {}
             WHERE ts_ns > {since_ns} AND ts_ns <= {until_ns} ORDER BY ts_ns LIMIT {}",
            self.conn.table("pipeline_stats"),
            limit.min(10_000_000)
        ))?;
        Ok(rows.into_iter().map(PipelineStatsRow::from).collect())
    }

    fn cache_rows(
        &self,
        since_ns: i64,
        until_ns: i64,
        limit: usize,
    ) -> Result<Vec<CacheRow>, StoreError> {
        // Rows of one nanosecond have no order of their own; sorting by every column makes
        // pages repeatable.
        let rows: Vec<CacheRowCh> = self.fetch(&format!(
            "SELECT ts_ns, component, hits, misses FROM {}
             WHERE ts_ns > {since_ns} AND ts_ns <= {until_ns}
             ORDER BY ts_ns, component, hits, misses LIMIT {}",
            self.conn.table("cache_stats"),
            limit.min(10_000_000)
        ))?;
        Ok(rows
            .into_iter()
            .map(|r| CacheRow {
                ts_ns: r.ts_ns,
                component: r.component,
                hits: r.hits.max(0) as u64,
                misses: r.misses.max(0) as u64,
            })
            .collect())
    }

    fn cache_totals(&self, since_ns: i64, until_ns: i64) -> Result<Vec<CacheTotals>, StoreError> {
        let rows: Vec<(String, i64, i64)> = self.fetch(&format!(
            "SELECT component, sum(hits), sum(misses) FROM {}
             WHERE ts_ns > {since_ns} AND ts_ns <= {until_ns} GROUP BY component ORDER BY component",
            self.conn.table("cache_stats")
        ))?;
        Ok(rows
            .into_iter()
            .map(|(component, hits, misses)| CacheTotals {
                component,
                hits: hits.max(0) as u64,
                misses: misses.max(0) as u64,
            })
            .collect())
    }

    fn baselines(&self) -> Result<Vec<BaselineRow>, StoreError> {
        let rows: Vec<BaselineRowCh> = self.fetch(&format!(
            "SELECT {BASELINE_COLUMNS} FROM {} FINAL
             ORDER BY name, pinned DESC, version DESC LIMIT 1 BY name",
            self.conn.table("baselines")
        ))?;
        Ok(rows
            .into_iter()
            .map(|r| BaselineRow {
                name: r.name,
                version: r.version,
                learned_ns: r.learned_ns,
                pinned: r.pinned != 0,
                samples: r.samples,
                kept: r.kept,
                outliers: r.outliers,
                p50: r.p50,
                p95: r.p95,
                p99: r.p99,
                mean: r.mean,
                std_dev: r.std_dev,
                confidence: r.confidence,
            })
            .collect())
    }

    fn functions(&self) -> Result<Vec<FunctionRow>, StoreError> {
        let rows: Vec<FunctionRowCh> = self.fetch(&format!(
            "SELECT name, group_name, module_path, file, line, is_async FROM {} FINAL ORDER BY name",
            self.conn.table("functions")
        ))?;
        Ok(rows
            .into_iter()
            .map(|f| FunctionRow {
                name: f.name,
                group: f.group_name,
                module_path: f.module_path,
                file: f.file,
                line: f.line,
                is_async: f.is_async != 0,
            })
            .collect())
    }

    fn storage_use(&self, count_rows: bool) -> Result<pathwise_store::StorageUse, StoreError> {
        crate::maintenance::storage_use(&self.conn, count_rows)
    }

    fn resource_samples(
        &self,
        since_ns: i64,
        until_ns: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ResourceSample>, StoreError> {
        let rows: Vec<ResourceRowCh> = self.fetch(&format!(
            "SELECT ts_ns, cpu_pct, rss_bytes, virtual_bytes, disk_read_bytes, disk_write_bytes,
                    threads, open_fds, host_cpu_pct, mem_used_bytes, mem_available_bytes,
                    net_rx_bytes, net_tx_bytes FROM {}
             WHERE ts_ns >= {since_ns} AND ts_ns < {} ORDER BY ts_ns LIMIT {}",
            self.conn.table("resource_samples"),
            until_ns.unwrap_or(i64::MAX),
            limit.min(10_000_000)
        ))?;
        let u = |v: i64| v.max(0) as u64;
        Ok(rows
            .into_iter()
            .map(|r| ResourceSample {
                ts_ns: r.ts_ns,
                process: ProcessResources {
                    cpu_pct: r.cpu_pct as f32,
                    rss_bytes: u(r.rss_bytes),
                    virtual_bytes: u(r.virtual_bytes),
                    disk_read_bytes: u(r.disk_read_bytes),
                    disk_write_bytes: u(r.disk_write_bytes),
                    threads: u(r.threads).min(u32::MAX as u64) as u32,
                    open_fds: u(r.open_fds).min(u32::MAX as u64) as u32,
                },
                host: HostResources {
                    cpu_pct: r.host_cpu_pct as f32,
                    mem_used_bytes: u(r.mem_used_bytes),
                    mem_available_bytes: u(r.mem_available_bytes),
                    net_rx_bytes: u(r.net_rx_bytes),
                    net_tx_bytes: u(r.net_tx_bytes),
                },
            })
            .collect())
    }
}
