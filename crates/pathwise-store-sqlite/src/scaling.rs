//! [`ScalingStore`] over SQLite: the spans of one name by the primary-key range of the window's
//! trace ids, newest first, with their attributes or their input decompressed by `pw_text`.

use pathwise_store::{NodePayload, PayloadColumn, ScalingStore, StoreError, Window};
use rusqlite::params;

use crate::Error;
use crate::analytics::trace_bound;
use crate::read::SqliteReader;

impl SqliteReader {
    fn node_payloads_sql(
        &self,
        node: &str,
        column: PayloadColumn,
        window: Window,
        limit: usize,
    ) -> Result<Vec<NodePayload>, Error> {
        // The column is one of two fixed names, never caller text.
        let column = match column {
            PayloadColumn::Attrs => "attrs",
            PayloadColumn::Input => "input",
        };
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT s.start_ns, s.duration_ns, s.status, pw_text(d.{column})
             FROM spans s JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id
             WHERE s.trace_id >= ?1 AND s.trace_id < ?2
               AND s.name_id = (SELECT id FROM names WHERE name = ?3)
               AND d.{column} IS NOT NULL
             ORDER BY s.trace_id DESC, s.span_id DESC LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![
                trace_bound(window.since_ns),
                trace_bound(window.until_ns),
                node,
                limit.min(i64::MAX as usize) as i64
            ],
            |row| {
                Ok(NodePayload {
                    start_ns: row.get(0)?,
                    duration_ns: row.get(1)?,
                    failed: row.get::<_, i64>(2)? != 0,
                    json: row.get(3)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl ScalingStore for SqliteReader {
    fn node_payloads(
        &self,
        node: &str,
        column: PayloadColumn,
        window: Window,
        limit: usize,
    ) -> Result<Vec<NodePayload>, StoreError> {
        Ok(self.node_payloads_sql(node, column, window, limit)?)
    }
}
