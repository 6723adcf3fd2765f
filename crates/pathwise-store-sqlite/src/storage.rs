//! The file's size and what it holds, and giving free pages back to the file system. New
//! databases are created with `auto_vacuum = INCREMENTAL`, so after retention deletes old data
//! an incremental vacuum shrinks the file; a file made before that needs one full `VACUUM`
//! (`pathwise db vacuum --full`) to switch.

use std::path::Path;

use pathwise_model::TraceId;
use pathwise_store::{Reclaimed, StorageUse};
use rusqlite::{Connection, OptionalExtension};

use crate::Error;

/// Tables whose rows `pathwise db stats` counts, in the order it lists them.
const COUNTED: [&str; 8] = [
    "traces",
    "spans",
    "span_details",
    "rollup_minute",
    "rollup_hour",
    "resource_samples",
    "pipeline_stats",
    "alert_history",
];

fn pragma(conn: &Connection, name: &str) -> Result<u64, Error> {
    let value: i64 = conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))?;
    Ok(value.max(0) as u64)
}

/// The bytes of the database file and of its write-ahead log.
fn file_bytes(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    [path.to_path_buf(), wal.into()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Measures the database at `path` through `conn`; with `count_rows`, also the rows of the
/// main tables (a scan of each: for `pathwise db stats`, not for a signal read every few
/// seconds).
pub(crate) fn storage_use(
    conn: &Connection,
    path: &Path,
    count_rows: bool,
) -> Result<StorageUse, Error> {
    let page_size = pragma(conn, "page_size")?;
    let pages = pragma(conn, "page_count")?;
    let free = pragma(conn, "freelist_count")?;
    let (oldest, newest): (Option<Vec<u8>>, Option<Vec<u8>>) = conn.query_row(
        "SELECT min(trace_id), max(trace_id) FROM traces",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let start_ms = |id: Option<Vec<u8>>| {
        id.and_then(|bytes| TraceId::from_bytes(&bytes))
            .map(TraceId::unix_ms)
    };
    let mut tables = Vec::new();
    if count_rows {
        for table in COUNTED {
            let exists: Option<i64> = conn
                .query_row(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |row| row.get(0),
                )
                .optional()?;
            if exists.is_some() {
                let rows: i64 =
                    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                        row.get(0)
                    })?;
                tables.push((table.to_string(), rows.max(0) as u64));
            }
        }
        tables.sort_by_key(|t| std::cmp::Reverse(t.1));
    }
    let reclaim = match pragma(conn, "auto_vacuum")? {
        2 => "incremental",
        1 => "automatic",
        _ => "full vacuum only (pathwise db vacuum --full turns incremental on)",
    };
    Ok(StorageUse {
        file_bytes: file_bytes(path).max(pages * page_size),
        used_bytes: pages.saturating_sub(free) * page_size,
        free_bytes: free * page_size,
        oldest_trace_ms: start_ms(oldest),
        newest_trace_ms: start_ms(newest),
        tables,
        reclaim: reclaim.into(),
    })
}

/// Gives free pages back to the file system: an incremental vacuum (where the file allows
/// it), or with `full` a whole `VACUUM` that also turns incremental vacuum on; then a
/// checkpoint that truncates the write-ahead log, which is where the pages moved to.
pub(crate) fn reclaim(conn: &Connection, path: &Path, full: bool) -> Result<Reclaimed, Error> {
    let bytes_before = file_bytes(path);
    if full {
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?;
    } else if pragma(conn, "auto_vacuum")? == 2 {
        // Each step returns rows; running the statement to its end frees every page.
        let mut vacuum = conn.prepare("PRAGMA incremental_vacuum")?;
        let mut rows = vacuum.query([])?;
        while rows.next()?.is_some() {}
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(Reclaimed {
        bytes_before,
        bytes_after: file_bytes(path),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_vacuums_incrementally_and_an_empty_one_measures_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let store = crate::SqliteStore::open(&path).unwrap();
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let usage = storage_use(&conn, &path, true).unwrap();
        assert_eq!(usage.reclaim, "incremental");
        assert_eq!((usage.oldest_trace_ms, usage.newest_trace_ms), (None, None));
        assert!(usage.file_bytes > 0 && usage.used_bytes <= usage.file_bytes);
        assert!(usage.tables.iter().any(|(t, n)| t == "spans" && *n == 0));
    }
}
