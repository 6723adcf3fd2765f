//! Compressed payload columns: every value reads back exactly, the file shrinks, and both
//! `sqlite3` (structural views) and SQL through Pathwise (`pw_text`) still answer.

use std::path::Path;
use std::time::Duration;

use pathwise_model::{ErrorInfo, Record, SpanDetails, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::alerts::SqlRules;
use pathwise_store::{ReadStore, Store};
use pathwise_store_sqlite::{SqliteReader, SqliteSqlRules, SqliteStore};

const BASE_MS: u64 = 1_700_000_000_000;

/// A search result list like the demo's: repetitive JSON of a size that varies with `n`.
fn results(source: &str, query: &str, n: u64) -> String {
    let items: Vec<String> = (0..(n % 12))
        .map(|i| {
            format!(
                r#"{{"accession":"{source}-{}","score":{},"title":"{source} study {i} for {query}"}}"#,
                10_000 + (n * 7919 + i * 104_729) % 90_000,
                (n * 31 + i * 17) % 1000
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Text without repetition (a SplitMix64 stream as hex).
fn noise(seed: u64, len: usize) -> String {
    let mut state = seed;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
    }
    out.truncate(len);
    out
}

/// The payloads of span `i`: most realistic, some short, some huge, some random, some not ASCII.
fn details(i: u64) -> SpanDetails {
    let query = ["lung atlas", "BRCA1 RNA-seq", "Maus Gehirn ß", "肺 单细胞"][(i % 4) as usize];
    let output = match (i % 50, i % 250) {
        (7, _) => format!("x{}", noise(i, 900)),
        (13, _) => "ok".into(),
        (_, 29) => results("GEO", query, 11).repeat(40),
        _ => results(["GEO", "E-MTAB", "PMID"][(i % 3) as usize], query, i),
    };
    SpanDetails {
        input: Some(format!(r#"{{"query":"{query}","limit":{}}}"#, i % 40)),
        output: Some(output),
        reasoning: (i % 5 == 0).then(|| format!("kept {} of {} candidates for {query}", i % 9, 9)),
        metadata: (i % 3 == 0).then(|| {
            format!(
                r#"{{"llm":{{"model":"gpt-4","tokens_used":{},"temperature":0.7}}}}"#,
                i % 900
            )
        }),
        error: (i % 17 == 0).then(|| ErrorInfo {
            error_type: "TimeoutError".into(),
            message: format!("source {i} timed out"),
            chain: vec![
                format!(
                    "connect to mirror {} timed out after 30 s, retried 3 times",
                    i % 4
                );
                2
            ],
        }),
        ..SpanDetails::default()
    }
}

fn span(i: u64) -> SpanRecord {
    let trace = TraceId::from_parts(BASE_MS + i, u128::from(i));
    let names = [
        "GEOCache.get",
        "PubMedClient.search",
        "SearchService.search",
    ];
    let mut span = SpanRecord::new(
        trace,
        1,
        0,
        names[(i % 3) as usize].into(),
        SpanKind::Function,
    );
    span.start_ns = (BASE_MS + i) as i64 * 1_000_000;
    span.duration_ns = 1_000_000;
    let details = details(i);
    if details.error.is_some() {
        span.status = Status::Error;
    }
    span.details = Some(Box::new(details));
    span
}

fn write(db: &Path, range: std::ops::Range<u64>) {
    let mut store = SqliteStore::open(db).unwrap();
    let spans: Vec<Record> = range.map(|i| Record::Span(span(i))).collect();
    for batch in spans.chunks(97) {
        store.write_records(batch).unwrap();
    }
}

fn query_one(db: &Path, sql: &str) -> f64 {
    let mut rules = SqliteSqlRules::open(db).unwrap();
    rules
        .query_number(sql, Duration::from_secs(5))
        .unwrap()
        .unwrap()
}

#[test]
fn payloads_read_back_exactly_and_take_a_fraction_of_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("payloads.db");
    // Two writers in turn: the second finds the first one's dictionaries and uses them.
    write(&db, 0..1200);
    write(&db, 1200..3000);

    let reader = SqliteReader::open(&db).unwrap();
    // The read side parses payloads as JSON (text that is not JSON stays a string).
    let json = |text: &Option<String>| {
        text.as_ref().map(|t| {
            serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.clone()))
        })
    };
    let mut raw_bytes = 0usize;
    for i in 0..3000 {
        let expected = details(i);
        let trace = TraceId::from_parts(BASE_MS + i, u128::from(i));
        let row = &reader.spans(trace, None, 10).unwrap()[0];
        assert_eq!(row.input, json(&expected.input), "input of span {i}");
        assert_eq!(row.output, json(&expected.output), "output of span {i}");
        assert_eq!(row.reasoning, expected.reasoning, "reasoning of span {i}");
        assert_eq!(
            row.metadata,
            json(&expected.metadata),
            "metadata of span {i}"
        );
        let chain = expected.error.as_ref().map(|e| serde_json::json!(e.chain));
        assert_eq!(row.error_chain, chain, "error chain of span {i}");
        raw_bytes += [
            &expected.input,
            &expected.output,
            &expected.reasoning,
            &expected.metadata,
        ]
        .iter()
        .map(|v| v.as_ref().map_or(0, String::len))
        .sum::<usize>();
    }
    // Byte for byte: the texts SQL reads back are as long as the texts written.
    assert_eq!(
        query_one(
            &db,
            "SELECT sum(coalesce(length(CAST(pw_text(input) AS BLOB)), 0)
                     + coalesce(length(CAST(pw_text(output) AS BLOB)), 0)
                     + coalesce(length(CAST(pw_text(reasoning) AS BLOB)), 0)
                     + coalesce(length(CAST(pw_text(metadata) AS BLOB)), 0))
             FROM span_details"
        ),
        raw_bytes as f64
    );

    // One dictionary per span name, written once (the second writer reused them).
    assert_eq!(query_one(&db, "SELECT count(*) FROM payload_dicts"), 3.0);
    assert_eq!(
        query_one(&db, "SELECT count(DISTINCT name_id) FROM payload_dicts"),
        3.0
    );
    // Short values stay plain text; the others are compressed.
    assert_eq!(
        query_one(&db, "SELECT count(*) FROM span_details WHERE output = 'ok'"),
        (0..3000u64).filter(|i| i % 50 == 13).count() as f64
    );
    assert!(
        query_one(&db, "SELECT avg(typeof(output) = 'blob') FROM span_details") > 0.8,
        "most outputs are compressed"
    );
    let stored = query_one(
        &db,
        "SELECT sum(coalesce(length(input), 0) + coalesce(length(output), 0)
                 + coalesce(length(reasoning), 0) + coalesce(length(metadata), 0))
         FROM span_details",
    );
    let ratio = raw_bytes as f64 / stored;
    eprintln!("payloads {raw_bytes} B stored in {stored} B (×{ratio:.1})");
    assert!(
        ratio > 4.0,
        "payloads {raw_bytes} B stored in {stored} B (×{ratio:.1})"
    );

    // SQL reads payloads through pw_text, in the view and in queries of its own.
    assert_eq!(
        query_one(
            &db,
            "SELECT count(*) FROM span_details_v WHERE output LIKE '%for Maus Gehirn ß%'"
        ),
        (0..3000u64)
            .filter(|i| i % 4 == 2 && details(*i).output.unwrap().contains("for Maus"))
            .count() as f64
    );
    assert_eq!(
        query_one(
            &db,
            "SELECT sum(json_extract(pw_text(metadata), '$.llm.tokens_used')) FROM span_details"
        ),
        (0..3000u64)
            .filter(|i| i % 3 == 0)
            .map(|i| i % 900)
            .sum::<u64>() as f64
    );
}

#[test]
fn the_sqlite3_cli_still_reads_the_structural_views() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    write(&db, 0..400);
    // The sqlite3 CLI is installed by the test script; a missing one is a failure here.
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*), sum(status = 'error') FROM spans_v WHERE name = 'GEOCache.get'")
        .output()
        .expect("sqlite3 on PATH");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected_errors = (0..400u64).filter(|i| i % 3 == 0 && i % 17 == 0).count();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("134|{expected_errors}")
    );
    // The payload view needs Pathwise's function, and says so rather than returning garbage.
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*) FROM span_details_v")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("pw_text"));
}
