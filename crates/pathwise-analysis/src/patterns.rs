//! Error patterns by attribute: for one span attribute, the error rate per value, flagging the
//! values whose rate is far above the overall one. Reads raw spans of the window (attributes
//! are not rolled up), bounded by the primary-key range of the window's trace ids.

use pathwise_model::TraceId;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::{AnalysisError, Window};

/// Error figures of one attribute value.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AttributeValueStats {
    pub value: String,
    pub spans: i64,
    pub errors: i64,
    pub error_rate: f64,
    /// The rate is at least twice the overall rate (and there are enough spans to say so).
    pub flagged: bool,
}

/// The answer for one attribute.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ErrorPatterns {
    pub attribute: String,
    pub spans: i64,
    pub errors: i64,
    pub overall_error_rate: f64,
    /// Most spans first; at most 100 values.
    pub values: Vec<AttributeValueStats>,
}

/// Spans a value needs before it can be flagged.
const MIN_SPANS_TO_FLAG: i64 = 5;

/// Error rate per value of attribute `attribute` for spans of traces started in the window.
/// Numeric values are grouped in power-of-two buckets (`"64–127"`), so lengths and counts
/// form patterns too.
pub fn error_patterns(
    conn: &Connection,
    window: Window,
    attribute: &str,
) -> Result<ErrorPatterns, AnalysisError> {
    if attribute.is_empty() || attribute.len() > 200 || attribute.contains('"') {
        return Err(AnalysisError::Invalid(
            "attribute must be 1–200 characters without quotes".into(),
        ));
    }
    let json_path = format!("$.\"{attribute}\"");
    let since = TraceId::lower_bound((window.since_ns.max(0) / 1_000_000) as u64).to_bytes();
    let until_ms = if window.until_ns == i64::MAX {
        u64::MAX >> 16
    } else {
        (window.until_ns.max(0) / 1_000_000) as u64
    };
    let until = TraceId::lower_bound(until_ms).to_bytes();
    let mut stmt = conn.prepare_cached(
        "SELECT json_type(d.attrs, ?1), json_extract(d.attrs, ?1), count(*), sum(s.status)
         FROM spans s JOIN span_details d ON d.trace_id = s.trace_id AND d.span_id = s.span_id
         WHERE s.trace_id >= ?2 AND s.trace_id < ?3 AND json_type(d.attrs, ?1) IS NOT NULL
         GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10000",
    )?;
    let mut grouped: Vec<(String, i64, i64)> = Vec::new();
    let mut rows = stmt.query(params![json_path, since, until])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        let value = match kind.as_str() {
            "integer" | "real" => bucket(row.get::<_, f64>(1)?),
            _ => row.get::<_, rusqlite::types::Value>(1).map(|v| match v {
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })?,
        };
        let (count, failed): (i64, i64) = (row.get(2)?, row.get(3)?);
        match grouped.iter_mut().find(|(v, _, _)| *v == value) {
            Some(entry) => {
                entry.1 += count;
                entry.2 += failed;
            }
            None => grouped.push((value, count, failed)),
        }
    }
    grouped.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    grouped.truncate(100);
    let raw = grouped;
    let (spans, errors) = raw.iter().fold((0, 0), |(s, e), (_, n, f)| (s + n, e + f));
    let overall = if spans > 0 {
        errors as f64 / spans as f64
    } else {
        0.0
    };
    let values = raw
        .into_iter()
        .map(|(value, n, failed)| {
            let rate = failed as f64 / n as f64;
            AttributeValueStats {
                value,
                spans: n,
                errors: failed,
                error_rate: rate,
                flagged: n >= MIN_SPANS_TO_FLAG
                    && failed > 0
                    && rate >= 2.0 * overall
                    && rate > overall,
            }
        })
        .collect();
    Ok(ErrorPatterns {
        attribute: attribute.to_string(),
        spans,
        errors,
        overall_error_rate: overall,
        values,
    })
}

/// Numbers are grouped in power-of-two buckets: `100` → `"64–127"`; below 1 → `"<1"`.
fn bucket(value: f64) -> String {
    if !value.is_finite() || value < 1.0 {
        return if value.is_finite() {
            "<1".into()
        } else {
            value.to_string()
        };
    }
    let exp = (value.log2().floor() as u32).min(62);
    format!("{}–{}", 1u64 << exp, (1u64 << (exp + 1)) - 1)
}
