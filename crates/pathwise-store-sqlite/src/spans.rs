//! Span queries of the read side.

use pathwise_model::{SpanKind, Status, TraceId};
use rusqlite::{Connection, Row, params};

use super::read::json_column;
use crate::Error;
use pathwise_store::{SpanRow, SpanSkeleton, TraceSpan};

/// The columns [`span_row`] reads, in its order.
macro_rules! span_columns {
    () => {
        "s.span_id, s.parent_id, n.name, p.path, g.name, s.kind,
        s.start_ns, s.duration_ns, s.status, e.name, d.error_message, pw_text(d.error_chain),
        d.attrs, pw_text(d.input), pw_text(d.output), pw_text(d.reasoning), pw_text(d.metadata)"
    };
}

/// Where they come from: a span with its dictionary names and details.
macro_rules! span_sources {
    () => {
        "FROM spans s
    JOIN names n ON n.id = s.name_id
    LEFT JOIN paths p ON p.id = s.path_id
    LEFT JOIN names g ON g.id = s.group_id
    LEFT JOIN names e ON e.id = s.error_type_id
    LEFT JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id"
    };
}

const SPAN_SELECT: &str = concat!("SELECT ", span_columns!(), " ", span_sources!());

/// [`SPAN_SELECT`] with the trace id after the span's columns.
const TRACE_SPAN_SELECT: &str =
    concat!("SELECT ", span_columns!(), ", s.trace_id ", span_sources!());

/// Column of the trace id in [`TRACE_SPAN_SELECT`].
const TRACE_ID_COLUMN: usize = 17;

fn span_row(row: &Row<'_>) -> rusqlite::Result<SpanRow> {
    Ok(SpanRow {
        span_id: row.get::<_, i64>(0)? as u64,
        parent_id: row.get::<_, i64>(1)? as u64,
        name: row.get(2)?,
        path: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
        group: row.get(4)?,
        kind: SpanKind::from_code(row.get(5)?).unwrap_or(SpanKind::Span),
        start_ns: row.get(6)?,
        duration_ns: row.get(7)?,
        status: if row.get::<_, i64>(8)? == 0 {
            Status::Ok
        } else {
            Status::Error
        },
        error_type: row.get(9)?,
        error_message: row.get(10)?,
        error_chain: json_column(row.get(11)?),
        attrs: json_column(row.get(12)?),
        input: json_column(row.get(13)?),
        output: json_column(row.get(14)?),
        reasoning: row.get(15)?,
        metadata: json_column(row.get(16)?),
    })
}

/// Spans of a trace (children of `parent` only, when given), in start order.
pub(super) fn children(
    conn: &Connection,
    id: TraceId,
    parent: Option<u64>,
    limit: usize,
) -> Result<Vec<SpanRow>, Error> {
    let parent_clause = if parent.is_some() {
        "AND s.parent_id = ?2"
    } else {
        "AND ?2 IS NULL"
    };
    let sql = format!(
        "{SPAN_SELECT} WHERE s.trace_id = ?1 {parent_clause} ORDER BY s.start_ns, s.span_id LIMIT ?3"
    );
    let limit = limit.min(i64::MAX as usize) as i64;
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![id.to_bytes(), parent.map(|p| p as i64), limit],
        span_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The given spans of a trace, in start order. Ids travel as one JSON array parameter.
pub(super) fn by_id(
    conn: &Connection,
    id: TraceId,
    span_ids: &[u64],
) -> Result<Vec<SpanRow>, Error> {
    // Span ids are stored as i64 (the same 64 bits); JSON carries them as such.
    let ids: Vec<i64> = span_ids.iter().map(|&s| s as i64).collect();
    let json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    let sql = format!(
        "{SPAN_SELECT} WHERE s.trace_id = ?1 AND s.span_id IN (SELECT value FROM json_each(?2))
         ORDER BY s.start_ns, s.span_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![id.to_bytes(), json], span_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every span of a trace, skeleton only: the primary key makes this one range scan.
pub(super) fn skeleton(conn: &Connection, id: TraceId) -> Result<Vec<SpanSkeleton>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT span_id, parent_id, start_ns, duration_ns, status FROM spans
         WHERE trace_id = ?1 ORDER BY start_ns, span_id",
    )?;
    let rows = stmt.query_map([id.to_bytes()], |row| {
        Ok(SpanSkeleton {
            span_id: row.get::<_, i64>(0)? as u64,
            parent_id: row.get::<_, i64>(1)? as u64,
            start_ns: row.get(2)?,
            duration_ns: row.get(3)?,
            failed: row.get::<_, i64>(4)? != 0,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ids of the spans of a trace whose name, group or error type contains `text` (any case),
/// in start order. The names that match are found first (the dictionary is small), then the
/// trace's primary-key range is read once.
pub(super) fn find(conn: &Connection, id: TraceId, text: &str) -> Result<Vec<u64>, Error> {
    let mut stmt = conn.prepare_cached(
        "WITH hit(id) AS (SELECT id FROM names WHERE instr(lower(name), lower(?2)) > 0)
         SELECT span_id FROM spans
         WHERE trace_id = ?1 AND (name_id IN hit OR group_id IN hit OR error_type_id IN hit)
         ORDER BY start_ns, span_id",
    )?;
    let rows = stmt.query_map(params![id.to_bytes(), text], |row| {
        Ok(row.get::<_, i64>(0)? as u64)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Spans of traces with ids in `[from, to)` whose group starts with `group_prefix` and that
/// lasted at least `min_duration_ns`: the newest traces first (the primary key read backwards,
/// so the scan stops at `limit`).
pub(super) fn slow_in_groups(
    conn: &Connection,
    (from, to): ([u8; 16], [u8; 16]),
    group_prefix: &str,
    min_duration_ns: i64,
    limit: usize,
) -> Result<Vec<TraceSpan>, Error> {
    let sql = format!(
        "{TRACE_SPAN_SELECT} WHERE s.trace_id >= ?1 AND s.trace_id < ?2 AND s.duration_ns >= ?3
           AND s.group_id IN (SELECT id FROM names WHERE substr(name, 1, length(?4)) = ?4)
         ORDER BY s.trace_id DESC, s.span_id DESC LIMIT ?5"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let limit = limit.min(i64::MAX as usize) as i64;
    let rows = stmt.query_map(
        params![from, to, min_duration_ns, group_prefix, limit],
        |row| {
            let id: Vec<u8> = row.get(TRACE_ID_COLUMN)?;
            Ok(TraceSpan {
                trace_id: TraceId::from_bytes(&id).unwrap_or_default(),
                span: span_row(row)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}
