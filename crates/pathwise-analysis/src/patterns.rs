//! Error patterns by attribute: for one span attribute, the error rate per value, flagging the
//! values whose rate is far above the overall one. Reads the attribute values of the window's
//! raw spans (attributes are not rolled up) through the store.

use pathwise_store::{AttrValueKey, Reader, Window};
use serde::Serialize;

use crate::AnalysisError;

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
    store: &dyn Reader,
    window: Window,
    attribute: &str,
) -> Result<ErrorPatterns, AnalysisError> {
    if attribute.is_empty() || attribute.chars().count() > 200 {
        return Err(AnalysisError::Invalid(
            "attribute must be 1–200 characters".into(),
        ));
    }
    let mut grouped: Vec<(String, i64, i64)> = Vec::new();
    for (value, count, failed) in store.attribute_values(window, attribute, 10_000)? {
        let value = match value {
            AttrValueKey::Number(n) => bucket(n),
            AttrValueKey::Text(t) => t,
        };
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

/// An attribute key found on the window's spans.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AttributeKey {
    pub key: String,
    /// Spans carrying it, in the sample read.
    pub spans: i64,
    /// Failed spans among them.
    pub errors: i64,
}

/// Spans read to find which attributes exist: a bounded sample of the window's most recent.
const KEY_SAMPLE_SPANS: usize = 20_000;

/// Keys Pathwise itself writes, which say nothing about the application's inputs.
fn is_bookkeeping(key: &str) -> bool {
    key.starts_with("pathwise.")
        || key.starts_with("otel.")
        || matches!(
            key,
            "error.type_path" | "cancelled" | "exception.stacktrace" | "memory.rss_delta_bytes"
        )
}

/// The application attributes on the window's spans (from a sample of its most recent 20,000
/// spans), those on failed spans first, then by how many spans carry them — the order a user
/// would try them in as error-pattern dimensions.
pub fn attribute_keys(
    store: &dyn Reader,
    window: Window,
) -> Result<Vec<AttributeKey>, AnalysisError> {
    let mut keys: Vec<AttributeKey> = store
        .attribute_keys(window, KEY_SAMPLE_SPANS)?
        .into_iter()
        .filter(|(key, _, _)| !is_bookkeeping(key))
        .map(|(key, spans, errors)| AttributeKey { key, spans, errors })
        .collect();
    keys.sort_by(|a, b| {
        (b.errors > 0)
            .cmp(&(a.errors > 0))
            .then(b.spans.cmp(&a.spans))
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(keys)
}

/// Error patterns for the `limit` most promising attributes of the window (see
/// [`attribute_keys`]); attributes on no failed span are skipped: they cannot show a pattern.
pub fn top_error_patterns(
    store: &dyn Reader,
    window: Window,
    limit: usize,
) -> Result<Vec<ErrorPatterns>, AnalysisError> {
    attribute_keys(store, window)?
        .into_iter()
        .filter(|k| k.errors > 0)
        .take(limit)
        .map(|k| error_patterns(store, window, &k.key))
        .collect()
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
