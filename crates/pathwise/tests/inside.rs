//! What code inside a span adds to it (`current_span()`, `#[monitor(fields(..))]`, `.attr` on
//! futures), how errors are named (enum variants, `ErrorKind`, `error_kind = ..`), and the
//! runtime switches (capture per function pattern, recording off).

mod common;

use std::time::Duration;

use common::one;
use pathwise::testing::Recorder;
use pathwise::{CaptureSwitch, Config, FutureExt};
use pathwise_model::{AttrValue, SpanRecord, Status};

fn error_type(span: &SpanRecord) -> &str {
    span.details
        .as_ref()
        .and_then(|d| d.error.as_ref())
        .map(|e| e.error_type.as_ref())
        .unwrap_or("")
}

#[derive(Debug, serde::Serialize)]
struct SearchRequest {
    organism: String,
    ids: Vec<u32>,
}

#[derive(Debug, thiserror::Error)]
enum OpenAlexError {
    #[error("rate limited; retry in {0} s")]
    RateLimit(u32),
    #[error("timed out after {ms} ms")]
    Timeout { ms: u64 },
}

#[pathwise::monitor(name = "OpenAlex.search", fields(organism = req.organism.as_str(), "request.ids" = req.ids.len()))]
fn search(req: &SearchRequest, fail: Option<OpenAlexError>) -> Result<usize, OpenAlexError> {
    pathwise::current_span().set_attr("cache.hit", false);
    match fail {
        Some(e) => Err(e),
        None => Ok(req.ids.len()),
    }
}

#[pathwise::monitor(name = "OpenAlex.search_async", fields(organism = req.organism.clone()))]
async fn search_async(req: SearchRequest) -> Result<usize, OpenAlexError> {
    tokio::task::yield_now().await;
    pathwise::current_span().set_attr("after_await", true);
    tokio::time::sleep(Duration::from_millis(1)).await;
    if req.ids.is_empty() {
        return Err(OpenAlexError::Timeout { ms: 30 });
    }
    Ok(req.ids.len())
}

fn status_class(e: &OpenAlexError) -> &'static str {
    match e {
        OpenAlexError::RateLimit(_) => "Retryable",
        OpenAlexError::Timeout { .. } => "Retryable",
    }
}

#[pathwise::monitor(name = "OpenAlex.classified", error_kind = status_class)]
fn classified(e: OpenAlexError) -> Result<(), OpenAlexError> {
    Err(e)
}

#[pathwise::monitor(name = "Ranking.rank")]
fn rank(items: u32) -> u32 {
    if items == 0 {
        pathwise::current_span().fail("NoCandidates", "all filtered out");
    }
    items
}

fn request(organism: &str, ids: Vec<u32>) -> SearchRequest {
    SearchRequest {
        organism: organism.into(),
        ids,
    }
}

#[test]
fn attributes_from_inside_and_from_arguments_reach_the_span() {
    let recorder = Recorder::start();
    search(&request("mouse", vec![1, 2, 3]), None).unwrap();
    {
        let _outer = pathwise::span("outer");
        pathwise::current_span().set_attr("outer.attr", 1_i64);
        pathwise::in_span("inner", || {
            pathwise::current_span().set_attr("inner.attr", 2_i64);
        });
    }
    let records = recorder.records();
    let span = one(&records, "OpenAlex.search");
    assert_eq!(span.attr("organism"), Some(&AttrValue::Str("mouse".into())));
    assert_eq!(span.attr("request.ids"), Some(&AttrValue::I64(3)));
    assert_eq!(span.attr("cache.hit"), Some(&AttrValue::Bool(false)));
    let (outer, inner) = (one(&records, "outer"), one(&records, "inner"));
    assert_eq!(outer.attr("outer.attr"), Some(&AttrValue::I64(1)));
    assert_eq!(outer.attr("inner.attr"), None, "the inner span's own");
    assert_eq!(inner.attr("inner.attr"), Some(&AttrValue::I64(2)));
}

#[test]
fn async_calls_and_futures_collect_attributes_across_awaits() {
    let recorder = Recorder::start();
    let runtime = common::runtime(2);
    runtime.block_on(async {
        search_async(request("human", vec![7])).await.unwrap();
        let failed = search_async(request("yeast", vec![])).await;
        assert!(failed.is_err());
        async {
            tokio::task::yield_now().await;
            pathwise::current_span().set_attr("inside", "future");
        }
        .in_span("fetch")
        .attr("source", "geo")
        .await;
    });
    let records = recorder.records();
    let calls = pathwise::testing::named(&records, "OpenAlex.search_async");
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(call.attr("after_await"), Some(&AttrValue::Bool(true)));
    }
    let failed = calls.iter().find(|c| c.status == Status::Error).unwrap();
    assert_eq!(error_type(failed), "OpenAlexError::Timeout");
    assert_eq!(
        failed.attr("organism"),
        Some(&AttrValue::Str("yeast".into()))
    );
    let fetch = one(&records, "fetch");
    assert_eq!(fetch.attr("source"), Some(&AttrValue::Str("geo".into())));
    assert_eq!(fetch.attr("inside"), Some(&AttrValue::Str("future".into())));
}

#[test]
fn variants_are_distinct_errors_with_short_names_and_the_full_path_kept() {
    let recorder = Recorder::start();
    let req = request("mouse", vec![1]);
    let _ = search(&req, Some(OpenAlexError::RateLimit(2)));
    let _ = search(&req, Some(OpenAlexError::Timeout { ms: 5 }));
    let _ = classified(OpenAlexError::Timeout { ms: 5 });
    rank(0);
    let records = recorder.records();
    let failed: Vec<_> = pathwise::testing::named(&records, "OpenAlex.search")
        .into_iter()
        .filter(|s| s.status == Status::Error)
        .collect();
    let mut types: Vec<_> = failed.iter().map(|s| error_type(s)).collect();
    types.sort();
    assert_eq!(
        types,
        ["OpenAlexError::RateLimit", "OpenAlexError::Timeout"]
    );
    let limited = failed
        .iter()
        .find(|s| error_type(s) == "OpenAlexError::RateLimit")
        .unwrap();
    let error = limited.details.as_ref().unwrap().error.as_ref().unwrap();
    assert_eq!(error.message, "rate limited; retry in 2 s");
    assert_eq!(
        limited.attr("error.type_path"),
        Some(&AttrValue::Str("inside::OpenAlexError".into()))
    );
    assert_eq!(
        error_type(one(&records, "OpenAlex.classified")),
        "Retryable"
    );
    let ranked = one(&records, "Ranking.rank");
    assert_eq!(
        ranked.status,
        Status::Error,
        "failed from inside, returned normally"
    );
    assert_eq!(error_type(ranked), "NoCandidates");
}

#[test]
fn capture_is_switched_per_function_pattern_without_recompiling() {
    let recorder = Recorder::with_config(Config {
        resource_interval: None,
        capture_switch: CaptureSwitch {
            exclude: vec!["OpenAlex.*".into()],
            ..CaptureSwitch::default()
        },
        ..Config::default()
    });
    search(&request("mouse", vec![1]), None).unwrap();
    rank(3);
    let records = recorder.records();
    let excluded = one(&records, "OpenAlex.search").details.as_ref().unwrap();
    assert!(excluded.input.is_none() && excluded.output.is_none());
    assert_eq!(
        excluded
            .attrs
            .iter()
            .find(|(k, _)| k == "organism")
            .map(|(_, v)| v),
        Some(&AttrValue::Str("mouse".into())),
        "fields are attributes, not captures: they stay"
    );
    let captured = one(&records, "Ranking.rank").details.as_ref().unwrap();
    assert_eq!(captured.input.as_deref(), Some(r#"{"items":3}"#));
    assert_eq!(captured.output.as_deref(), Some("3"));
}

#[test]
fn capture_off_everywhere_keeps_timing() {
    let recorder = Recorder::with_config(Config {
        resource_interval: None,
        capture_switch: CaptureSwitch {
            enabled: false,
            ..CaptureSwitch::default()
        },
        ..Config::default()
    });
    rank(3);
    let records = recorder.records();
    let span = one(&records, "Ranking.rank");
    assert!(
        span.details
            .as_ref()
            .is_none_or(|d| d.input.is_none() && d.output.is_none())
    );
}

#[test]
fn recording_off_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("off.db");
    let pathwise = pathwise::init(Config {
        db_path: db.clone(),
        enabled: false,
        ..Config::default()
    })
    .unwrap();
    assert!(!pathwise.is_recording());
    // Other tests of this binary may be recording meanwhile: this test checks only what
    // does not depend on them.
    assert!(!db.exists(), "no database is created when recording is off");
    drop(pathwise);
    assert!(!db.exists());
}
