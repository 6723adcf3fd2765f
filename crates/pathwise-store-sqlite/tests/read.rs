//! The read side against a real SQLite file.

use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{ReadStore, Store};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

const MS: i64 = 1_000_000;

/// `traces` traces of one root and two children each; every third trace's last child fails.
fn fixture(traces: u64) -> (tempfile::TempDir, SqliteReader) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("read.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let base_ms = 1_700_000_000_000u64;
    let mut records = Vec::new();
    for t in 0..traces {
        let trace = TraceId::from_parts(base_ms + t, t as u128);
        let start = (base_ms + t) as i64 * MS;
        for (span_id, parent, offset, duration) in
            [(1, 0, 0, 10 * (t as i64 + 1)), (2, 1, 1, 3), (3, 1, 5, 4)]
        {
            let mut span = SpanRecord::new(
                trace,
                span_id,
                parent,
                format!("op{span_id}").into(),
                SpanKind::Span,
            );
            span.start_ns = start + offset * MS;
            span.duration_ns = (duration * MS) as u64;
            if span_id == 3 && t % 3 == 0 {
                span.status = Status::Error;
            }
            records.push(Record::Span(span));
        }
    }
    store.write_records(&records).unwrap();
    (dir, SqliteReader::open(&db).unwrap())
}

#[test]
fn skeleton_and_selected_spans() {
    let (_dir, reader) = fixture(3);
    let trace = TraceId::from_parts(1_700_000_000_000, 0);
    let skeleton = reader.span_skeleton(trace).unwrap();
    assert_eq!(
        skeleton.iter().map(|s| s.span_id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(skeleton[2].failed && !skeleton[1].failed);
    let chosen = reader.spans_by_id(trace, &[1, 3]).unwrap();
    assert_eq!(
        chosen.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        vec!["op1", "op3"]
    );
    let children = reader.spans(trace, Some(1), 10).unwrap();
    assert_eq!(children.len(), 2);
    assert!(reader.spans_by_id(trace, &[]).unwrap().is_empty());
    assert!(reader.span_skeleton(TraceId(12345)).unwrap().is_empty());
}

#[test]
fn stats_and_error_rates_match_hand_counts() {
    let (_dir, reader) = fixture(20);
    let stats = reader
        .trace_stats(&pathwise_store::TraceFilter::default())
        .unwrap();
    // Traces 0, 3, ..., 18 have a failed child; roots all succeed, so all are completed.
    assert_eq!(
        (stats.total, stats.completed, stats.failed, stats.running),
        (20, 20, 0, 0)
    );
    // Root durations are 10, 20, ..., 200 ms: mean 105 ms, nearest-rank p95 = 190 ms.
    assert_eq!(stats.avg_duration_ns, Some(105.0 * MS as f64));
    assert_eq!(stats.p95_duration_ns, Some(190 * MS));
    let window = reader
        .trace_stats(&pathwise_store::TraceFilter {
            since_ns: Some(1_700_000_000_010 * MS),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(window.total, 10);
    // The figures follow every filter of the list: roots of 150 ms and more are traces
    // 14..=19 (150, 160, ..., 200 ms): mean 175 ms, nearest-rank p95 of six = the sixth.
    let slow = reader
        .trace_stats(&pathwise_store::TraceFilter {
            min_duration_ns: Some(150 * MS),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(slow.total, 6);
    assert_eq!(slow.avg_duration_ns, Some(175.0 * MS as f64));
    assert_eq!(slow.p95_duration_ns, Some(200 * MS));
    // With a query too: traces with a failed span (0, 3, ..., 18) of at most 100 ms
    // (traces 0..=9): 0, 3, 6, 9.
    let failing_fast = reader
        .trace_stats(&pathwise_store::TraceFilter {
            max_duration_ns: Some(100 * MS),
            query: Some(pathwise_query::Query::parse("status == \"failed\"", 0).unwrap()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(failing_fast.total, 4);
    let none = reader
        .trace_stats(&pathwise_store::TraceFilter {
            name_contains: Some("no-such-name".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        (none.total, none.avg_duration_ns, none.p95_duration_ns),
        (0, None, None)
    );
    let rate = reader.error_rate_since(1_700_000_000_000).unwrap();
    assert_eq!((rate.spans, rate.errors), (60, 7));
    let later = reader.error_rate_since(1_700_000_000_010).unwrap();
    assert_eq!((later.spans, later.errors), (30, 3));
}

#[test]
fn a_span_failed_without_an_error_counts_as_an_untyped_error_in_the_rollups() {
    use pathwise_store::{RollupKey, RollupStore, Window};
    // Traces 0, 3, 6 and 9 of ten: op3 failed, with a status and no error.
    let (_dir, reader) = fixture(10);
    let minutes = reader
        .minutes_of(Window::all(), RollupKey::Node("op3"))
        .unwrap();
    let (calls, errors) = minutes
        .iter()
        .fold((0, 0), |(c, e), (_, b)| (c + b.calls, e + b.errors));
    assert_eq!((calls, errors), (10, 4));
    let by_type: Vec<(String, i64)> = reader
        .path_errors(Window::all())
        .unwrap()
        .into_iter()
        .flat_map(|p| p.by_type)
        .collect();
    assert_eq!(by_type, [(pathwise_model::UNTYPED_ERROR.to_string(), 4)]);
}

/// 5,000 single-span traces a millisecond apart: every even one lasts 1.5 s, trace 17 30 s,
/// the rest 10 ms.
fn slow_fixture() -> (tempfile::TempDir, SqliteReader) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("slow.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let base_ms = 1_700_000_000_000u64;
    let records: Vec<Record> = (0..5_000u64)
        .map(|t| {
            let trace = TraceId::from_parts(base_ms + t, u128::from(t));
            let mut span = SpanRecord::new(trace, 1, 0, "job".into(), SpanKind::Span);
            span.start_ns = (base_ms + t) as i64 * MS;
            span.duration_ns = match t {
                17 => 30_000,
                t if t % 2 == 0 => 1_500,
                _ => 10,
            } * MS as u64;
            Record::Span(span)
        })
        .collect();
    store.write_records(&records).unwrap();
    (dir, SqliteReader::open(&db).unwrap())
}

#[test]
fn long_trace_filters_find_every_match_few_or_many() {
    use pathwise_store::{Cursor, TraceFilter};
    let (_dir, reader) = slow_fixture();
    // One match: read through the slow-trace index.
    let one = TraceFilter {
        min_duration_ns: Some(20_000 * MS),
        ..TraceFilter::default()
    };
    let page = reader.list_traces(&one).unwrap();
    assert_eq!(page.traces.len(), 1);
    assert_eq!(page.traces[0].duration_ns, Some(30_000 * MS));
    assert_eq!(reader.trace_stats(&one).unwrap().total, 1);
    // 2,501 matches (past the probe): newest first, every one once across pages.
    let mut many = TraceFilter {
        min_duration_ns: Some(1_000 * MS),
        limit: 1_000,
        ..TraceFilter::default()
    };
    let mut starts = Vec::new();
    loop {
        let page = reader.list_traces(&many).unwrap();
        starts.extend(page.traces.iter().map(|t| t.start_ns));
        match page.next_cursor.as_deref().and_then(Cursor::decode) {
            Some(next) => many.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(starts.len(), 2_501);
    assert!(starts.windows(2).all(|w| w[0] > w[1]), "newest first");
    let stats = reader.trace_stats(&many).unwrap();
    assert_eq!(
        (stats.total, stats.p95_duration_ns),
        (2_501, Some(1_500 * MS))
    );
    // Between the two, with a bound below the index's second: the plain walk.
    let some = TraceFilter {
        min_duration_ns: Some(500 * MS),
        max_duration_ns: Some(2_000 * MS),
        limit: 10_000,
        ..TraceFilter::default()
    };
    assert_eq!(reader.list_traces(&some).unwrap().traces.len(), 2_500);
}

/// Every page of `filter`'s list under `order`, `limit` at a time: the traces' start offsets
/// (ms from the fixture's base).
fn all_pages(reader: &SqliteReader, order: pathwise_store::TraceOrder, limit: usize) -> Vec<i64> {
    use pathwise_store::{Cursor, TraceFilter};
    let mut filter = TraceFilter {
        order,
        limit,
        ..TraceFilter::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = reader.list_traces(&filter).unwrap();
        seen.extend(
            page.traces
                .iter()
                .map(|t| t.start_ns / MS - 1_700_000_000_000),
        );
        match page.next_cursor.as_deref().and_then(Cursor::decode) {
            Some(next) => filter.cursor = Some(next),
            None => return seen,
        }
    }
}

#[test]
fn lists_sort_by_start_or_duration_and_page_through_ties() {
    use pathwise_model::TraceEvent;
    use pathwise_store::TraceOrder;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sorted.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let base_ms = 1_700_000_000_000u64;
    // Six finished traces started 1 ms apart, lasting 30, 10, 20, 10, 40 and 20 ms (two pairs
    // of ties), and a running one started last (no duration yet).
    let mut records: Vec<Record> = [30, 10, 20, 10, 40, 20]
        .iter()
        .enumerate()
        .map(|(t, ms)| {
            let trace = TraceId::from_parts(base_ms + t as u64, t as u128);
            let mut span = SpanRecord::new(trace, 1, 0, "job".into(), SpanKind::Span);
            span.start_ns = (base_ms + t as u64) as i64 * MS;
            span.duration_ns = (ms * MS) as u64;
            Record::Span(span)
        })
        .collect();
    records.push(Record::Trace(TraceEvent::Started {
        trace_id: TraceId::from_parts(base_ms + 6, 6),
        name: "job".into(),
        start_ns: (base_ms + 6) as i64 * MS,
        metadata: None,
    }));
    store.write_records(&records).unwrap();
    let reader = SqliteReader::open(&db).unwrap();
    for limit in [1, 2, 4, 50] {
        assert_eq!(
            all_pages(&reader, TraceOrder::Newest, limit),
            vec![6, 5, 4, 3, 2, 1, 0]
        );
        assert_eq!(
            all_pages(&reader, TraceOrder::Oldest, limit),
            vec![0, 1, 2, 3, 4, 5, 6]
        );
        // Ties by trace id in the same direction; the running trace is left out.
        assert_eq!(
            all_pages(&reader, TraceOrder::Slowest, limit),
            vec![4, 0, 5, 2, 3, 1]
        );
        assert_eq!(
            all_pages(&reader, TraceOrder::Fastest, limit),
            vec![1, 3, 2, 5, 0, 4]
        );
    }
}

#[test]
fn slowest_first_reads_the_slow_traces_index_and_pages_past_it() {
    use pathwise_store::TraceOrder;
    // 5,000 traces: one of 30 s, 2,500 of 1.5 s (the slow-trace index holds these 2,501) and
    // 2,499 of 10 ms. Pages of 1,000 cross from the index into the rest.
    let (_dir, reader) = slow_fixture();
    let offsets = all_pages(&reader, TraceOrder::Slowest, 1_000);
    assert_eq!(offsets.len(), 5_000);
    assert_eq!(offsets[0], 17, "the 30 s trace");
    let mut expected: Vec<i64> = (0..5_000).filter(|t| t % 2 == 0).rev().collect();
    expected.extend((0..5_000).filter(|t| t % 2 == 1 && *t != 17).rev());
    assert_eq!(
        &offsets[1..],
        &expected[..],
        "ties newest id first, slow before fast"
    );
    let fastest = all_pages(&reader, TraceOrder::Fastest, 777);
    assert_eq!(fastest.iter().rev().copied().collect::<Vec<_>>(), offsets);
}

#[test]
fn a_querys_trace_duration_bound_finds_the_same_traces_as_the_duration_filter() {
    use pathwise_store::TraceFilter;
    use pathwise_store::query::Query;
    // 5,000 traces: one of 30 s, 2,500 of 1.5 s, 2,499 of 10 ms.
    let (_dir, reader) = slow_fixture();
    let count = |text: &str| {
        let filter = TraceFilter {
            query: Some(Query::parse(text, 0).unwrap()),
            limit: 10_000,
            ..TraceFilter::default()
        };
        let listed = reader.list_traces(&filter).unwrap().traces.len() as u64;
        assert_eq!(reader.trace_stats(&filter).unwrap().total, listed, "{text}");
        listed
    };
    assert_eq!(count("trace.duration_ms > 20000"), 1);
    assert_eq!(count("trace.duration_ms >= 1.5s"), 2_501);
    assert_eq!(count("trace.duration_ms > 1.5s"), 1);
    assert_eq!(
        count("trace.duration_ms > 1s AND trace.duration_ms < 2s"),
        2_500
    );
    // Not a bound of the trace: an OR, a NOT, a span's duration.
    assert_eq!(
        count("trace.duration_ms > 20s OR trace.duration_ms < 11ms"),
        2_500
    );
    assert_eq!(count("NOT trace.duration_ms < 1s"), 2_501);
    assert_eq!(count("duration_ms > 20s"), 1);
}
