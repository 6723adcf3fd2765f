//! [`RollupStore`] over SQLite: rollups joined with the path and name dictionaries, raw recent
//! spans by the primary-key range of the window's trace ids, and attribute values with JSON1.

use std::collections::{BTreeMap, HashMap};

use pathwise_model::TraceId;
use pathwise_store::rollup::{Bucket, Cover};
use pathwise_store::{
    AttrValueKey, GroupAttributeSum, PathErrors, PathInfo, PathRollup, RollupKey, RollupStore,
    StoreError, TraceSpan, Window,
};
use rusqlite::{Connection, params};

use crate::Error;
use crate::read::SqliteReader;
use crate::rollup::{BUCKET_COLUMNS, bucket_from_row};

/// The six bucket bounds of a cover, in the order the queries below bind them.
fn cover_params(window: Window) -> [i64; 6] {
    let c = Cover::of(window);
    [
        c.hours.0,
        c.hours.1,
        c.minutes[0].0,
        c.minutes[0].1,
        c.minutes[1].0,
        c.minutes[1].1,
    ]
}

/// The smallest trace id of a trace started at `ns` (trace ids begin with the start time).
pub(crate) fn trace_bound(ns: i64) -> [u8; 16] {
    let ms = if ns == i64::MAX {
        u64::MAX >> 16
    } else {
        (ns.max(0) / 1_000_000) as u64
    };
    TraceId::lower_bound(ms).to_bytes()
}

/// Every path by dictionary id: (info, parent id).
fn path_names(conn: &Connection) -> Result<HashMap<i64, (PathInfo, i64)>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.parent_id, n.name, p.depth, p.path FROM paths p JOIN names n ON n.id = p.name_id",
    )?;
    let rows = stmt.query_map([], |row| {
        let info = PathInfo {
            node: row.get(2)?,
            depth: row.get(3)?,
            text: row.get(4)?,
            parent: None,
        };
        Ok((row.get::<_, i64>(0)?, (info, row.get::<_, i64>(1)?)))
    })?;
    let mut names: HashMap<i64, (PathInfo, i64)> = rows.collect::<Result<_, _>>()?;
    let parents: Vec<(i64, Option<String>)> = names
        .iter()
        .map(|(id, (_, parent))| (*id, names.get(parent).map(|(p, _)| p.text.clone())))
        .collect();
    for (id, parent) in parents {
        if let Some((info, _)) = names.get_mut(&id) {
            info.parent = parent;
        }
    }
    Ok(names)
}

/// Merged figures per path id over the window.
fn path_buckets(conn: &Connection, window: Window) -> Result<HashMap<i64, Bucket>, Error> {
    let sql = format!(
        "SELECT path_id, {BUCKET_COLUMNS} FROM rollup_hour WHERE bucket >= ?1 AND bucket < ?2
         UNION ALL SELECT path_id, {BUCKET_COLUMNS} FROM rollup_minute
           WHERE (bucket >= ?3 AND bucket < ?4) OR (bucket >= ?5 AND bucket < ?6)"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(cover_params(window))?;
    let mut merged: HashMap<i64, Bucket> = HashMap::new();
    while let Some(row) = rows.next()? {
        let bucket = bucket_from_row(row, 1)?;
        merged.entry(row.get(0)?).or_default().merge(&bucket);
    }
    Ok(merged)
}

impl SqliteReader {
    fn path_rollups_sql(&self, window: Window) -> Result<Vec<PathRollup>, Error> {
        let mut names = path_names(self.conn())?;
        let buckets = path_buckets(self.conn(), window)?;
        Ok(buckets
            .into_iter()
            .filter_map(|(id, bucket)| {
                let (path, _) = names.remove(&id)?;
                Some(PathRollup { path, bucket })
            })
            .collect())
    }

    /// `SELECT name, minute, bucket columns` of the minute rollups in `?1..?2` and `condition`.
    fn minute_select(condition: &str) -> String {
        format!(
            "SELECT n.name, r.bucket, {} FROM rollup_minute r
               JOIN paths p ON p.id = r.path_id JOIN names n ON n.id = p.name_id
             WHERE r.bucket >= ?1 AND r.bucket < ?2{condition} ORDER BY r.bucket",
            BUCKET_COLUMNS
                .split(", ")
                .map(|c| format!("r.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    fn node_minutes_sql(
        &self,
        window: Window,
    ) -> Result<HashMap<String, Vec<(i64, Bucket)>>, Error> {
        let (from, to) = Cover::of(window).minute_span();
        let mut stmt = self.conn().prepare_cached(&Self::minute_select(""))?;
        let mut rows = stmt.query(params![from, to])?;
        let mut out: HashMap<String, Vec<(i64, Bucket)>> = HashMap::new();
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            add_minute(
                out.entry(name).or_default(),
                row.get(1)?,
                bucket_from_row(row, 2)?,
            );
        }
        Ok(out)
    }

    fn minutes_of_sql(
        &self,
        window: Window,
        of: RollupKey<'_>,
    ) -> Result<Vec<(i64, Bucket)>, Error> {
        let (from, to) = Cover::of(window).minute_span();
        let (condition, key) = match of {
            RollupKey::Node(name) => (" AND n.name = ?3", name),
            RollupKey::Path(path) => (" AND p.path = ?3", path),
        };
        let mut stmt = self
            .conn()
            .prepare_cached(&Self::minute_select(condition))?;
        let mut rows = stmt.query(params![from, to, key])?;
        let mut series = Vec::new();
        while let Some(row) = rows.next()? {
            add_minute(&mut series, row.get(1)?, bucket_from_row(row, 2)?);
        }
        Ok(series)
    }

    fn path_errors_sql(&self, window: Window) -> Result<Vec<PathErrors>, Error> {
        let sql = "SELECT p.path, n.name, sum(e.count) FROM (
                SELECT path_id, error_type_id, count FROM rollup_errors_hour WHERE bucket >= ?1 AND bucket < ?2
                UNION ALL SELECT path_id, error_type_id, count FROM rollup_errors_minute
                  WHERE (bucket >= ?3 AND bucket < ?4) OR (bucket >= ?5 AND bucket < ?6)
            ) e JOIN names n ON n.id = e.error_type_id JOIN paths p ON p.id = e.path_id
            GROUP BY e.path_id, n.name ORDER BY 3 DESC";
        let mut stmt = self.conn().prepare_cached(sql)?;
        let rows = stmt.query_map(cover_params(window), |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        Ok(PathErrors::group(rows.collect::<Result<Vec<_>, _>>()?))
    }

    fn recent_spans_sql(
        &self,
        node: &str,
        window: Window,
        limit: usize,
    ) -> Result<Vec<(i64, bool)>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT s.duration_ns, s.status FROM spans s
             WHERE s.trace_id >= ?1 AND s.trace_id < ?2
               AND s.name_id = (SELECT id FROM names WHERE name = ?3)
             LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                trace_bound(window.since_ns),
                trace_bound(window.until_ns),
                node,
                limit.min(i64::MAX as usize) as i64
            ],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? != 0)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn node_groups_sql(&self, window: Window) -> Result<BTreeMap<String, String>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT n.name, g.name FROM (SELECT DISTINCT name_id, group_id FROM spans
                                         WHERE trace_id >= ?1 AND trace_id < ?2
                                           AND group_id IS NOT NULL) s
             JOIN names n ON n.id = s.name_id JOIN names g ON g.id = s.group_id",
        )?;
        let rows = stmt.query_map(
            params![trace_bound(window.since_ns), trace_bound(window.until_ns)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn attribute_keys_sql(
        &self,
        window: Window,
        sample: usize,
    ) -> Result<Vec<(String, i64, i64)>, Error> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT j.key, count(*), sum(s.status)
             FROM (SELECT trace_id, span_id, status FROM spans
                   WHERE trace_id >= ?1 AND trace_id < ?2 ORDER BY trace_id DESC LIMIT ?3) s
             JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id,
                  json_each(d.attrs) j
             WHERE d.attrs IS NOT NULL
             GROUP BY j.key ORDER BY 2 DESC, 1 LIMIT 500",
        )?;
        let rows = stmt.query_map(
            params![
                trace_bound(window.since_ns),
                trace_bound(window.until_ns),
                sample.min(i64::MAX as usize) as i64
            ],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn attribute_values_sql(
        &self,
        window: Window,
        key: &str,
        limit: usize,
    ) -> Result<Vec<(AttrValueKey, i64, i64)>, Error> {
        // `json_each` compares the key as a bound value: a JSON path label (`$."key"`) has no
        // escapes, so a name with a quote or backslash could not be asked for that way.
        let mut stmt = self.conn().prepare_cached(
            "SELECT a.type, a.value, count(*), sum(s.status)
             FROM spans s JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id,
                  json_each(d.attrs) a
             WHERE s.trace_id >= ?2 AND s.trace_id < ?3 AND a.key = ?1
             GROUP BY 1, 2 ORDER BY 3 DESC LIMIT ?4",
        )?;
        let mut rows = stmt.query(params![
            key,
            trace_bound(window.since_ns),
            trace_bound(window.until_ns),
            limit.min(i64::MAX as usize) as i64
        ])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            let value = match kind.as_str() {
                "integer" | "real" => AttrValueKey::Number(row.get(1)?),
                _ => AttrValueKey::Text(match row.get::<_, rusqlite::types::Value>(1)? {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Null => "null".into(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    rusqlite::types::Value::Blob(_) => "(blob)".into(),
                }),
            };
            out.push((value, row.get(2)?, row.get(3)?));
        }
        Ok(out)
    }
}

impl SqliteReader {
    fn group_attribute_sums_sql(
        &self,
        window: Window,
        group_prefix: &str,
        key: &str,
        sample: usize,
    ) -> Result<Vec<GroupAttributeSum>, Error> {
        // Only numbers count, a key written twice once. A JSON path (`$."key"`) has no escapes
        // in its label: a key with a quote or backslash is looked up by `json_each` instead
        // (see `attribute_values_sql`). The newest spans first, by the primary key read
        // backwards, so the scan stops at `sample`.
        let plain_key = !key.contains(['"', '\\']);
        let number = if plain_key {
            "CASE WHEN json_type(d.attrs, ?4) IN ('integer', 'real')
                  THEN json_extract(d.attrs, ?4) END"
        } else {
            "(SELECT a.value FROM json_each(d.attrs) a
              WHERE a.key = ?4 AND a.type IN ('integer', 'real') LIMIT 1)"
        };
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT n.name, g.name, count(*), count(q.number), total(q.number) FROM (
                SELECT s.name_id, s.group_id, {number} AS number
                FROM spans s
                LEFT JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id
                WHERE s.trace_id >= ?1 AND s.trace_id < ?2
                  AND s.group_id IN (SELECT id FROM names WHERE substr(name, 1, length(?3)) = ?3)
                ORDER BY s.trace_id DESC, s.span_id DESC LIMIT ?5
             ) q
             JOIN names n ON n.id = q.name_id JOIN names g ON g.id = q.group_id
             GROUP BY q.name_id, q.group_id"
        ))?;
        let lookup = if plain_key {
            format!("$.\"{key}\"")
        } else {
            key.to_string()
        };
        let rows = stmt.query_map(
            params![
                trace_bound(window.since_ns),
                trace_bound(window.until_ns),
                group_prefix,
                lookup,
                sample.min(i64::MAX as usize) as i64
            ],
            |row| {
                Ok(GroupAttributeSum {
                    node: row.get(0)?,
                    group: row.get(1)?,
                    spans: row.get(2)?,
                    with_value: row.get(3)?,
                    sum: row.get(4)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Adds a path's bucket of `minute` to a series in minute order (paths of one node merged).
fn add_minute(series: &mut Vec<(i64, Bucket)>, minute: i64, bucket: Bucket) {
    match series.last_mut() {
        Some((m, b)) if *m == minute => b.merge(&bucket),
        _ => series.push((minute, bucket)),
    }
}

impl RollupStore for SqliteReader {
    fn path_rollups(&self, window: Window) -> Result<Vec<PathRollup>, StoreError> {
        Ok(self.path_rollups_sql(window)?)
    }

    fn node_minutes(
        &self,
        window: Window,
    ) -> Result<HashMap<String, Vec<(i64, Bucket)>>, StoreError> {
        Ok(self.node_minutes_sql(window)?)
    }

    fn minutes_of(
        &self,
        window: Window,
        of: RollupKey<'_>,
    ) -> Result<Vec<(i64, Bucket)>, StoreError> {
        Ok(self.minutes_of_sql(window, of)?)
    }

    fn path_errors(&self, window: Window) -> Result<Vec<PathErrors>, StoreError> {
        Ok(self.path_errors_sql(window)?)
    }

    fn recent_spans(
        &self,
        node: &str,
        window: Window,
        limit: usize,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        Ok(self.recent_spans_sql(node, window, limit)?)
    }

    fn node_groups(&self, window: Window) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self.node_groups_sql(window)?)
    }

    fn attribute_values(
        &self,
        window: Window,
        key: &str,
        limit: usize,
    ) -> Result<Vec<(AttrValueKey, i64, i64)>, StoreError> {
        Ok(self.attribute_values_sql(window, key, limit)?)
    }

    fn attribute_keys(
        &self,
        window: Window,
        sample: usize,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        Ok(self.attribute_keys_sql(window, sample)?)
    }

    fn group_attribute_sums(
        &self,
        window: Window,
        group_prefix: &str,
        key: &str,
        sample: usize,
    ) -> Result<Vec<GroupAttributeSum>, StoreError> {
        Ok(self.group_attribute_sums_sql(window, group_prefix, key, sample)?)
    }

    fn slow_spans(
        &self,
        window: Window,
        group_prefix: &str,
        min_duration_ns: i64,
        limit: usize,
    ) -> Result<Vec<TraceSpan>, StoreError> {
        let bounds = (trace_bound(window.since_ns), trace_bound(window.until_ns));
        Ok(crate::spans::slow_in_groups(
            self.conn(),
            bounds,
            group_prefix,
            min_duration_ns,
            limit,
        )?)
    }
}
