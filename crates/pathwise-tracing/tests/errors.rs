//! Failures: `#[instrument(err)]`, ERROR events, `error` fields; and what other events leave.

mod common;

use common::{install, one, spans, text};
use pathwise::AttrValue;
use pathwise::testing::Recorder;
use pathwise_model::Status;
use pathwise_tracing::{EVENTS_ATTR, LAST_WARNING_ATTR};

#[derive(Debug, thiserror::Error)]
#[error("query failed")]
struct QueryError {
    #[source]
    source: std::io::Error,
}

#[tracing::instrument(err)]
fn fetch(id: i64) -> Result<i64, String> {
    if id < 0 {
        return Err(format!("no row {id}"));
    }
    Ok(id)
}

#[tracing::instrument(err(Debug))]
fn fetch_debug() -> Result<(), QueryError> {
    Err(QueryError {
        source: std::io::Error::other("disk"),
    })
}

#[tracing::instrument(err(level = "warn"))]
fn fetch_quietly() -> Result<(), String> {
    Err("gone".into())
}

#[test]
fn instrument_err_fails_the_span_with_the_error_message() {
    install();
    let recorder = Recorder::start();
    assert!(fetch(1).is_ok());
    assert!(fetch(-3).is_err());
    assert!(fetch_debug().is_err());
    assert!(fetch_quietly().is_err());
    let records = recorder.finish();
    let fetches: Vec<_> = spans(&records)
        .into_iter()
        .filter(|s| s.name == "fetch")
        .collect();
    let ok = fetches
        .iter()
        .find(|s| s.attr("id") == Some(&AttrValue::I64(1)));
    let failed = fetches
        .iter()
        .find(|s| s.attr("id") == Some(&AttrValue::I64(-3)));
    let (ok, failed) = (ok.unwrap(), failed.unwrap());
    assert_eq!(ok.status, Status::Ok);
    assert!(ok.error().is_none());
    assert_eq!(failed.status, Status::Error);
    let error = failed.error().unwrap();
    assert_eq!(error.message, "no row -3");
    assert_eq!(error.error_type, module_path!(), "where it was reported");
    assert!(error.chain.is_empty());
    let debug = one(&records, "fetch_debug").error().unwrap();
    assert_eq!(
        debug.message,
        format!(
            "{:?}",
            QueryError {
                source: std::io::Error::other("disk")
            }
        )
    );
    let quiet = one(&records, "fetch_quietly");
    assert_eq!(quiet.status, Status::Error, "err at WARN still means Err");
    assert_eq!(quiet.error().unwrap().message, "gone");
}

#[test]
fn an_error_event_fails_its_span_and_others_are_counted() {
    install();
    let recorder = Recorder::start();
    tracing::info_span!("checkout").in_scope(|| {
        tracing::debug!("start");
        tracing::error!(error = "card declined", "payment failed");
        tracing::error!("a later error is a consequence");
    });
    tracing::info_span!("plain").in_scope(|| tracing::error!(code = 3, "bad input"));
    tracing::info_span!("warned").in_scope(|| {
        tracing::info!("one");
        tracing::warn!("first warning");
        tracing::warn!(error = "timeout", "retrying");
    });
    tracing::info_span!("quiet").in_scope(|| ());
    tracing::error!("outside any span: nothing to fail");
    let records = recorder.finish();
    let checkout = one(&records, "checkout");
    assert_eq!(checkout.status, Status::Error);
    assert_eq!(
        checkout.error().unwrap().message,
        "payment failed: card declined",
        "the first failure is kept"
    );
    assert_eq!(checkout.error().unwrap().error_type, module_path!());
    assert_eq!(checkout.attr(EVENTS_ATTR), Some(&AttrValue::I64(3)));
    let plain = one(&records, "plain");
    assert_eq!(plain.error().unwrap().message, "bad input");
    let warned = one(&records, "warned");
    assert_eq!(
        warned.status,
        Status::Ok,
        "a WARN with an error and a message is handled"
    );
    assert_eq!(warned.attr(LAST_WARNING_ATTR), Some(&text("retrying")));
    assert_eq!(warned.attr(EVENTS_ATTR), Some(&AttrValue::I64(3)));
    let quiet = one(&records, "quiet");
    assert_eq!(quiet.attr(EVENTS_ATTR), None, "no events, no attribute");
    assert!(quiet.details.is_none());
    assert_eq!(spans(&records).len(), 4);
}

#[test]
fn an_error_field_fails_the_span() {
    install();
    let recorder = Recorder::start();
    let failure = QueryError {
        source: std::io::Error::other("disk on fire"),
    };
    {
        let _at_start = tracing::info_span!("at_start", error = %"bad config").entered();
    }
    {
        let later = tracing::info_span!("later", error = tracing::field::Empty);
        later.record("error", tracing::field::display("late failure"));
    }
    {
        let as_error = &failure as &(dyn std::error::Error + 'static);
        let _e = tracing::info_span!("as_error", error = as_error).entered();
    }
    {
        let _code = tracing::info_span!("code", error = 0_i64).entered();
    }
    let records = recorder.finish();
    let at_start = one(&records, "at_start");
    assert_eq!(at_start.status, Status::Error);
    assert_eq!(at_start.error().unwrap().message, "bad config");
    assert_eq!(at_start.attr("error"), None, "kept as the error, not twice");
    assert_eq!(
        one(&records, "later").error().unwrap().message,
        "late failure"
    );
    let as_error = one(&records, "as_error").error().unwrap();
    assert_eq!(as_error.message, "query failed");
    assert_eq!(as_error.chain, ["disk on fire"]);
    let code = one(&records, "code");
    assert_eq!(code.status, Status::Ok, "a numeric error field is a code");
    assert_eq!(code.attr("error"), Some(&AttrValue::I64(0)));
}

#[tracing::instrument(err)]
fn save() -> Result<(), String> {
    tracing::error!("db timeout");
    Err("save failed".into())
}

#[test]
fn the_cause_is_kept_over_the_returned_error() {
    install();
    let recorder = Recorder::start();
    assert!(save().is_err());
    let records = recorder.finish();
    let save = one(&records, "save");
    assert_eq!(save.error().unwrap().message, "db timeout");
    assert_eq!(save.attr(EVENTS_ATTR), Some(&AttrValue::I64(2)));
}
