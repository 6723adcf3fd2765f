//! The query language against a real SQLite file: results compared with the fixture's answers,
//! known by construction.

use pathwise_model::{
    AttrValue, ErrorInfo, Record, SpanDetails, SpanKind, SpanRecord, Status, TraceId,
};
use pathwise_store::query::Query;
use pathwise_store::{ReadStore, Store, TraceFilter};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};

const MS: i64 = 1_000_000;
const BASE_MS: u64 = 1_700_000_000_000;

struct Span {
    id: u64,
    parent: u64,
    name: &'static str,
    ms: i64,
    failed: Option<&'static str>,
    user: Option<&'static str>,
    metadata: Option<&'static str>,
    input: Option<&'static str>,
    output: Option<&'static str>,
}

const fn span(id: u64, parent: u64, name: &'static str, ms: i64) -> Span {
    Span {
        id,
        parent,
        name,
        ms,
        failed: None,
        user: None,
        metadata: None,
        input: None,
        output: None,
    }
}

/// Four traces. 0 and 1 are decision traces named `competitor-selection`; 2 and 3 `search`.
fn traces() -> Vec<Vec<Span>> {
    vec![
        vec![
            span(1, 0, "competitor-selection", 6_000),
            Span {
                failed: Some("FilterError"),
                ..span(2, 1, "apply_filters", 40)
            },
            Span {
                user: Some("u1"),
                metadata: Some(r#"{"llm":{"model":"gpt-4","tokens_used":876}}"#),
                ..span(3, 1, "llm_generation", 900)
            },
        ],
        vec![
            span(1, 0, "competitor-selection", 1_200),
            span(2, 1, "apply_filters", 30),
            Span {
                metadata: Some(r#"{"llm":{"model":"gpt-3.5"}}"#),
                input: Some(r#"{"items":[{"price":25},{"price":90}]}"#),
                ..span(3, 1, "llm_generation", 700)
            },
        ],
        vec![
            span(1, 0, "search", 7_000),
            Span {
                failed: Some("Timeout"),
                ..span(2, 1, "fetch", 300)
            },
        ],
        vec![Span {
            user: Some("u2"),
            output: Some(r#"{"ok":true}"#),
            ..span(1, 0, "search", 100)
        }],
    ]
}

fn fixture() -> (tempfile::TempDir, SqliteReader) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("query.db");
    let mut store = SqliteStore::open(&db).unwrap();
    let mut records = Vec::new();
    for (t, spans) in traces().into_iter().enumerate() {
        let trace = TraceId::from_parts(BASE_MS + t as u64, t as u128);
        let start = (BASE_MS + t as u64) as i64 * MS;
        for s in spans {
            let kind = if s.parent == 0 {
                SpanKind::Trace
            } else {
                SpanKind::Step
            };
            let mut record = SpanRecord::new(trace, s.id, s.parent, s.name.into(), kind);
            record.start_ns = start + s.id as i64 * MS;
            record.duration_ns = (s.ms * MS) as u64;
            let mut details = SpanDetails::default();
            if let Some(error_type) = s.failed {
                record.status = Status::Error;
                details.error = Some(ErrorInfo {
                    error_type: error_type.into(),
                    message: "boom".into(),
                    chain: vec![],
                });
            }
            if let Some(user) = s.user {
                details
                    .attrs
                    .push(("user".into(), AttrValue::Str(user.into())));
            }
            details.metadata = s.metadata.map(str::to_string);
            details.input = s.input.map(str::to_string);
            details.output = s.output.map(str::to_string);
            record.details = Some(Box::new(details));
            records.push(Record::Span(record));
        }
    }
    store.write_records(&records).unwrap();
    (dir, SqliteReader::open(&db).unwrap())
}

/// Indexes (0..4) of the traces `text` lists, oldest first.
fn matching(reader: &SqliteReader, text: &str) -> Vec<u64> {
    let query = Query::parse(text, 0).unwrap_or_else(|e| panic!("{text}: {e}"));
    let page = reader
        .list_traces(&TraceFilter {
            query: Some(query),
            ..TraceFilter::default()
        })
        .unwrap();
    let mut found: Vec<u64> = page
        .traces
        .iter()
        .map(|t| t.trace_id.unix_ms() - BASE_MS)
        .collect();
    found.sort();
    found
}

#[test]
fn the_planning_documents_examples_find_the_right_traces() {
    let (_dir, reader) = fixture();
    assert_eq!(
        matching(&reader, r#"metadata.llm.model == "gpt-4""#),
        vec![0]
    );
    assert_eq!(matching(&reader, "duration_ms > 5000"), vec![0, 2]);
    // Trace 1 has an apply_filters step that passed and trace 2 a failed step of another
    // name: only trace 0 has one step that is both.
    assert_eq!(
        matching(
            &reader,
            r#"steps.name == "apply_filters" AND steps.status == "failed""#
        ),
        vec![0]
    );
}

#[test]
fn fields_operators_and_logic_match_hand_answers() {
    let (_dir, reader) = fixture();
    let cases: &[(&str, &[u64])] = &[
        (r#"attr.user in ("u1", "u2")"#, &[0, 3]),
        // Some span of every trace lacks user = u1 (a span without the attribute counts).
        (r#"NOT attr.user == "u1""#, &[0, 1, 2, 3]),
        // `!=` needs the attribute: only the spans that have one qualify.
        (r#"attr.user != "u1""#, &[3]),
        ("attr.user exists", &[0, 3]),
        ("trace.name == search AND duration_ms < 200", &[3]),
        ("input.items[0].price < 30", &[1]),
        ("input.items[1].price < 30", &[]),
        ("input contains '\"price\":90'", &[1]),
        ("output.ok == true", &[3]),
        // Typed: a JSON true is not the number 1.
        ("output.ok == 1", &[]),
        ("metadata.llm.tokens_used >= 876", &[0]),
        ("metadata.llm.model contains GPT", &[0, 1]),
        ("error.type == FilterError", &[0]),
        ("error.type exists AND NOT name == fetch", &[0]),
        ("trace.error_count >= 1", &[0, 2]),
        (
            "trace.duration_ms >= 1s AND trace.duration_ms < 6.5s",
            &[0, 1],
        ),
        ("compet", &[0, 1]),
        ("kind == trace AND status == error", &[]),
        (
            "kind == step AND (name == fetch OR duration_ms > 800)",
            &[0, 2],
        ),
        (
            "name in (fetch, apply_filters) AND NOT trace.name == search",
            &[0, 1],
        ),
        ("group exists", &[]),
        ("path contains 'LLM_gen'", &[0, 1]),
        ("", &[0, 1, 2, 3]),
    ];
    for (text, expected) in cases {
        assert_eq!(matching(&reader, text), *expected, "{text}");
    }
}

#[test]
fn a_trace_id_finds_its_trace_and_pages_follow_the_query() {
    let (_dir, reader) = fixture();
    let id = TraceId::from_parts(BASE_MS + 2, 2).to_hex();
    assert_eq!(matching(&reader, &id), vec![2]);
    assert_eq!(matching(&reader, &format!("trace.id in ('{id}')")), vec![2]);
    // A primary-key lookup, with the same answers under NOT (the parser refuses a malformed id).
    assert_eq!(matching(&reader, &format!("trace.id == '{id}'")), vec![2]);
    assert_eq!(
        matching(&reader, &format!("NOT trace.id == '{id}'")),
        vec![0, 1, 3]
    );
    assert_eq!(
        matching(&reader, &format!("trace.id != '{id}'")),
        vec![0, 1, 3]
    );
    assert!(Query::parse("trace.id == 'not-an-id'", 0).is_err());
    let query = Query::parse("duration_ms > 500", 0).unwrap();
    let mut filter = TraceFilter {
        query: Some(query),
        limit: 1,
        ..TraceFilter::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = reader.list_traces(&filter).unwrap();
        seen.extend(page.traces.iter().map(|t| t.trace_id.unix_ms() - BASE_MS));
        match page.next_cursor {
            Some(c) => filter.cursor = pathwise_store::Cursor::decode(&c),
            None => break,
        }
    }
    // Newest first, one per page: traces 2, 1 and 0 have a span over 500 ms.
    assert_eq!(seen, vec![2, 1, 0]);
}
