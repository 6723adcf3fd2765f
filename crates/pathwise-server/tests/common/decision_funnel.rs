//! Decision traces whose funnel is known by construction, written through the real SQLite
//! store in the last hour.
//!
//! Six `pick` traces, each a `pick` root (kind trace) with steps (kind step) in this order:
//! `search` (10 ms), `filter` (4 ms), `rank` (2 ms).
//! - Four complete: `filter` evaluates five candidates against `category`, `price` and
//!   `rating`, in that order: a ✓✓✓ (qualified), b ✗✓✓, c ✓✗✗, d ✓✓✗, e ✓✓✓ (qualified);
//!   `rank` ranks the two qualified ones.
//! - One fails in `filter` (no evaluations, no `rank`).
//! - One fails in `search` (no later step).
//!
//! So: `search` reached by 6 traces, 1 failing there; `filter` by 5 (1 dropped before it,
//! 1 failing); `rank` by 4 (1 dropped). Candidates into `filter`: 4 × 5 = 20, qualified 8;
//! `category` rejects 4 (first to reject 4), `price` 4 (first 4), `rating` 8 (first 4): the
//! flows add up, 4 + 4 + 4 + 8 = 20. `rank`: 8 in, 8 out.
//!
//! Decoys the funnel must not count: a `pick-v2` trace (its name contains `pick`) and a
//! `pick` trace started three days ago (outside the default 24 h window).

use std::sync::Arc;

use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::Backend;
use serde_json::{Value, json};

const MS: i64 = 1_000_000;

/// How the fixture's traces end.
#[derive(Clone, Copy, PartialEq)]
enum Ending {
    Complete,
    FailInFilter,
    FailInSearch,
}

/// The fixture's traces, for the tests that look them up.
pub struct FunnelTraces {
    /// Newest first, as the list shows them.
    pub complete: Vec<String>,
    pub failed_in_filter: String,
    pub failed_in_search: String,
}

fn evaluations() -> Value {
    let item = |id: &str, verdicts: [bool; 3], qualified: bool| {
        let filters: Vec<Value> = ["category", "price", "rating"]
            .iter()
            .zip(verdicts)
            .map(|(name, passed)| json!({"name": name, "passed": passed, "detail": ""}))
            .collect();
        json!({"item_id": id, "item_data": {}, "filters": filters, "qualified": qualified, "reasoning": null})
    };
    json!({"evaluations": [
        item("a", [true, true, true], true),
        item("b", [false, true, true], false),
        item("c", [true, false, false], false),
        item("d", [true, true, false], false),
        item("e", [true, true, true], true),
    ]})
}

fn span(trace: TraceId, start_ms: i64, id: u64, name: &str, at_ms: i64, dur_ms: i64) -> SpanRecord {
    let kind = if id == 1 {
        SpanKind::Trace
    } else {
        SpanKind::Step
    };
    let mut s = SpanRecord::new(trace, id, u64::from(id != 1), name.to_string().into(), kind);
    s.start_ns = (start_ms + at_ms) * MS;
    s.duration_ns = (dur_ms * MS) as u64;
    s
}

fn failed(mut s: SpanRecord) -> SpanRecord {
    s.status = Status::Error;
    s
}

/// One trace named `name`, started `age_ms` ago.
fn trace(name: &str, age_ms: u64, seed: u128, ending: Ending) -> (TraceId, Vec<Record>) {
    let start_ms = super::db_queries::now_ms() - age_ms;
    let id = TraceId::from_parts(start_ms, seed);
    let start_ms = start_ms as i64;
    let root = span(id, start_ms, 1, name, 0, 20);
    let search = span(id, start_ms, 2, "search", 0, 10);
    let mut spans = match ending {
        Ending::FailInSearch => vec![failed(root), failed(search)],
        Ending::FailInFilter => vec![
            failed(root),
            search,
            failed(span(id, start_ms, 3, "filter", 10, 4)),
        ],
        Ending::Complete => {
            let mut filter = span(id, start_ms, 3, "filter", 10, 4);
            filter.details_mut().metadata = Some(evaluations().to_string());
            let mut rank = span(id, start_ms, 4, "rank", 14, 2);
            rank.details_mut().metadata = Some(
                json!({"ranking": [{"rank": 1, "item_id": "a"}, {"rank": 2, "item_id": "e"}]})
                    .to_string(),
            );
            vec![root, search, filter, rank]
        }
    };
    spans.sort_by_key(|s| s.span_id);
    (id, spans.into_iter().map(Record::Span).collect())
}

/// Writes the fixture into `backend`.
pub fn write(backend: &Arc<dyn Backend>) -> FunnelTraces {
    let mut records = Vec::new();
    let mut add = |name: &str, age_ms: u64, seed: u128, ending: Ending| {
        let (id, mut spans) = trace(name, age_ms, seed, ending);
        records.append(&mut spans);
        id.to_string()
    };
    // Ages in minutes: the newest first.
    let complete: Vec<String> = (0..4)
        .map(|i| {
            add(
                "pick",
                (5 + i) * 60_000,
                100 + u128::from(i),
                Ending::Complete,
            )
        })
        .collect();
    let failed_in_filter = add("pick", 20 * 60_000, 110, Ending::FailInFilter);
    let failed_in_search = add("pick", 30 * 60_000, 111, Ending::FailInSearch);
    add("pick-v2", 2 * 60_000, 120, Ending::FailInSearch);
    add("pick", 3 * 86_400_000, 121, Ending::FailInSearch);
    backend.writer().unwrap().write_records(&records).unwrap();
    FunnelTraces {
        complete,
        failed_in_filter,
        failed_in_search,
    }
}

/// A server over the funnel fixture (written once per test binary) and its ids.
pub fn server() -> &'static (tempfile::TempDir, String, FunnelTraces) {
    static SERVER: std::sync::OnceLock<(tempfile::TempDir, String, FunnelTraces)> =
        std::sync::OnceLock::new();
    SERVER.get_or_init(|| super::server_over("funnel.db", write))
}
