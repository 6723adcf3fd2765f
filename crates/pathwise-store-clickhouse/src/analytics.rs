//! [`RollupStore`] over ClickHouse: partial rollup rows merged by path (their DDSketches merge
//! exactly), raw recent spans by the trace-id range of a window, attribute values with the
//! `visitParam` JSON functions.

use std::collections::{BTreeMap, HashMap};

use pathwise_model::{Status, TraceId};
use pathwise_store::rollup::{Bucket, Cover};
use pathwise_store::{
    AttrValueKey, GroupAttributeSum, PathErrors, PathInfo, PathRollup, RollupKey, RollupStore,
    StoreError, TraceSpan, Window,
};

use crate::read::{ClickHouseReader, bound, bucket, span_row};
use crate::rows::*;

/// A key as serde_json writes it inside the attributes' JSON text, which is what the
/// `visitParam` functions match (so a quote or backslash in a name matches too).
fn written_key(key: &str) -> Result<String, StoreError> {
    let written =
        serde_json::to_string(key).map_err(|e| StoreError::InvalidQuery(e.to_string()))?;
    Ok(written[1..written.len() - 1].to_string())
}

impl RollupStore for ClickHouseReader {
    fn path_rollups(&self, window: Window) -> Result<Vec<PathRollup>, StoreError> {
        let mut merged: HashMap<String, PathRollup> = HashMap::new();
        for row in self.rollup_rows(window)? {
            let b = bucket(&row);
            match merged.get_mut(&row.path) {
                Some(r) => r.bucket.merge(&b),
                None => {
                    let path = PathInfo {
                        text: row.path.clone(),
                        node: row.node,
                        parent: (!row.parent.is_empty()).then_some(row.parent),
                        depth: row.depth,
                    };
                    merged.insert(row.path, PathRollup { path, bucket: b });
                }
            }
        }
        Ok(merged.into_values().collect())
    }

    fn node_minutes(
        &self,
        window: Window,
    ) -> Result<HashMap<String, Vec<(i64, Bucket)>>, StoreError> {
        let (from, to) = Cover::of(window).minute_span();
        let rows: Vec<RollupRowCh> = self.fetch(&format!(
            "SELECT {ROLLUP_COLUMNS} FROM {} WHERE bucket >= {from} AND bucket < {to}",
            self.conn.table("rollup_minute")
        ))?;
        let mut by_node: HashMap<String, BTreeMap<i64, Bucket>> = HashMap::new();
        for row in &rows {
            by_node
                .entry(row.node.clone())
                .or_default()
                .entry(row.bucket)
                .or_default()
                .merge(&bucket(row));
        }
        Ok(by_node
            .into_iter()
            .map(|(node, minutes)| (node, minutes.into_iter().collect()))
            .collect())
    }

    fn minutes_of(
        &self,
        window: Window,
        of: RollupKey<'_>,
    ) -> Result<Vec<(i64, Bucket)>, StoreError> {
        let (from, to) = Cover::of(window).minute_span();
        let (column, key) = match of {
            RollupKey::Node(name) => ("node", name),
            RollupKey::Path(path) => ("path", path),
        };
        let rows: Vec<RollupRowCh> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT {ROLLUP_COLUMNS} FROM {} WHERE bucket >= {from} AND bucket < {to} AND {column} = ?",
                    self.conn.table("rollup_minute")
                ))
                .bind(key)
                .fetch_all(),
        )?;
        let mut minutes: BTreeMap<i64, Bucket> = BTreeMap::new();
        for row in &rows {
            minutes.entry(row.bucket).or_default().merge(&bucket(row));
        }
        Ok(minutes.into_iter().collect())
    }

    fn path_errors(&self, window: Window) -> Result<Vec<PathErrors>, StoreError> {
        let (from, to) = Cover::of(window).minute_span();
        let rows: Vec<(String, String, i64)> = self.fetch(&format!(
            "SELECT path, error_type, sum(count) AS n FROM {}
             WHERE minute >= {from} AND minute < {to} GROUP BY path, error_type ORDER BY n DESC",
            self.conn.table("rollup_errors")
        ))?;
        Ok(PathErrors::group(rows))
    }

    fn recent_spans(
        &self,
        node: &str,
        window: Window,
        limit: usize,
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        let rows: Vec<(i64, u8)> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT duration_ns, status FROM {}
                     WHERE trace_id >= {} AND trace_id < {} AND name = ? LIMIT {}",
                    self.conn.table("spans"),
                    bound(window.since_ns),
                    bound(window.until_ns),
                    limit.min(10_000_000)
                ))
                .bind(node)
                .fetch_all(),
        )?;
        Ok(rows
            .into_iter()
            .map(|(d, s)| (d, s == Status::Error as u8))
            .collect())
    }

    fn node_groups(&self, window: Window) -> Result<BTreeMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = self.fetch(&format!(
            "SELECT DISTINCT name, assumeNotNull(group_name) FROM {}
             WHERE trace_id >= {} AND trace_id < {} AND isNotNull(group_name)",
            self.conn.table("spans"),
            bound(window.since_ns),
            bound(window.until_ns)
        ))?;
        Ok(rows.into_iter().collect())
    }

    fn attribute_values(
        &self,
        window: Window,
        key: &str,
        limit: usize,
    ) -> Result<Vec<(AttrValueKey, i64, i64)>, StoreError> {
        // Attributes are a flat JSON object written without spaces, which the visitParam
        // functions read directly (they exist in every ClickHouse version). They match the
        // field name as it is written in the JSON text, so the key is asked for in the same
        // escaped form serde_json wrote it in: a quote, backslash or control character in a
        // name then matches too.
        let name = written_key(key)?;
        let name = name.as_str();
        let rows: Vec<(String, u64, u64)> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT visitParamExtractRaw(assumeNotNull(attrs), ?) AS v, count() AS n,
                            countIf(status = 1) FROM {}
                     WHERE trace_id >= {} AND trace_id < {} AND isNotNull(attrs)
                       AND visitParamHas(assumeNotNull(attrs), ?)
                     GROUP BY v ORDER BY n DESC LIMIT {}",
                    self.conn.table("spans"),
                    bound(window.since_ns),
                    bound(window.until_ns),
                    limit.min(1_000_000)
                ))
                .bind(name)
                .bind(name)
                .fetch_all(),
        )?;
        Ok(rows
            .into_iter()
            .map(|(raw, n, failed)| {
                let value = match serde_json::from_str::<serde_json::Value>(&raw) {
                    Ok(serde_json::Value::Number(x)) => {
                        AttrValueKey::Number(x.as_f64().unwrap_or(0.0))
                    }
                    Ok(serde_json::Value::String(s)) => AttrValueKey::Text(s),
                    // SQLite's JSON1 reads booleans as 1 and 0: the same text here.
                    Ok(serde_json::Value::Bool(b)) => AttrValueKey::Text(u8::from(b).to_string()),
                    Ok(serde_json::Value::Null) => AttrValueKey::Text("null".into()),
                    _ => AttrValueKey::Text(raw),
                };
                (value, n as i64, failed as i64)
            })
            .collect())
    }

    fn attribute_keys(
        &self,
        window: Window,
        sample: usize,
    ) -> Result<Vec<(String, i64, i64)>, StoreError> {
        // The oldest servers have no function listing a JSON object's keys: read the sample's
        // attribute objects and count their keys here.
        let rows: Vec<(String, u8)> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT assumeNotNull(attrs), status FROM {}
                     WHERE trace_id >= {} AND trace_id < {} AND isNotNull(attrs)
                     ORDER BY trace_id DESC LIMIT {}",
                    self.conn.table("spans"),
                    bound(window.since_ns),
                    bound(window.until_ns),
                    sample.min(1_000_000)
                ))
                .fetch_all(),
        )?;
        let mut keys: HashMap<String, (i64, i64)> = HashMap::new();
        for (attrs, status) in rows {
            let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&attrs) else {
                continue;
            };
            for key in map.keys() {
                let entry = keys.entry(key.clone()).or_insert((0, 0));
                entry.0 += 1;
                entry.1 += i64::from(status == Status::Error as u8);
            }
        }
        let mut keys: Vec<(String, i64, i64)> =
            keys.into_iter().map(|(k, (n, e))| (k, n, e)).collect();
        keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        keys.truncate(500);
        Ok(keys)
    }

    fn group_attribute_sums(
        &self,
        window: Window,
        group_prefix: &str,
        key: &str,
        sample: usize,
    ) -> Result<Vec<GroupAttributeSum>, StoreError> {
        // Only numbers count, as in SQLite: a JSON number is the only value that starts with a
        // digit or a minus. (A `?` in the text would be taken for a parameter.)
        let rows: Vec<(String, String, u64, u64, f64)> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT name, grp, count(), countIf(numeric), sumIf(toFloat64OrZero(raw), numeric)
                     FROM (SELECT name, assumeNotNull(group_name) AS grp,
                                  visitParamExtractRaw(ifNull(attrs, ''), ?) AS raw,
                                  match(raw, '^[-0-9]') AS numeric
                           FROM {}
                           WHERE trace_id >= {} AND trace_id < {} AND isNotNull(group_name)
                             AND substring(assumeNotNull(group_name), 1, length(?)) = ?
                           ORDER BY trace_id DESC, span_id DESC LIMIT {})
                     GROUP BY name, grp",
                    self.conn.table("spans"),
                    bound(window.since_ns),
                    bound(window.until_ns),
                    sample.min(10_000_000)
                ))
                .bind(written_key(key)?)
                .bind(group_prefix)
                .bind(group_prefix)
                .fetch_all(),
        )?;
        Ok(rows
            .into_iter()
            .map(|(node, group, spans, with_value, sum)| GroupAttributeSum {
                node,
                group,
                spans: spans as i64,
                with_value: with_value as i64,
                sum,
            })
            .collect())
    }

    fn slow_spans(
        &self,
        window: Window,
        group_prefix: &str,
        min_duration_ns: i64,
        limit: usize,
    ) -> Result<Vec<TraceSpan>, StoreError> {
        let rows: Vec<SpanRowCh> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT {SPAN_COLUMNS} FROM {}
                     WHERE trace_id >= {} AND trace_id < {} AND duration_ns >= {min_duration_ns}
                       AND isNotNull(group_name)
                       AND substring(assumeNotNull(group_name), 1, length(?)) = ?
                     ORDER BY trace_id DESC, span_id DESC LIMIT {}",
                    self.conn.table("spans"),
                    bound(window.since_ns),
                    bound(window.until_ns),
                    limit.min(1_000_000)
                ))
                .bind(group_prefix)
                .bind(group_prefix)
                .fetch_all(),
        )?;
        Ok(rows
            .into_iter()
            .map(|row| TraceSpan {
                trace_id: TraceId::from_bytes(&row.trace_id).unwrap_or_default(),
                span: span_row(row),
            })
            .collect())
    }
}
