//! The writer: one batch → RowBinary inserts of spans, trace rows, partial rollup rows and the
//! pipeline's side records. Idempotent: a span delivered twice (the error lane and the thread
//! buffer both carry a failed span; a lane replayed after a crash) is stored once and counted
//! once in the rollups.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceEvent, TraceId, TraceStatus};
use pathwise_store::rollup::{Bucket, Rollups, SpanFacts, encode_sketch, hours_of};
use pathwise_store::{
    BaselineRow, CacheRow, FunctionInfo, PATH_SEPARATOR, PathDictionary, PipelineStats, Store,
    StoreError, WriteBatch, attr_json,
};

use crate::Conn;
use crate::rows::*;

/// Failed spans remembered as written, so the second copy of each is recognised in memory.
const REMEMBERED_FAILED: usize = 100_000;

/// A path with what the rollups need to know of it.
struct PathMeta {
    text: Arc<str>,
    node: String,
    parent: String,
    depth: i64,
}

/// The writer of a ClickHouse backend.
pub struct ClickHouseStore {
    conn: Conn,
    /// By the pipeline's process-local path id.
    paths: HashMap<u32, Arc<PathMeta>>,
    /// By path text, for the rollup rows.
    metas: HashMap<Arc<str>, Arc<PathMeta>>,
    rollups: Rollups<Arc<str>>,
    failed_seen: HashSet<(TraceId, u64)>,
    failed_order: VecDeque<(TraceId, u64)>,
}

impl ClickHouseStore {
    pub(crate) fn new(conn: Conn) -> ClickHouseStore {
        ClickHouseStore {
            conn,
            paths: HashMap::new(),
            metas: HashMap::new(),
            rollups: Rollups::default(),
            failed_seen: HashSet::new(),
            failed_order: VecDeque::new(),
        }
    }

    fn path_of(&mut self, dict: &dyn PathDictionary, span: &SpanRecord) -> Arc<PathMeta> {
        if span.path != 0
            && let Some(meta) = self.paths.get(&span.path)
        {
            return meta.clone();
        }
        let mut segments: Vec<String> = Vec::new();
        let mut current = span.path;
        while current != 0 && segments.len() < 1024 {
            match dict.lookup(current) {
                Some((parent, name)) => {
                    segments.push(name.to_string());
                    current = parent;
                }
                None => break,
            }
        }
        if segments.is_empty() {
            segments.push(span.name.to_string());
        }
        segments.reverse();
        let node = segments.last().cloned().unwrap_or_default();
        let parent = segments[..segments.len() - 1].join(PATH_SEPARATOR);
        let text: Arc<str> = segments.join(PATH_SEPARATOR).into();
        let meta = self
            .metas
            .entry(text.clone())
            .or_insert_with(|| {
                Arc::new(PathMeta {
                    text,
                    node,
                    parent,
                    depth: segments.len() as i64 - 1,
                })
            })
            .clone();
        if span.path != 0 {
            self.paths.insert(span.path, meta.clone());
        }
        meta
    }

    fn remember_failed(&mut self, key: (TraceId, u64)) {
        if self.failed_seen.insert(key) {
            self.failed_order.push_back(key);
            if self.failed_order.len() > REMEMBERED_FAILED
                && let Some(old) = self.failed_order.pop_front()
            {
                self.failed_seen.remove(&old);
            }
        }
    }

    /// Of the failed spans not remembered, those already stored (one query per batch, only
    /// when such spans exist).
    fn stored_already(
        &self,
        keys: &[(TraceId, u64)],
    ) -> Result<HashSet<(TraceId, u64)>, StoreError> {
        if keys.is_empty() {
            return Ok(HashSet::new());
        }
        let ids: Vec<String> = keys
            .iter()
            .map(|(t, _)| id_literal(&t.to_bytes()))
            .collect();
        let spans: Vec<String> = keys.iter().map(|(_, s)| s.to_string()).collect();
        let sql = format!(
            "SELECT trace_id, span_id FROM {} WHERE trace_id IN ({}) AND span_id IN ({})",
            self.conn.table("spans"),
            ids.join(","),
            spans.join(",")
        );
        let found: Vec<SpanKeyCh> = self.conn.run(self.conn.client.query(&sql).fetch_all())?;
        Ok(found
            .into_iter()
            .filter_map(|k| Some((TraceId::from_bytes(&k.trace_id)?, k.span_id)))
            .collect())
    }

    fn write(
        &mut self,
        batch: &WriteBatch<'_>,
        dict: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        // The spans to store: each (trace, span) once, failed ones not stored before.
        let mut seen: HashSet<(TraceId, u64)> = HashSet::new();
        let mut spans: Vec<&SpanRecord> = Vec::new();
        let mut unknown_failed = Vec::new();
        for record in batch.records {
            if let Record::Span(span) = record
                && seen.insert((span.trace_id, span.span_id))
            {
                let key = (span.trace_id, span.span_id);
                if span.status == Status::Error {
                    if self.failed_seen.contains(&key) {
                        continue;
                    }
                    unknown_failed.push(key);
                }
                spans.push(span);
            }
        }
        let stored = self.stored_already(&unknown_failed)?;
        spans.retain(|s| !stored.contains(&(s.trace_id, s.span_id)));

        let mut span_rows = Vec::with_capacity(spans.len());
        let mut trace_rows: HashMap<TraceId, TraceRowCh> = HashMap::new();
        for span in &spans {
            let meta = self.path_of(dict, span);
            let error = span.error();
            let details = span.details.as_deref();
            let attrs = details.filter(|d| !d.attrs.is_empty()).map(|d| {
                let map: serde_json::Map<String, serde_json::Value> = d
                    .attrs
                    .iter()
                    .map(|(k, v)| (k.to_string(), attr_json(v)))
                    .collect();
                serde_json::Value::Object(map).to_string()
            });
            span_rows.push(SpanRowCh {
                trace_id: span.trace_id.to_bytes(),
                span_id: span.span_id,
                parent_id: span.parent_id,
                name: span.name.to_string(),
                path: meta.text.to_string(),
                group_name: span.group.as_ref().map(|g| g.to_string()),
                kind: span.kind as u8,
                start_ns: span.start_ns,
                duration_ns: signed(span.duration_ns),
                status: span.status as u8,
                error_type: span.error_type().map(str::to_string),
                error_message: error.map(|e| e.message.clone()),
                error_chain: error
                    .filter(|e| !e.chain.is_empty())
                    .map(|e| serde_json::Value::from(e.chain.clone()).to_string()),
                attrs,
                input: details.and_then(|d| d.input.clone()),
                output: details.and_then(|d| d.output.clone()),
                reasoning: details.and_then(|d| d.reasoning.clone()),
                metadata: details.and_then(|d| d.metadata.clone()),
            });
            self.rollups.add(&SpanFacts {
                trace_id: span.trace_id,
                span_id: span.span_id,
                parent_id: span.parent_id,
                path: meta.text.clone(),
                start_ns: span.start_ns,
                duration_ns: signed(span.duration_ns),
                error_type: span.error_type().map(Arc::<str>::from),
            });
            if span.kind == SpanKind::Operation && span.parent_id == 0 {
                continue; // an operation recorded on its own is no trace
            }
            let row = trace_row(span);
            match trace_rows.get(&span.trace_id) {
                Some(existing) if existing.version > row.version => {}
                Some(existing)
                    if existing.version == row.version && existing.start_ns <= row.start_ns => {}
                _ => {
                    trace_rows.insert(span.trace_id, row);
                }
            }
        }
        for record in batch.records {
            if let Record::Trace(TraceEvent::Started {
                trace_id,
                name,
                start_ns,
                metadata,
            }) = record
                && trace_rows.get(trace_id).is_none_or(|r| r.version < 1)
            {
                trace_rows.insert(
                    *trace_id,
                    TraceRowCh {
                        trace_id: trace_id.to_bytes(),
                        name: name.to_string(),
                        start_ns: *start_ns,
                        end_ns: None,
                        duration_ns: None,
                        status: TraceStatus::Running as u8,
                        metadata: metadata.clone(),
                        version: 1,
                    },
                );
            }
        }

        let conn = self.conn.clone();
        insert(&conn, "spans", &span_rows)?;
        insert(
            &conn,
            "traces",
            &trace_rows.into_values().collect::<Vec<_>>(),
        )?;
        let minutes = self.rollups.take_minutes();
        let errors = self.rollups.take_errors();
        insert(&conn, "rollup_hour", &self.rollup_rows(&hours_of(&minutes)))?;
        insert(&conn, "rollup_minute", &self.rollup_rows(&minutes))?;
        let error_rows: Vec<ErrorRowCh> = errors
            .into_iter()
            .map(|((minute, path, error_type), count)| ErrorRowCh {
                minute,
                path: path.to_string(),
                error_type: error_type.to_string(),
                count,
            })
            .collect();
        insert(&conn, "rollup_errors", &error_rows)?;
        let now = now_ns();
        let cache: Vec<CacheRowCh> = batch
            .cache
            .iter()
            .map(|c| CacheRowCh {
                ts_ns: now,
                component: c.component.to_string(),
                hits: signed(c.hits),
                misses: signed(c.misses),
            })
            .collect();
        insert(&conn, "cache_stats", &cache)?;
        let resources: Vec<ResourceRowCh> = batch
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Resource(s) => Some(ResourceRowCh {
                    ts_ns: s.ts_ns,
                    cpu_pct: s.process.cpu_pct as f64,
                    rss_bytes: signed(s.process.rss_bytes),
                    virtual_bytes: signed(s.process.virtual_bytes),
                    disk_read_bytes: signed(s.process.disk_read_bytes),
                    disk_write_bytes: signed(s.process.disk_write_bytes),
                    threads: s.process.threads as i64,
                    open_fds: s.process.open_fds as i64,
                    host_cpu_pct: s.host.cpu_pct as f64,
                    mem_used_bytes: signed(s.host.mem_used_bytes),
                    mem_available_bytes: signed(s.host.mem_available_bytes),
                    net_rx_bytes: signed(s.host.net_rx_bytes),
                    net_tx_bytes: signed(s.host.net_tx_bytes),
                }),
                _ => None,
            })
            .collect();
        insert(&conn, "resource_samples", &resources)?;
        if let Some(s) = batch.stats {
            insert(&conn, "pipeline_stats", &[StatsRowCh::from(s)])?;
        }
        for span in spans.iter().filter(|s| s.status == Status::Error) {
            self.remember_failed((span.trace_id, span.span_id));
        }
        Ok(())
    }

    fn rollup_rows(&self, buckets: &HashMap<(i64, Arc<str>), Bucket>) -> Vec<RollupRowCh> {
        buckets
            .iter()
            .filter_map(|((bucket, path), b)| {
                let meta = self.metas.get(path)?;
                Some(RollupRowCh {
                    bucket: *bucket,
                    path: meta.text.to_string(),
                    node: meta.node.clone(),
                    parent: meta.parent.clone(),
                    depth: meta.depth,
                    calls: b.calls,
                    errors: b.errors,
                    total_ns: b.total_ns,
                    self_ns: b.self_ns,
                    min_ns: b.min_ns,
                    max_ns: b.max_ns,
                    first_ns: b.first_ns,
                    last_ns: b.last_ns,
                    sketch: encode_sketch(&b.sketch),
                    critical_ns: b.critical_ns,
                })
            })
            .collect()
    }
}

/// The trace row a span implies: the root decides, else the earliest span stands in.
fn trace_row(span: &SpanRecord) -> TraceRowCh {
    let root = span.parent_id == 0;
    let end = span.start_ns.saturating_add(signed(span.duration_ns));
    TraceRowCh {
        trace_id: span.trace_id.to_bytes(),
        name: span.name.to_string(),
        start_ns: span.start_ns,
        end_ns: root.then_some(end),
        duration_ns: root.then_some(signed(span.duration_ns)),
        status: match (root, span.status) {
            (false, _) => TraceStatus::Running as u8,
            (true, Status::Ok) => TraceStatus::Completed as u8,
            (true, Status::Error) => TraceStatus::Failed as u8,
        },
        metadata: root
            .then(|| span.details.as_ref().and_then(|d| d.metadata.clone()))
            .flatten(),
        version: if root { 2 } else { 0 },
    }
}

/// Inserts `rows` into `table` (nothing for no rows).
pub(crate) fn insert<T>(conn: &Conn, table: &str, rows: &[T]) -> Result<(), StoreError>
where
    T: clickhouse::RowOwned + clickhouse::RowWrite + Sync,
{
    if rows.is_empty() {
        return Ok(());
    }
    conn.run(async {
        let mut insert = conn.client.insert::<T>(table).await?;
        for row in rows {
            insert.write(row).await?;
        }
        insert.end().await
    })
}

impl Store for ClickHouseStore {
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        let result = self.write(batch, paths);
        if result.is_err() {
            // The batch will be written again (retry or spill replay): count it afresh then.
            self.rollups = Rollups::default();
        }
        result
    }

    fn register_functions(&mut self, functions: &[FunctionInfo]) -> Result<(), StoreError> {
        let rows: Vec<FunctionRowCh> = functions
            .iter()
            .map(|f| FunctionRowCh {
                name: f.name.to_string(),
                group_name: f.group.as_ref().map(|g| g.to_string()),
                module_path: f.module_path.to_string(),
                file: f.file.to_string(),
                line: f.line,
                is_async: f.is_async as u8,
            })
            .collect();
        insert(&self.conn, "functions", &rows)
    }

    fn delete_before(&mut self, cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        crate::maintenance::delete_before(&self.conn, cutoff_unix_ms)
    }

    fn storage_use(&mut self) -> Result<pathwise_store::StorageUse, StoreError> {
        crate::maintenance::storage_use(&self.conn, false)
    }

    fn write_cache_rows(&mut self, rows: &[CacheRow]) -> Result<(), StoreError> {
        let rows: Vec<CacheRowCh> = rows
            .iter()
            .map(|r| CacheRowCh {
                ts_ns: r.ts_ns,
                component: r.component.clone(),
                hits: signed(r.hits),
                misses: signed(r.misses),
            })
            .collect();
        insert(&self.conn, "cache_stats", &rows)
    }

    fn write_pipeline_stats(&mut self, rows: &[PipelineStats]) -> Result<(), StoreError> {
        let rows: Vec<StatsRowCh> = rows.iter().map(StatsRowCh::from).collect();
        insert(&self.conn, "pipeline_stats", &rows)
    }

    fn save_baseline(&mut self, b: &BaselineRow) -> Result<i64, StoreError> {
        crate::maintenance::save_baseline(&self.conn, b)
    }

    fn pin_baseline(&mut self, name: &str, pinned: bool) -> Result<Option<i64>, StoreError> {
        crate::maintenance::pin_baseline(&self.conn, name, pinned)
    }
}
