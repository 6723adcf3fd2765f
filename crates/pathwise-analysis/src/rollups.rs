//! Reading rollups for a window: whole hours from `rollup_hour`, the ragged edges from
//! `rollup_minute`, merged per path.

use rusqlite::{Connection, params};
use rustc_hash::FxHashMap;

use pathwise_store::sqlite::rollup::{Bucket, decode_sketch};

use crate::{AnalysisError, Window};

const NS_PER_MINUTE: i64 = 60_000_000_000;

/// Minute and hour bucket ranges that cover a window exactly once.
struct Ranges {
    hours: (i64, i64),
    minutes: [(i64, i64); 2],
}

fn ranges(window: Window) -> Ranges {
    let first_minute = window.since_ns.div_euclid(NS_PER_MINUTE);
    let end_minute = if window.until_ns == i64::MAX {
        i64::MAX / NS_PER_MINUTE
    } else {
        (window.until_ns + NS_PER_MINUTE - 1).div_euclid(NS_PER_MINUTE)
    };
    let first_hour = (first_minute + 59).div_euclid(60);
    let end_hour = end_minute.div_euclid(60);
    if first_hour >= end_hour {
        return Ranges {
            hours: (0, 0),
            minutes: [(first_minute, end_minute), (0, 0)],
        };
    }
    Ranges {
        hours: (first_hour, end_hour),
        minutes: [(first_minute, first_hour * 60), (end_hour * 60, end_minute)],
    }
}

fn bucket_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Bucket> {
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
    })
}

/// Per node (span name) and minute: figures merged over the node's paths, oldest first. For
/// trends, where each point is one minute.
pub fn load_node_minutes(
    conn: &Connection,
    window: Window,
) -> Result<FxHashMap<String, Vec<(i64, Bucket)>>, AnalysisError> {
    let r = ranges(Window {
        since_ns: window.since_ns,
        until_ns: window.until_ns,
    });
    let (from, to) = (
        r.minutes[0].0,
        if r.hours.1 > r.hours.0 {
            r.minutes[1].1
        } else {
            r.minutes[0].1
        },
    );
    let mut stmt = conn.prepare_cached(
        "SELECT n.name, r.bucket, r.calls, r.errors, r.total_ns, r.self_ns, r.min_ns, r.max_ns,
                r.first_ns, r.last_ns, r.sketch
         FROM rollup_minute r JOIN paths p ON p.id = r.path_id JOIN names n ON n.id = p.name_id
         WHERE r.bucket >= ?1 AND r.bucket < ?2 ORDER BY r.bucket",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    let mut out: FxHashMap<String, Vec<(i64, Bucket)>> = FxHashMap::default();
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let minute: i64 = row.get(1)?;
        let bucket = bucket_from_row(row, 2)?;
        let series = out.entry(name).or_default();
        match series.last_mut() {
            Some((m, b)) if *m == minute => b.merge(&bucket),
            _ => series.push((minute, bucket)),
        }
    }
    Ok(out)
}

/// Merged figures per path id over the window.
pub fn load_paths(
    conn: &Connection,
    window: Window,
) -> Result<FxHashMap<i64, Bucket>, AnalysisError> {
    let r = ranges(window);
    let mut merged: FxHashMap<i64, Bucket> = FxHashMap::default();
    let columns =
        "path_id, calls, errors, total_ns, self_ns, min_ns, max_ns, first_ns, last_ns, sketch";
    let sql = format!(
        "SELECT {columns} FROM rollup_hour WHERE bucket >= ?1 AND bucket < ?2
         UNION ALL SELECT {columns} FROM rollup_minute
           WHERE (bucket >= ?3 AND bucket < ?4) OR (bucket >= ?5 AND bucket < ?6)"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![
        r.hours.0,
        r.hours.1,
        r.minutes[0].0,
        r.minutes[0].1,
        r.minutes[1].0,
        r.minutes[1].1
    ])?;
    while let Some(row) = rows.next()? {
        let bucket = bucket_from_row(row, 1)?;
        match merged.entry(row.get(0)?) {
            std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().merge(&bucket),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(bucket);
            }
        }
    }
    Ok(merged)
}

/// Error counts per (path id, error type name) over the window.
pub fn load_errors(
    conn: &Connection,
    window: Window,
) -> Result<FxHashMap<i64, Vec<(String, i64)>>, AnalysisError> {
    let r = ranges(window);
    let sql = "SELECT e.path_id, n.name, sum(e.count) FROM (
            SELECT path_id, error_type_id, count FROM rollup_errors_hour WHERE bucket >= ?1 AND bucket < ?2
            UNION ALL SELECT path_id, error_type_id, count FROM rollup_errors_minute
              WHERE (bucket >= ?3 AND bucket < ?4) OR (bucket >= ?5 AND bucket < ?6)
        ) e JOIN names n ON n.id = e.error_type_id
        GROUP BY e.path_id, n.name ORDER BY 3 DESC";
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params![
        r.hours.0,
        r.hours.1,
        r.minutes[0].0,
        r.minutes[0].1,
        r.minutes[1].0,
        r.minutes[1].1
    ])?;
    let mut out: FxHashMap<i64, Vec<(String, i64)>> = FxHashMap::default();
    while let Some(row) = rows.next()? {
        out.entry(row.get(0)?)
            .or_default()
            .push((row.get(1)?, row.get(2)?));
    }
    Ok(out)
}

/// A path's place in the tree.
pub struct PathInfo {
    pub parent: i64,
    pub node: String,
    pub depth: i64,
    pub text: String,
}

/// Every path by id.
pub fn load_path_names(conn: &Connection) -> Result<FxHashMap<i64, PathInfo>, AnalysisError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.parent_id, n.name, p.depth, p.path FROM paths p JOIN names n ON n.id = p.name_id",
    )?;
    let rows = stmt.query_map([], |row| {
        let info = PathInfo {
            parent: row.get(1)?,
            node: row.get(2)?,
            depth: row.get(3)?,
            text: row.get(4)?,
        };
        Ok((row.get(0)?, info))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Merged figures per node (span name) over the window.
pub fn load_node_buckets(
    conn: &Connection,
    window: Window,
) -> Result<FxHashMap<String, Bucket>, AnalysisError> {
    let names = load_path_names(conn)?;
    let mut out: FxHashMap<String, Bucket> = FxHashMap::default();
    for (path, bucket) in load_paths(conn, window)? {
        let Some(info) = names.get(&path) else {
            continue;
        };
        match out.get_mut(&info.node) {
            Some(b) => b.merge(&bucket),
            None => {
                out.insert(info.node.clone(), bucket);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_minutes_cover_the_window_once() {
        let m = NS_PER_MINUTE;
        // 00:30 → 03:10: minutes 30..60, hours 1..3, minutes 180..190.
        let r = ranges(Window {
            since_ns: 30 * m,
            until_ns: 190 * m,
        });
        assert_eq!(r.hours, (1, 3));
        assert_eq!(r.minutes, [(30, 60), (180, 190)]);
        // Within one hour: minutes only.
        let r = ranges(Window {
            since_ns: 5 * m + 1,
            until_ns: 20 * m - 1,
        });
        assert_eq!((r.hours, r.minutes[0]), ((0, 0), (5, 20)));
    }
}
