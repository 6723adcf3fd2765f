//! Rollups maintained by the writer: per (minute, path) and per (hour, path), counts, errors,
//! total and self time, min/max and a DDSketch of durations (1 % relative error), plus error
//! counts by type. Analytics read these instead of scanning spans, so any window is cheap.

use pathwise_model::TraceId;
use rusqlite::{OptionalExtension, Transaction, params};
use rustc_hash::FxHashMap;
use sketches_ddsketch::{Config, DDSketch};

use crate::StoreError;

/// Relative accuracy of every stored quantile.
pub const SKETCH_RELATIVE_ERROR: f64 = 0.01;

const NS_PER_MINUTE: i64 = 60_000_000_000;
/// Pending child-time sums kept for parents not yet seen; beyond this the oldest are dropped
/// (self time of those parents is then overstated, never a span lost).
const MAX_PENDING_CHILD_SUMS: usize = 200_000;

/// A new, empty sketch with the store's accuracy.
pub fn new_sketch() -> DDSketch {
    DDSketch::new(Config::new(SKETCH_RELATIVE_ERROR, 2048, 1.0))
}

/// Decodes a stored sketch; a damaged blob yields an empty sketch instead of an error.
pub fn decode_sketch(blob: &[u8]) -> DDSketch {
    postcard::from_bytes(blob).unwrap_or_else(|_| new_sketch())
}

fn encode_sketch(sketch: &DDSketch) -> Vec<u8> {
    postcard::to_stdvec(sketch).unwrap_or_default()
}

/// One bucket's figures for one path.
#[derive(Clone)]
pub struct Bucket {
    pub calls: i64,
    pub errors: i64,
    pub total_ns: i64,
    pub self_ns: i64,
    pub min_ns: i64,
    pub max_ns: i64,
    pub first_ns: i64,
    pub last_ns: i64,
    pub sketch: DDSketch,
}

impl Bucket {
    fn new() -> Self {
        Bucket {
            calls: 0,
            errors: 0,
            total_ns: 0,
            self_ns: 0,
            min_ns: i64::MAX,
            max_ns: 0,
            first_ns: i64::MAX,
            last_ns: i64::MIN,
            sketch: new_sketch(),
        }
    }

    /// Adds another bucket's figures to this one.
    pub fn merge(&mut self, other: &Bucket) {
        self.calls += other.calls;
        self.errors += other.errors;
        self.total_ns += other.total_ns;
        self.self_ns += other.self_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
        self.first_ns = self.first_ns.min(other.first_ns);
        self.last_ns = self.last_ns.max(other.last_ns);
        // Same configuration everywhere, so a merge cannot fail.
        let _ = self.sketch.merge(&other.sketch);
    }
}

/// One span as the rollups see it.
pub struct SpanFacts {
    pub trace_id: TraceId,
    pub span_id: u64,
    pub parent_id: u64,
    pub path_id: i64,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub error_type_id: Option<i64>,
}

/// Accumulates one batch, then merges it into the stored rollups.
#[derive(Default)]
pub struct Rollups {
    minutes: FxHashMap<(i64, i64), Bucket>,
    errors: FxHashMap<(i64, i64, i64), i64>,
    /// (trace, parent span) → summed durations of children already seen.
    child_time: FxHashMap<(TraceId, u64), i64>,
}

impl Rollups {
    /// Counts one stored span.
    pub fn add(&mut self, span: &SpanFacts) {
        if span.parent_id != 0 {
            *self
                .child_time
                .entry((span.trace_id, span.parent_id))
                .or_insert(0) += span.duration_ns;
        }
        let children = self
            .child_time
            .remove(&(span.trace_id, span.span_id))
            .unwrap_or(0);
        let minute = span.start_ns.div_euclid(NS_PER_MINUTE);
        let bucket = self
            .minutes
            .entry((minute, span.path_id))
            .or_insert_with(Bucket::new);
        bucket.calls += 1;
        bucket.total_ns += span.duration_ns;
        bucket.self_ns += (span.duration_ns - children).max(0);
        bucket.min_ns = bucket.min_ns.min(span.duration_ns);
        bucket.max_ns = bucket.max_ns.max(span.duration_ns);
        bucket.first_ns = bucket.first_ns.min(span.start_ns);
        bucket.last_ns = bucket.last_ns.max(span.start_ns);
        bucket.sketch.add(span.duration_ns.max(1) as f64);
        if let Some(error_type) = span.error_type_id {
            bucket.errors += 1;
            *self
                .errors
                .entry((minute, span.path_id, error_type))
                .or_insert(0) += 1;
        }
    }

    /// Merges the batch into `rollup_minute` and `rollup_hour` and clears it.
    pub fn flush(&mut self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let mut hours: FxHashMap<(i64, i64), Bucket> = FxHashMap::default();
        for ((minute, path), bucket) in self.minutes.drain() {
            hours
                .entry((minute.div_euclid(60), path))
                .or_insert_with(Bucket::new)
                .merge(&bucket);
            merge_row(tx, "rollup_minute", minute, path, bucket)?;
        }
        for ((hour, path), bucket) in hours {
            merge_row(tx, "rollup_hour", hour, path, bucket)?;
        }
        for (table, divisor) in [("rollup_errors_minute", 1), ("rollup_errors_hour", 60)] {
            let mut upsert = tx.prepare_cached(&format!(
                "INSERT INTO {table} (bucket, path_id, error_type_id, count) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (bucket, path_id, error_type_id) DO UPDATE SET count = count + excluded.count"
            ))?;
            for (&(minute, path, error_type), &count) in &self.errors {
                upsert.execute(params![minute.div_euclid(divisor), path, error_type, count])?;
            }
        }
        self.errors.clear();
        if self.child_time.len() > MAX_PENDING_CHILD_SUMS {
            self.child_time.clear();
        }
        Ok(())
    }
}

fn merge_row(
    tx: &Transaction<'_>,
    table: &str,
    bucket_id: i64,
    path: i64,
    mut bucket: Bucket,
) -> Result<(), StoreError> {
    let existing = tx
        .prepare_cached(&format!(
            "SELECT calls, errors, total_ns, self_ns, min_ns, max_ns, first_ns, last_ns, sketch
             FROM {table} WHERE bucket = ?1 AND path_id = ?2"
        ))?
        .query_row(params![bucket_id, path], |row| {
            Ok(Bucket {
                calls: row.get(0)?,
                errors: row.get(1)?,
                total_ns: row.get(2)?,
                self_ns: row.get(3)?,
                min_ns: row.get(4)?,
                max_ns: row.get(5)?,
                first_ns: row.get(6)?,
                last_ns: row.get(7)?,
                sketch: decode_sketch(&row.get::<_, Vec<u8>>(8)?),
            })
        })
        .optional()?;
    if let Some(previous) = existing {
        bucket.merge(&previous);
    }
    tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} (bucket, path_id, calls, errors, total_ns, self_ns, min_ns,
           max_ns, first_ns, last_ns, sketch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(params![
        bucket_id,
        path,
        bucket.calls,
        bucket.errors,
        bucket.total_ns,
        bucket.self_ns,
        bucket.min_ns,
        bucket.max_ns,
        bucket.first_ns,
        bucket.last_ns,
        encode_sketch(&bucket.sketch)
    ])?;
    Ok(())
}
