//! Merging a batch's rollups into `rollup_minute`/`rollup_hour` and the error tables, in the
//! span transaction, so rollups and spans never disagree.

use pathwise_store::rollup::{Bucket, Rollups, decode_sketch, encode_sketch, hours_of};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::Error;

/// Merges the accumulated batch into the stored rollups and clears it. Paths and error types
/// are keyed by their dictionary ids.
pub(crate) fn flush(rollups: &mut Rollups<i64>, tx: &Transaction<'_>) -> Result<(), Error> {
    let minutes = rollups.take_minutes();
    for ((hour, path), bucket) in hours_of(&minutes) {
        merge_row(tx, "rollup_hour", hour, path, bucket)?;
    }
    for ((minute, path), bucket) in minutes {
        merge_row(tx, "rollup_minute", minute, path, bucket)?;
    }
    let errors = rollups.take_errors();
    for (table, divisor) in [("rollup_errors_minute", 1), ("rollup_errors_hour", 60)] {
        let mut upsert = tx.prepare_cached(&format!(
            "INSERT INTO {table} (bucket, path_id, error_type_id, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (bucket, path_id, error_type_id) DO UPDATE SET count = count + excluded.count"
        ))?;
        for (&(minute, path, error_type), &count) in &errors {
            upsert.execute(params![minute.div_euclid(divisor), path, error_type, count])?;
        }
    }
    Ok(())
}

/// The columns of a stored bucket, in [`bucket_from_row`] order.
pub(crate) const BUCKET_COLUMNS: &str =
    "calls, errors, total_ns, self_ns, min_ns, max_ns, first_ns, last_ns, sketch, critical_ns";

/// Reads [`BUCKET_COLUMNS`] starting at column `first`.
pub(crate) fn bucket_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Bucket> {
    Ok(Bucket {
        calls: row.get(first)?,
        errors: row.get(first + 1)?,
        total_ns: row.get(first + 2)?,
        self_ns: row.get(first + 3)?,
        min_ns: row.get(first + 4)?,
        max_ns: row.get(first + 5)?,
        first_ns: row.get(first + 6)?,
        last_ns: row.get(first + 7)?,
        sketch: decode_sketch(&row.get::<_, Vec<u8>>(first + 8)?),
        critical_ns: row.get(first + 9)?,
    })
}

fn merge_row(
    tx: &Transaction<'_>,
    table: &str,
    bucket_id: i64,
    path: i64,
    mut bucket: Bucket,
) -> Result<(), Error> {
    let existing = tx
        .prepare_cached(&format!(
            "SELECT {BUCKET_COLUMNS} FROM {table} WHERE bucket = ?1 AND path_id = ?2"
        ))?
        .query_row(params![bucket_id, path], |row| bucket_from_row(row, 0))
        .optional()?;
    if let Some(previous) = existing {
        bucket.merge(&previous);
    }
    tx.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} (bucket, path_id, {BUCKET_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
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
        encode_sketch(&bucket.sketch),
        bucket.critical_ns
    ])?;
    Ok(())
}
