//! Traces to compare, every row of their comparison known by construction, written through the
//! real SQLite store in the last minutes before now.
//!
//! A `checkout` (completed, 100 ms): validate 10, legacy_check 5, fetch ×3 (10 each), charge
//! 10, enrich 20 and the decision step choose (10, output `{"pick":"B1"}`).
//! B `checkout` (completed, 105 ms): validate 10, fetch ×2, charge 10 failing, enrich 40,
//! choose (10, output `{"pick":"B7"}`) and cache_lookup 3.
//!
//! Their comparison: checkout and validate unchanged, legacy_check only in A, fetch faster in
//! B (20 ms against 30, 2 occurrences against 3), charge's status changed, enrich slower (×2),
//! choose changed (its output), cache_lookup only in B.
//!
//! The typical `checkout` for A: the completed ones other than A are B (105 ms) and single
//! spans of 40, 60, 80, 90, 150 and 200 ms: seven, median 90 ms, so the 90 ms one. Decoys of
//! 10 ms that would move the median if counted: a failed `checkout`, a completed
//! `checkout-v2`, a completed `checkout` started 8 days ago, and a running `checkout` (no
//! duration). `lonely` has no other trace of its name.

use std::sync::Arc;

use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceEvent, TraceId};
use pathwise_store::Backend;
use serde_json::json;

const MS: i64 = 1_000_000;

/// The ids of the fixture's traces.
pub struct CompareTraces {
    pub a: String,
    pub b: String,
    /// The typical `checkout` for A (90 ms).
    pub typical: String,
    /// A trace without another of its name.
    pub lonely: String,
}

/// A span of `trace` started `at_ms` after `start_ms`.
fn span(
    trace: TraceId,
    start_ms: u64,
    id: u64,
    parent: u64,
    name: &str,
    at_ms: i64,
    dur_ms: i64,
) -> SpanRecord {
    let mut s = SpanRecord::new(
        trace,
        id,
        parent,
        name.to_string().into(),
        SpanKind::Function,
    );
    s.start_ns = start_ms as i64 * MS + at_ms * MS;
    s.duration_ns = (dur_ms * MS) as u64;
    s
}

fn failed(mut s: SpanRecord) -> SpanRecord {
    s.status = Status::Error;
    s
}

fn step(mut s: SpanRecord, pick: &str) -> SpanRecord {
    s.kind = SpanKind::Step;
    let details = s.details_mut();
    details.input = Some(json!({"candidates": ["B1", "B7"]}).to_string());
    details.output = Some(json!({"pick": pick}).to_string());
    details.reasoning = Some("cheapest first".into());
    s
}

/// A trace of one root span.
fn root(name: &str, age_ms: u64, dur_ms: i64, seed: u128, error: bool) -> (TraceId, Record) {
    let start_ms = super::db_queries::now_ms() - age_ms;
    let trace = TraceId::from_parts(start_ms, seed);
    let s = span(trace, start_ms, 1, 0, name, 0, dur_ms);
    (trace, Record::Span(if error { failed(s) } else { s }))
}

/// Writes the fixture into `backend`.
pub fn write(backend: &Arc<dyn Backend>) -> CompareTraces {
    let now_ms = super::db_queries::now_ms();
    let (start_a, start_b) = (now_ms - 120_000, now_ms - 60_000);
    let (a, b) = (
        TraceId::from_parts(start_a, 1),
        TraceId::from_parts(start_b, 2),
    );
    let mut records: Vec<Record> = [
        span(a, start_a, 1, 0, "checkout", 0, 100),
        span(a, start_a, 2, 1, "validate", 0, 10),
        span(a, start_a, 3, 1, "legacy_check", 10, 5),
        span(a, start_a, 4, 1, "fetch", 15, 10),
        span(a, start_a, 5, 1, "fetch", 25, 10),
        span(a, start_a, 6, 1, "fetch", 35, 10),
        span(a, start_a, 7, 1, "charge", 45, 10),
        span(a, start_a, 8, 1, "enrich", 55, 20),
        step(span(a, start_a, 9, 1, "choose", 75, 10), "B1"),
        span(b, start_b, 1, 0, "checkout", 0, 105),
        span(b, start_b, 2, 1, "validate", 0, 10),
        span(b, start_b, 3, 1, "fetch", 10, 10),
        span(b, start_b, 4, 1, "fetch", 20, 10),
        failed(span(b, start_b, 5, 1, "charge", 30, 10)),
        span(b, start_b, 6, 1, "enrich", 40, 40),
        step(span(b, start_b, 7, 1, "choose", 80, 10), "B7"),
        span(b, start_b, 8, 1, "cache_lookup", 90, 3),
    ]
    .into_iter()
    .map(Record::Span)
    .collect();
    let mut typical = None;
    for (i, ms) in [40, 60, 80, 90, 150, 200].into_iter().enumerate() {
        let (id, record) = root(
            "checkout",
            200_000 + i as u64 * 1_000,
            ms,
            10 + i as u128,
            false,
        );
        if ms == 90 {
            typical = Some(id);
        }
        records.push(record);
    }
    records.push(root("checkout", 300_000, 10, 20, true).1);
    records.push(root("checkout-v2", 301_000, 10, 21, false).1);
    records.push(root("checkout", 8 * 86_400_000, 10, 22, false).1);
    let (lonely, record) = root("lonely", 302_000, 10, 23, false);
    records.push(record);
    records.push(Record::Trace(TraceEvent::Started {
        trace_id: TraceId::from_parts(now_ms - 1_000, 24),
        name: "checkout".into(),
        start_ns: (now_ms - 1_000) as i64 * MS,
        metadata: None,
    }));
    backend.writer().unwrap().write_records(&records).unwrap();
    CompareTraces {
        a: a.to_string(),
        b: b.to_string(),
        typical: typical.unwrap().to_string(),
        lonely: lonely.to_string(),
    }
}

/// A server over the comparison fixture (written once per test binary) and its ids.
pub fn server() -> &'static (tempfile::TempDir, String, CompareTraces) {
    static SERVER: std::sync::OnceLock<(tempfile::TempDir, String, CompareTraces)> =
        std::sync::OnceLock::new();
    SERVER.get_or_init(|| super::server_over("compare.db", write))
}
