//! One big trace for the waterfall's tools, every answer known by construction, written
//! through the real SQLite store a minute before now.
//!
//! `Reindex.all` (group `indexer`, 0–1000 ms) runs three `Reindex.shard`s one after another
//! (group `indexer`; 100–350, 400–650 and 700–950 ms), each of 1,000 `Reindex.doc`s (group
//! `store`, 0.2 ms every 0.25 ms from the shard's start): 3,004 spans. The page's first 2,000
//! hold the root, the shards and the first shard's documents only.
//!
//! Hidden below documents, three spans for search: `Cache.needle` (group `cache`) under the
//! first shard's 4th document (loaded but collapsed); another `Cache.needle`, failed with
//! `NeedleError`, under the third shard's 501st document (not loaded); and `Lookup.hay`
//! (group `needles`) under the second shard's first document (not loaded). So `needle`
//! matches three spans, `NEEDLEERROR` one. 3,007 spans in all.

use std::sync::Arc;

use pathwise_model::{ErrorInfo, Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::Backend;

const MS: i64 = 1_000_000;
const US: i64 = 1_000;

/// Spans in the trace.
pub const SPANS: usize = 3_007;
/// Documents per shard.
pub const DOCS: u64 = 1_000;

/// The ids the tests look for.
pub struct WaterfallTrace {
    pub trace: String,
    /// Span ids of the three shards.
    pub shards: [u64; 3],
    /// The loaded-but-collapsed needle, the failed one deep in the third shard, the hay.
    pub needle: u64,
    pub failed_needle: u64,
    pub hay: u64,
    /// The document above the failed needle.
    pub failed_needle_doc: u64,
}

pub const ROOT: u64 = 1;

/// Span id of document `doc` of shard `shard`.
pub fn doc_id(shard: u64, doc: u64) -> u64 {
    1_000 + shard * DOCS + doc
}

/// Start of shard `shard`, from the trace's start.
pub fn shard_start_ms(shard: u64) -> i64 {
    100 + 300 * shard as i64
}

fn span(
    trace: TraceId,
    t0: i64,
    (id, parent): (u64, u64),
    (name, group): (&str, &str),
    start_ns: i64,
    duration_ns: i64,
) -> SpanRecord {
    let mut s = SpanRecord::new(
        trace,
        id,
        parent,
        name.to_string().into(),
        SpanKind::Function,
    );
    s.group = Some(group.to_string().into());
    s.start_ns = t0 + start_ns;
    s.duration_ns = duration_ns as u64;
    s
}

/// Writes the trace into `backend`.
pub fn write(backend: &Arc<dyn Backend>) -> WaterfallTrace {
    let start_ms = super::db_queries::now_ms() - 60_000;
    let trace = TraceId::from_parts(start_ms, 0x57a7e);
    let t0 = start_ms as i64 * MS;
    let mut records = vec![Record::Span(span(
        trace,
        t0,
        (ROOT, 0),
        ("Reindex.all", "indexer"),
        0,
        1_000 * MS,
    ))];
    let shards = [10, 11, 12];
    for (shard, &shard_id) in shards.iter().enumerate() {
        let shard = shard as u64;
        let start = shard_start_ms(shard) * MS;
        records.push(Record::Span(span(
            trace,
            t0,
            (shard_id, ROOT),
            ("Reindex.shard", "indexer"),
            start,
            250 * MS,
        )));
        for doc in 0..DOCS {
            records.push(Record::Span(span(
                trace,
                t0,
                (doc_id(shard, doc), shard_id),
                ("Reindex.doc", "store"),
                start + doc as i64 * 250 * US,
                200 * US,
            )));
        }
    }
    // Children start 10 µs into their document and last 50 µs.
    let below = |doc: u64, id: u64, what: (&str, &str)| {
        let shard = (doc - 1_000) / DOCS;
        let at = shard_start_ms(shard) * MS + ((doc - 1_000) % DOCS) as i64 * 250 * US;
        span(trace, t0, (id, doc), what, at + 10 * US, 50 * US)
    };
    let (needle, failed_needle, hay) = (9_001, 9_002, 9_003);
    let failed_needle_doc = doc_id(2, 500);
    records.push(Record::Span(below(
        doc_id(0, 3),
        needle,
        ("Cache.needle", "cache"),
    )));
    let mut failing = below(failed_needle_doc, failed_needle, ("Cache.needle", "cache"));
    failing.status = Status::Error;
    failing.details_mut().error = Some(ErrorInfo::new("NeedleError", "found a needle"));
    records.push(Record::Span(failing));
    records.push(Record::Span(below(
        doc_id(1, 0),
        hay,
        ("Lookup.hay", "needles"),
    )));
    assert_eq!(records.len(), SPANS);
    backend.writer().unwrap().write_records(&records).unwrap();
    WaterfallTrace {
        trace: trace.to_hex(),
        shards,
        needle,
        failed_needle,
        hay,
        failed_needle_doc,
    }
}

/// A server over the waterfall fixture (written once per test binary).
pub fn server() -> &'static (tempfile::TempDir, String, WaterfallTrace) {
    static SERVER: std::sync::OnceLock<(tempfile::TempDir, String, WaterfallTrace)> =
        std::sync::OnceLock::new();
    SERVER.get_or_init(|| super::server_over("waterfall.db", write))
}
