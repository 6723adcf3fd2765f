//! [`ScalingStore`] over ClickHouse: the spans of one name by the trace-id range of the window,
//! newest first, with their attributes or input text. Like the other window scans of spans it
//! skips `FINAL` (the writer stores each span once).

use pathwise_model::Status;
use pathwise_store::{NodePayload, PayloadColumn, ScalingStore, StoreError, Window};

use crate::read::{ClickHouseReader, bound};

impl ScalingStore for ClickHouseReader {
    fn node_payloads(
        &self,
        node: &str,
        column: PayloadColumn,
        window: Window,
        limit: usize,
    ) -> Result<Vec<NodePayload>, StoreError> {
        // The column is one of two fixed names, never caller text.
        let column = match column {
            PayloadColumn::Attrs => "attrs",
            PayloadColumn::Input => "input",
        };
        let rows: Vec<(i64, i64, u8, String)> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT start_ns, duration_ns, status, assumeNotNull({column}) FROM {}
                     WHERE trace_id >= {} AND trace_id < {} AND name = ? AND isNotNull({column})
                     ORDER BY trace_id DESC, span_id DESC LIMIT {}",
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
            .map(|(start_ns, duration_ns, status, json)| NodePayload {
                start_ns,
                duration_ns,
                failed: status == Status::Error as u8,
                json,
            })
            .collect())
    }
}
