//! Parents, paths, groups and typed fields of tracing spans recorded through the layer, and
//! how they nest with the SDK's own spans.

mod common;

use std::fmt;

use common::{attr_count, install, one, text};
use pathwise::AttrValue;
use pathwise::testing::Recorder;
use pathwise_model::SpanKind;

struct Label(&'static str);

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "label:{}", self.0)
    }
}

#[tracing::instrument]
fn inner(n: i64, flag: bool, ratio: f64) -> i64 {
    std::thread::sleep(std::time::Duration::from_millis(1));
    n * 2
}

#[tracing::instrument(fields(label = %Label("blue"), items = ?[1, 2]))]
fn outer(user: &str) -> i64 {
    inner(21, true, 0.25)
}

#[test]
fn nested_instrumented_functions_nest_with_typed_fields() {
    install();
    let recorder = Recorder::start();
    assert_eq!(outer("ada"), 42);
    let paths = recorder.paths();
    let records = recorder.finish();
    let (o, i) = (one(&records, "outer"), one(&records, "inner"));
    assert_eq!(o.parent_id, 0, "outer is a root");
    assert_eq!(i.parent_id, o.span_id);
    assert_eq!(i.trace_id, o.trace_id);
    assert!(paths.contains(&"outer → inner".to_string()), "{paths:?}");
    assert!(o.duration_ns >= i.duration_ns && i.duration_ns >= 1_000_000);
    assert!(i.start_ns >= o.start_ns);
    assert_eq!(o.kind, SpanKind::Span);
    assert_eq!(o.group.as_deref(), Some(module_path!()), "group = target");
    assert_eq!(i.attr("n"), Some(&AttrValue::I64(21)));
    assert_eq!(i.attr("flag"), Some(&AttrValue::Bool(true)));
    assert_eq!(i.attr("ratio"), Some(&AttrValue::F64(0.25)));
    assert_eq!(
        o.attr("user"),
        Some(&text("ada")),
        "a &str stays a plain string"
    );
    assert_eq!(o.attr("label"), Some(&text("label:blue")), "%display");
    assert_eq!(o.attr("items"), Some(&text("[1, 2]")), "?debug");
}

#[test]
fn fields_recorded_later_add_or_replace() {
    install();
    let recorder = Recorder::start();
    {
        let span = tracing::info_span!(
            "job",
            state = "queued",
            rows = tracing::field::Empty,
            big = u64::MAX,
            small = 7_u64
        );
        span.record("rows", 10_u64);
        span.record("state", "done");
        span.record("state", "archived");
    }
    let records = recorder.finish();
    let job = one(&records, "job");
    assert_eq!(job.attr("rows"), Some(&AttrValue::I64(10)));
    assert_eq!(
        job.attr("state"),
        Some(&text("archived")),
        "the last value wins"
    );
    assert_eq!(attr_count(job, "state"), 1);
    assert_eq!(job.attr("small"), Some(&AttrValue::I64(7)));
    assert_eq!(
        job.attr("big"),
        Some(&text("18446744073709551615")),
        "beyond i64 the digits are kept"
    );
    assert_eq!(job.details.as_ref().unwrap().attrs.len(), 4);
}

#[test]
fn explicit_parents_and_explicit_roots() {
    install();
    let recorder = Recorder::start();
    let request = tracing::info_span!("request");
    let handle = request.clone();
    // Created on another thread, while nothing is entered there: the explicit parent decides.
    std::thread::spawn(move || {
        let _work = tracing::info_span!(parent: &handle, "work").entered();
    })
    .join()
    .unwrap();
    request.in_scope(|| {
        let _audit = tracing::info_span!(parent: None, "audit").entered();
    });
    drop(request);
    let records = recorder.finish();
    let (request, work, audit) = (
        one(&records, "request"),
        one(&records, "work"),
        one(&records, "audit"),
    );
    assert_eq!(work.parent_id, request.span_id);
    assert_eq!(work.trace_id, request.trace_id);
    assert_eq!(audit.parent_id, 0, "parent: None starts a trace");
    assert_ne!(audit.trace_id, request.trace_id);
}

#[tracing::instrument]
fn traced_lookup() {
    let _s = pathwise::span("sdk-inside");
}

#[pathwise::monitor]
fn monitored_handler() {
    traced_lookup();
}

#[test]
fn tracing_spans_nest_under_monitored_functions_and_sdk_spans_under_them() {
    install();
    let recorder = Recorder::start();
    monitored_handler();
    let paths = recorder.paths();
    let records = recorder.finish();
    // `#[monitor]` names a function by its module path.
    let handler = one(&records, "nesting::monitored_handler");
    let lookup = one(&records, "traced_lookup");
    let inside = one(&records, "sdk-inside");
    assert_eq!(lookup.parent_id, handler.span_id);
    assert_eq!(inside.parent_id, lookup.span_id);
    assert!(inside.trace_id == lookup.trace_id && lookup.trace_id == handler.trace_id);
    assert!(
        paths.contains(&"nesting::monitored_handler → traced_lookup → sdk-inside".to_string()),
        "{paths:?}"
    );
}

#[test]
fn the_innermost_span_wins_whichever_api_opened_it() {
    install();
    let recorder = Recorder::start();
    {
        let _t = tracing::info_span!("t").entered();
        let _p = pathwise::span("p");
        let _t2 = tracing::info_span!("t2").entered();
        let _p2 = pathwise::span("p2");
    }
    let paths = recorder.paths();
    let records = recorder.finish();
    let (t, p, t2, p2) = (
        one(&records, "t"),
        one(&records, "p"),
        one(&records, "t2"),
        one(&records, "p2"),
    );
    assert_eq!(p.parent_id, t.span_id);
    assert_eq!(
        t2.parent_id, p.span_id,
        "the SDK span is deeper than the tracing parent"
    );
    assert_eq!(p2.parent_id, t2.span_id);
    assert!(paths.contains(&"t → p → t2 → p2".to_string()), "{paths:?}");
}

#[test]
fn out_of_order_exits_restore_the_right_context() {
    install();
    let recorder = Recorder::start();
    let a = tracing::info_span!("a").entered();
    let b = tracing::info_span!("b").entered();
    let b_ctx = pathwise::Context::current();
    drop(a); // the outer guard first
    assert_eq!(pathwise::Context::current(), b_ctx, "b is still entered");
    pathwise::in_span("c", || ());
    drop(b);
    assert_eq!(pathwise::Context::current(), None);
    pathwise::in_span("d", || ());
    let records = recorder.finish();
    let (a, b, c, d) = (
        one(&records, "a"),
        one(&records, "b"),
        one(&records, "c"),
        one(&records, "d"),
    );
    assert_eq!(b.parent_id, a.span_id);
    assert_eq!(c.parent_id, b.span_id);
    assert_eq!(d.parent_id, 0, "nothing is current any more");
}

#[test]
fn groups_can_be_chosen() {
    use tracing_subscriber::layer::SubscriberExt;
    let recorder = Recorder::start();
    let by_crate = tracing_subscriber::registry()
        .with(pathwise_tracing::layer().group_by(pathwise_tracing::GroupBy::Crate));
    tracing::subscriber::with_default(by_crate, || {
        tracing::info_span!("x").in_scope(|| ());
        tracing::info_span!(target: "billing::cards", "y").in_scope(|| ());
    });
    let records = recorder.finish();
    assert_eq!(one(&records, "x").group.as_deref(), Some("nesting"));
    assert_eq!(one(&records, "y").group.as_deref(), Some("billing"));
}
