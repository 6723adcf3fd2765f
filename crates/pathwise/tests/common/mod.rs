//! Fixtures shared by the SDK's integration tests.
#![allow(dead_code)]

use pathwise_model::{Record, SpanRecord, TraceEvent};

/// The span records among `records`.
pub fn spans(records: &[Record]) -> Vec<&SpanRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s),
            Record::Trace(_) | Record::Resource(_) => None,
        })
        .collect()
}

/// The one span named `name`; panics with the list of names otherwise.
pub fn one<'a>(records: &'a [Record], name: &str) -> &'a SpanRecord {
    let found: Vec<_> = spans(records)
        .into_iter()
        .filter(|s| s.name == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one span {name:?}, names: {:?}",
        spans(records)
            .iter()
            .map(|s| s.name.as_ref())
            .collect::<Vec<_>>()
    );
    found[0]
}

/// Trace-start events among `records`.
pub fn trace_starts(records: &[Record]) -> usize {
    records
        .iter()
        .filter(|r| matches!(r, Record::Trace(TraceEvent::Started { .. })))
        .count()
}

/// A fresh database path in a temp dir that lives as long as the returned guard.
pub fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("pathwise.db");
    (dir, db)
}
