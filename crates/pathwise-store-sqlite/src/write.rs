mod commit;
mod wal;

pub use wal::wal_reopened;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceEvent, TraceId, TraceStatus};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};
use rustc_hash::FxHashMap;

use super::maintenance::write_resource;
use super::payload::PayloadWriter;
use super::{connect, open_error, schema};
use crate::Error;
use pathwise_store::rollup::{Rollups, SpanFacts};
use pathwise_store::{BaselineRow, PATH_SEPARATOR, PathDictionary, StoreError};
use wal::WalFile;

/// A resolved path row: its id and full text (needed to build the children's text).
#[derive(Clone)]
struct PathRow {
    id: i64,
    text: Arc<str>,
    depth: i64,
}

/// The single writer of a SQLite database.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = pathwise_store_sqlite::SqliteStore::open(dir.path().join("app.db")).unwrap();
/// assert!(store.path().ends_with("app.db"));
/// ```
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    dict: Dictionary,
    wal: WalFile,
}

/// Caches of dictionary ids (names, paths) so that a span insert rarely needs a lookup query,
/// and the rollups of the batch being written.
struct Dictionary {
    names: FxHashMap<Box<str>, i64>,
    /// Indexed by the pipeline's process-local path id.
    local_paths: Vec<Option<PathRow>>,
    /// Keyed by (parent path id, name id) in the database.
    db_paths: FxHashMap<(i64, i64), PathRow>,
    rollups: Rollups<i64>,
    rollups_enabled: bool,
    payloads: PayloadWriter,
}

impl Dictionary {
    fn new(rollups_enabled: bool) -> Self {
        Dictionary {
            names: FxHashMap::default(),
            local_paths: Vec::new(),
            db_paths: FxHashMap::default(),
            rollups: Rollups::default(),
            rollups_enabled,
            payloads: PayloadWriter::new(),
        }
    }
}

/// Per-trace totals gathered over one batch, applied with one upsert per trace.
#[derive(Default)]
struct TraceTotals<'a> {
    spans: i64,
    errors: i64,
    /// The earliest span seen, standing in for the root until the root arrives.
    first: Option<(i64, i64)>,
    /// The root, when it is in this batch, with its name id.
    root: Option<(&'a SpanRecord, i64)>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Ok(Self::open_path(path.as_ref())?)
    }

    fn open_path(path: &Path) -> Result<Self, Error> {
        let path = path.to_path_buf();
        let mut conn = connect(
            &path,
            // One thread owns the writer connection: SQLite's own mutexes are pure overhead.
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Before the first table exists (a no-op on an older file): retention's deletions can
        // then be given back to the file system page by page (see `storage`).
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
        // WAL lets readers work while we write; NORMAL syncs at checkpoints only, which keeps
        // the database consistent after a process crash (the error lane covers durability).
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(|e| open_error(&path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_error(&path, format!("could not enable WAL (got {mode})")).into());
        }
        // A 64 MiB page cache keeps a large batch's pages in memory until commit.
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;",
        )?;
        schema::migrate(&mut conn)?;
        Ok(SqliteStore {
            conn,
            wal: WalFile::new(&path),
            path,
            dict: Dictionary::new(true),
        })
    }

    /// Turns rollup maintenance off or on (on by default). Off is only for measuring what the
    /// rollups cost; analytics read nothing for spans written while it is off.
    pub fn set_rollups(&mut self, enabled: bool) {
        self.dict.rollups_enabled = enabled;
    }

    /// The baseline in force per operation (pinned, else newest).
    pub fn baselines(&self) -> Result<Vec<BaselineRow>, StoreError> {
        Ok(super::baselines::in_force(&self.conn)?)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Dictionary {
    fn write_records(
        &mut self,
        tx: &Transaction<'_>,
        records: &[Record],
        dict: &dyn PathDictionary,
    ) -> Result<(), Error> {
        let mut totals: FxHashMap<TraceId, TraceTotals<'_>> = FxHashMap::default();
        for record in records {
            match record {
                Record::Span(span) => {
                    let inserted = self.insert_span(tx, span, dict)?;
                    let counts_for_trace =
                        !(span.kind == SpanKind::Operation && span.parent_id == 0);
                    if inserted && counts_for_trace {
                        let entry = totals.entry(span.trace_id).or_default();
                        entry.spans += 1;
                        entry.errors += (span.status == Status::Error) as i64;
                        let name_id = self.name_id(tx, &span.name)?;
                        if span.parent_id == 0 {
                            entry.root = Some((span, name_id));
                        } else if entry.first.is_none_or(|(start, _)| span.start_ns < start) {
                            entry.first = Some((span.start_ns, name_id));
                        }
                    }
                }
                Record::Trace(TraceEvent::Started {
                    trace_id,
                    name,
                    start_ns,
                    metadata,
                }) => {
                    let name_id = self.name_id(tx, name)?;
                    tx.prepare_cached(
                        "INSERT INTO traces (trace_id, name_id, start_ns, status, metadata)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (trace_id) DO UPDATE SET
                           name_id = excluded.name_id, start_ns = excluded.start_ns,
                           metadata = coalesce(traces.metadata, excluded.metadata)",
                    )?
                    .execute(params![
                        trace_id.to_bytes(),
                        name_id,
                        start_ns,
                        TraceStatus::Running as u8,
                        metadata
                    ])?;
                }
                Record::Resource(sample) => write_resource(tx, sample)?,
            }
        }
        let mut add = tx.prepare_cached(
            "INSERT INTO traces (trace_id, name_id, start_ns, status, span_count, error_count)
             VALUES (?1, ?2, ?3, 0, ?4, ?5)
             ON CONFLICT (trace_id) DO UPDATE SET
               span_count = span_count + excluded.span_count,
               error_count = error_count + excluded.error_count",
        )?;
        for (trace_id, t) in totals {
            if let Some((root, name_id)) = t.root {
                upsert_root(tx, root, name_id, t.spans, t.errors)?;
                continue;
            }
            let (start_ns, name_id) = t.first.unwrap_or((0, 0));
            add.execute(params![
                trace_id.to_bytes(),
                name_id,
                start_ns,
                t.spans,
                t.errors
            ])?;
        }
        super::rollup::flush(&mut self.rollups, tx)
    }

    /// Inserts one span; `false` when it was already stored (a replay).
    fn insert_span(
        &mut self,
        tx: &Transaction<'_>,
        span: &SpanRecord,
        dict: &dyn PathDictionary,
    ) -> Result<bool, Error> {
        let name_id = self.name_id(tx, &span.name)?;
        let path_id = self.path_id(tx, dict, span.path, name_id, &span.name)?;
        let group_id = match &span.group {
            Some(group) => Some(self.name_id(tx, group)?),
            None => None,
        };
        let error = span.error();
        let error_type_id = match span.error_type() {
            Some(error_type) => Some(self.name_id(tx, error_type)?),
            None => None,
        };
        let trace_id = span.trace_id.to_bytes();
        let inserted =
            tx.prepare_cached(
                "INSERT OR IGNORE INTO spans (trace_id, span_id, parent_id, name_id, path_id,
                   group_id, kind, start_ns, duration_ns, status, error_type_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                trace_id,
                span.span_id as i64,
                span.parent_id as i64,
                name_id,
                path_id,
                group_id,
                span.kind as u8,
                span.start_ns,
                span.duration_ns.min(i64::MAX as u64) as i64,
                span.status as u8,
                error_type_id,
            ])? == 1;
        if inserted && self.rollups_enabled {
            self.rollups.add(&SpanFacts {
                trace_id: span.trace_id,
                span_id: span.span_id,
                parent_id: span.parent_id,
                path: path_id,
                start_ns: span.start_ns,
                duration_ns: span.duration_ns.min(i64::MAX as u64) as i64,
                error_type: error_type_id,
            });
        }
        if let (true, Some(details)) = (inserted, &span.details) {
            let attrs = if details.attrs.is_empty() {
                None
            } else {
                let map: serde_json::Map<String, serde_json::Value> = details
                    .attrs
                    .iter()
                    .map(|(k, v)| (k.to_string(), pathwise_store::attr_json(v)))
                    .collect();
                Some(serde_json::Value::Object(map).to_string())
            };
            let chain = error
                .filter(|e| !e.chain.is_empty())
                .map(|e| serde_json::to_string(&e.chain).unwrap_or_default());
            let payloads = &mut self.payloads;
            let chain = payloads.encode(tx, name_id, chain.as_deref())?;
            let input = payloads.encode(tx, name_id, details.input.as_deref())?;
            let output = payloads.encode(tx, name_id, details.output.as_deref())?;
            let reasoning = payloads.encode(tx, name_id, details.reasoning.as_deref())?;
            let metadata = payloads.encode(tx, name_id, details.metadata.as_deref())?;
            tx.prepare_cached(
                "INSERT OR IGNORE INTO span_details (trace_id, span_id, attrs, error_message,
                   error_chain, input, output, reasoning, metadata)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                trace_id,
                span.span_id as i64,
                attrs,
                error.map(|e| e.message.as_str()),
                chain,
                input,
                output,
                reasoning,
                metadata,
            ])?;
        }
        Ok(inserted)
    }

    fn name_id(&mut self, tx: &Transaction<'_>, name: &str) -> Result<i64, Error> {
        if let Some(&id) = self.names.get(name) {
            return Ok(id);
        }
        tx.prepare_cached("INSERT OR IGNORE INTO names (name) VALUES (?1)")?
            .execute([name])?;
        let id: i64 = tx
            .prepare_cached("SELECT id FROM names WHERE name = ?1")?
            .query_row([name], |row| row.get(0))?;
        self.names.insert(name.into(), id);
        Ok(id)
    }

    /// Maps a process-local path id to the database's, creating rows for unseen paths.
    fn path_id(
        &mut self,
        tx: &Transaction<'_>,
        dict: &dyn PathDictionary,
        local: u32,
        name_id: i64,
        name: &str,
    ) -> Result<i64, Error> {
        if let Some(Some(row)) = self.local_paths.get(local as usize) {
            return Ok(row.id);
        }
        // Walk up to the nearest ancestor we already know (or the root), then create downwards.
        let mut chain = Vec::new();
        let mut current = local;
        while current != 0 {
            if let Some(Some(_)) = self.local_paths.get(current as usize) {
                break;
            }
            match dict.lookup(current) {
                Some((parent, segment)) if chain.len() < 4096 => {
                    chain.push((current, segment));
                    current = parent;
                }
                _ => break,
            }
        }
        if chain.is_empty() {
            // Unknown to the dictionary: the span's own name is its whole path.
            return Ok(self.db_path(tx, None, name_id, name)?.id);
        }
        let mut parent = self.local_paths.get(current as usize).cloned().flatten();
        for (local_id, segment) in chain.into_iter().rev() {
            let seg_id = self.name_id(tx, &segment)?;
            let row = self.db_path(tx, parent.as_ref(), seg_id, &segment)?;
            let slot = local_id as usize;
            if self.local_paths.len() <= slot {
                self.local_paths.resize(slot + 1, None);
            }
            self.local_paths[slot] = Some(row.clone());
            parent = Some(row);
        }
        Ok(parent.map_or(0, |row| row.id))
    }

    fn db_path(
        &mut self,
        tx: &Transaction<'_>,
        parent: Option<&PathRow>,
        name_id: i64,
        name: &str,
    ) -> Result<PathRow, Error> {
        let parent_id = parent.map_or(0, |p| p.id);
        if let Some(row) = self.db_paths.get(&(parent_id, name_id)) {
            return Ok(row.clone());
        }
        let (text, depth): (Arc<str>, i64) = match parent {
            Some(p) => (
                format!("{}{PATH_SEPARATOR}{name}", p.text).into(),
                p.depth + 1,
            ),
            None => (name.into(), 0),
        };
        tx.prepare_cached(
            "INSERT OR IGNORE INTO paths (parent_id, name_id, depth, path) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![parent_id, name_id, depth, &*text])?;
        let id: i64 = tx
            .prepare_cached("SELECT id FROM paths WHERE parent_id = ?1 AND name_id = ?2")?
            .query_row(params![parent_id, name_id], |row| row.get(0))?;
        let row = PathRow { id, text, depth };
        self.db_paths.insert((parent_id, name_id), row.clone());
        Ok(row)
    }
}

/// Sets the trace's identity and outcome from its root span and adds the batch's counts, in
/// one statement (a trace of one span costs one upsert, not two).
fn upsert_root(
    tx: &Transaction<'_>,
    root: &SpanRecord,
    name_id: i64,
    spans: i64,
    errors: i64,
) -> Result<(), Error> {
    let status = match root.status {
        Status::Ok => TraceStatus::Completed,
        Status::Error => TraceStatus::Failed,
    };
    let end_ns = root.start_ns.saturating_add(root.duration_ns as i64);
    let metadata = root.details.as_ref().and_then(|d| d.metadata.as_deref());
    tx.prepare_cached(
        "INSERT INTO traces (trace_id, name_id, start_ns, end_ns, duration_ns, status, metadata,
           span_count, error_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (trace_id) DO UPDATE SET
           name_id = excluded.name_id, start_ns = excluded.start_ns,
           end_ns = excluded.end_ns, duration_ns = excluded.duration_ns,
           status = excluded.status,
           metadata = coalesce(excluded.metadata, traces.metadata),
           span_count = span_count + excluded.span_count,
           error_count = error_count + excluded.error_count",
    )?
    .execute(params![
        root.trace_id.to_bytes(),
        name_id,
        root.start_ns,
        end_ns,
        root.duration_ns.min(i64::MAX as u64) as i64,
        status as u8,
        metadata,
        spans,
        errors
    ])?;
    Ok(())
}

impl SqliteStore {
    /// The schema version stored in the file (for diagnostics).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(Error::from)?)
    }

    /// Runs `PRAGMA integrity_check`; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let result: Option<String> = self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .optional()
            .map_err(Error::from)?;
        match result.as_deref() {
            Some("ok") => Ok(()),
            other => Err(StoreError::InvalidQuery(format!(
                "integrity check: {other:?}"
            ))),
        }
    }
}
