//! `#[monitor]` on every kind of function it supports, checked through the records it produces.

use std::fmt;
use std::future::Future as _;

use pathwise::monitor;
use pathwise::testing::capture_records;
use pathwise_model::{AttrValue, Record, SpanKind, SpanRecord, Status};
use serde_json::{Value, json};

/// The function spans, in the order they started (the store keeps no particular order; within
/// one thread, span ids grow, which breaks ties between equal timestamps).
fn spans(records: Vec<Record>) -> Vec<SpanRecord> {
    let mut spans: Vec<SpanRecord> = records
        .into_iter()
        .filter_map(|record| match record {
            Record::Span(span) if span.kind == SpanKind::Function => Some(span),
            _ => None,
        })
        .collect();
    spans.sort_by_key(|span| (span.start_ns, span.span_id));
    spans
}

/// The one span called `name`.
fn only(spans: &[SpanRecord], name: &str) -> SpanRecord {
    let found: Vec<&SpanRecord> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "expected one `{name}` span in {spans:#?}");
    found[0].clone()
}

fn input(span: &SpanRecord) -> Value {
    let text = span.details.as_ref().and_then(|d| d.input.as_ref());
    text.map_or(Value::Null, |t| {
        serde_json::from_str(t).expect("input is JSON")
    })
}

/// Whether a captured value shows `part`. Used where the exact form depends on the capture
/// strategy (a generic `T: Debug` or a `Result` whose error is not `Serialize` is captured by
/// its `Debug` text rather than as structured JSON).
fn shows(value: &Value, part: &str) -> bool {
    value.to_string().contains(part)
}

fn output(span: &SpanRecord) -> Value {
    let text = span.details.as_ref().and_then(|d| d.output.as_ref());
    text.map_or(Value::Null, |t| {
        serde_json::from_str(t).expect("output is JSON")
    })
}

// ---- free functions -------------------------------------------------------------------------

#[monitor]
fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[monitor(
    name = "custom.name",
    group = "math",
    sample = 1.0,
    max_repr = 64,
    redact(pin)
)]
fn renamed(x: u8) -> u8 {
    x * 2
}

#[monitor]
fn nothing_returned(log: &mut Vec<&'static str>) {
    log.push("ran");
}

#[test]
fn free_function_records_arguments_and_result() {
    let spans = spans(capture_records(|| assert_eq!(add(1, 2), 3)));
    let span = only(&spans, "monitor_macro::add");
    assert_eq!(span.kind, SpanKind::Function);
    assert_eq!(span.status, Status::Ok);
    assert_eq!(input(&span), json!({"a": 1, "b": 2}));
    assert_eq!(output(&span), json!(3));
    assert!(span.error().is_none());
}

#[test]
fn name_and_group_options() {
    let spans = spans(capture_records(|| assert_eq!(renamed(4), 8)));
    let span = only(&spans, "custom.name");
    assert_eq!(span.group.as_deref(), Some("math"));
    assert_eq!(input(&span), json!({"x": 4}));
}

#[test]
fn unit_function() {
    let mut log = Vec::new();
    let spans = spans(capture_records(|| nothing_returned(&mut log)));
    assert_eq!(log, ["ran"]);
    let span = only(&spans, "monitor_macro::nothing_returned");
    assert_eq!(span.status, Status::Ok);
    assert_eq!(output(&span), Value::Null, "a unit result is not captured");
}

// ---- methods --------------------------------------------------------------------------------

#[derive(Debug)]
struct Counter {
    count: i32,
    label: String,
}

impl Counter {
    #[monitor(name = "Counter::new")]
    fn new(start: i32) -> Self {
        Counter {
            count: start,
            label: "c".into(),
        }
    }

    #[monitor(name = "Counter::get")]
    fn get(&self) -> i32 {
        self.count
    }

    /// A reference tied to `self` by elision.
    #[monitor(name = "Counter::label")]
    fn label(&self) -> &str {
        &self.label
    }

    /// A reference tied to `self` by a named lifetime.
    #[monitor(name = "Counter::count_ref")]
    fn count_ref<'a>(&'a self) -> &'a i32 {
        &self.count
    }

    #[monitor(name = "Counter::incr")]
    fn incr(&mut self, by: i32) {
        self.count += by;
    }

    /// A mutable reference derived from `&mut self`: needs the body closure to be `FnOnce`.
    #[monitor(name = "Counter::count_mut")]
    fn count_mut(&mut self) -> &mut i32 {
        &mut self.count
    }

    #[monitor(name = "Counter::into_label")]
    fn into_label(self) -> String {
        self.label
    }
}

#[test]
fn methods_with_every_receiver() {
    let spans = spans(capture_records(|| {
        let mut counter = Counter::new(5);
        assert_eq!(counter.get(), 5);
        counter.incr(2);
        *counter.count_mut() += 1;
        assert_eq!(*counter.count_ref(), 8);
        assert_eq!(counter.label(), "c");
        assert_eq!(counter.into_label(), "c");
    }));
    for name in [
        "Counter::new",
        "Counter::get",
        "Counter::incr",
        "Counter::count_mut",
        "Counter::count_ref",
        "Counter::label",
        "Counter::into_label",
    ] {
        assert_eq!(only(&spans, name).status, Status::Ok, "{name}");
    }
    assert_eq!(input(&only(&spans, "Counter::new")), json!({"start": 5}));
    assert_eq!(
        input(&only(&spans, "Counter::incr")),
        json!({"by": 2}),
        "self is not captured"
    );
    assert_eq!(
        input(&only(&spans, "Counter::get")),
        Value::Null,
        "nothing to capture"
    );
    assert_eq!(output(&only(&spans, "Counter::label")), json!("c"));
    assert_eq!(output(&only(&spans, "Counter::into_label")), json!("c"));
}

trait Shape {
    fn area(&self) -> f64;
    fn describe(&self) -> String {
        format!("area {}", self.area())
    }
}

struct Square(f64);

impl Shape for Square {
    #[monitor(name = "Square::area")]
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

#[test]
fn trait_impl_method() {
    let spans = spans(capture_records(|| {
        assert_eq!(Square(3.0).describe(), "area 9")
    }));
    assert_eq!(output(&only(&spans, "Square::area")), json!(9.0));
}

// ---- generics, opaque types, patterns -------------------------------------------------------

#[monitor]
fn largest<T>(items: &[T]) -> Option<T>
where
    T: PartialOrd + Copy + fmt::Debug,
{
    let mut best = *items.first()?;
    for &item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[monitor]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[monitor]
fn displayed(value: impl fmt::Display) -> String {
    value.to_string()
}

struct Point {
    x: i32,
    y: i32,
}

#[monitor]
fn destructured((a, b): (i32, i32), Point { x, y: renamed }: Point, _: u8, mut acc: i32) -> i32 {
    acc += a + b + x + renamed;
    acc
}

#[test]
fn generic_opaque_and_patterned_functions() {
    let spans = spans(capture_records(|| {
        assert_eq!(largest(&[3, 9, 2]), Some(9));
        assert_eq!(largest::<u8>(&[]), None);
        assert_eq!(evens(7).collect::<Vec<_>>(), [0, 2, 4, 6]);
        assert_eq!(displayed(42), "42");
        assert_eq!(destructured((1, 2), Point { x: 3, y: 4 }, 0, 10), 20);
    }));
    let largest: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name == "monitor_macro::largest")
        .collect();
    assert_eq!(largest.len(), 2);
    // `T` is only known to be `Debug` inside the generic function.
    assert!(
        shows(&input(largest[0])["items"], "3, 9, 2"),
        "{:?}",
        input(largest[0])
    );
    assert!(shows(&output(largest[0]), "9"));
    only(&spans, "monitor_macro::evens");
    assert_eq!(
        input(&only(&spans, "monitor_macro::displayed"))
            .as_object()
            .unwrap()
            .len(),
        1
    );
    let span = only(&spans, "monitor_macro::destructured");
    assert_eq!(
        input(&span),
        json!({"a": 1, "b": 2, "x": 3, "renamed": 4, "acc": 10})
    );
    assert_eq!(output(&span), json!(20));
}

// ---- errors, early return, `?` --------------------------------------------------------------

#[derive(Debug)]
struct ParseError {
    line: String,
    source: std::num::ParseIntError,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad line {:?}", self.line)
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[monitor]
fn parse_line(line: &str) -> Result<i64, ParseError> {
    if line.is_empty() {
        return Ok(0); // early return leaves the body, not the bookkeeping
    }
    let value = line.trim().parse::<i64>().map_err(|source| ParseError {
        line: line.into(),
        source,
    })?;
    Ok(value * 2)
}

/// `?` converting into `Box<dyn Error>`, and `return` with a coercion.
#[monitor]
fn total(lines: &[&str]) -> Result<i64, Box<dyn std::error::Error>> {
    if lines.is_empty() {
        // Needs the declared return type to coerce `Box<io::Error>` to `Box<dyn Error>`.
        return Err(Box::new(std::io::Error::other("no lines")));
    }
    let mut sum = 0;
    for line in lines {
        sum += parse_line(line)?;
    }
    if sum < 0 {
        return Err("negative total".into());
    }
    Ok(sum)
}

#[test]
fn errors_early_returns_and_question_mark() {
    let spans = spans(capture_records(|| {
        assert_eq!(parse_line("").unwrap(), 0);
        assert_eq!(total(&["1", " 2"]).unwrap(), 6);
        assert!(total(&["1", "x"]).is_err());
        assert!(total(&["-5"]).is_err());
        assert!(total(&[]).is_err());
    }));
    let parses: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name == "monitor_macro::parse_line")
        .collect();
    assert_eq!(parses.len(), 6);
    // A success is its value as JSON (the error type is not Serialize, the i64 is).
    assert_eq!(output(parses[0]), json!(0));
    let failed = parses
        .iter()
        .find(|s| s.status == Status::Error)
        .expect("a failed parse");
    let error = failed.error().unwrap();
    assert_eq!(error.message, "bad line \"x\"");
    assert!(
        error.error_type.ends_with("ParseError"),
        "{}",
        error.error_type
    );
    assert_eq!(error.chain, ["invalid digit found in string"]);

    let totals: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name == "monitor_macro::total")
        .collect();
    assert_eq!(
        totals.iter().map(|s| s.status).collect::<Vec<_>>(),
        [Status::Ok, Status::Error, Status::Error, Status::Error]
    );
    assert!(totals[3].error().unwrap().message.contains("no lines"));
    assert!(
        totals[2]
            .error()
            .unwrap()
            .message
            .contains("negative total")
    );
    // The failed parse is a child of the `total` call that made it.
    assert_eq!(failed.parent_id, totals[1].span_id);
    assert_eq!(failed.trace_id, totals[1].trace_id);
}

#[monitor]
fn explode(n: u32) -> u32 {
    if n > 0 {
        panic!("boom");
    }
    n
}

#[test]
fn panic_marks_the_call_failed() {
    let spans = spans(capture_records(|| {
        assert!(std::panic::catch_unwind(|| explode(1)).is_err());
    }));
    assert_eq!(only(&spans, "monitor_macro::explode").status, Status::Error);
}

// ---- capture options ------------------------------------------------------------------------

#[monitor(skip(password))]
fn login(user: &str, password: &str) -> bool {
    !user.is_empty() && !password.is_empty()
}

#[monitor(skip_all)]
fn store(secret: &str) -> usize {
    secret.len()
}

#[monitor(capture_args = false, capture_result = false)]
fn quiet(secret: &str) -> Result<usize, String> {
    Err(format!("no {secret}"))
}

/// Neither `Serialize` nor `Debug`: still captured (by type name).
struct Opaque;

#[monitor]
fn takes_opaque(_value: Opaque, n: u8) -> Opaque {
    let _ = n;
    Opaque
}

#[test]
fn skip_options_and_uncapturable_types() {
    let spans = spans(capture_records(|| {
        assert!(login("ann", "hunter2"));
        assert_eq!(store("s3cret"), 6);
        assert!(quiet("way").is_err());
        let _ = takes_opaque(Opaque, 1);
    }));
    assert_eq!(
        input(&only(&spans, "monitor_macro::login")),
        json!({"user": "ann"})
    );
    assert_eq!(input(&only(&spans, "monitor_macro::store")), Value::Null);
    let quiet = only(&spans, "monitor_macro::quiet");
    assert_eq!((input(&quiet), output(&quiet)), (Value::Null, Value::Null));
    assert_eq!(
        quiet.status,
        Status::Error,
        "errors are detected without capturing the result"
    );
    assert!(quiet.error().unwrap().message.contains("no way"));
    let opaque = only(&spans, "monitor_macro::takes_opaque");
    let captured = input(&opaque);
    assert_eq!(captured["n"], json!(1));
    assert!(captured.get("_value").is_some(), "{captured}");
}

#[monitor(
    name = "never.called",
    group = "registry",
    sample = 0.25,
    redact(ssn, "api-key")
)]
#[allow(dead_code)]
fn never_called() {}

#[test]
fn every_monitored_function_is_registered() {
    use pathwise::__private::{FunctionRegistration, inventory};
    let meta = inventory::iter::<FunctionRegistration>
        .into_iter()
        .map(|registration| registration.0)
        .find(|meta| meta.name == "never.called")
        .expect("registered without ever running");
    assert_eq!(meta.group, Some("registry"));
    assert_eq!(meta.sample, 0.25);
    assert_eq!(meta.redact, ["ssn", "api-key"]);
    assert_eq!(meta.module_path, "monitor_macro");
    assert!(meta.file.ends_with("monitor_macro.rs"));
    assert!(meta.line > 0 && !meta.is_async);
    let add = inventory::iter::<FunctionRegistration>
        .into_iter()
        .find(|r| r.0.name == "monitor_macro::add")
        .unwrap();
    assert!(add.0.capture_args && add.0.capture_result && add.0.max_repr == 0);
}

// ---- async ----------------------------------------------------------------------------------

#[monitor]
async fn fetch(id: u32) -> Result<String, std::io::Error> {
    tokio::task::yield_now().await;
    if id == 0 {
        return Err(std::io::Error::other("no such id"));
    }
    Ok(format!("item-{id}"))
}

/// The async counterpart of `total`: `return` with a coercion and `?` with a conversion.
#[monitor]
async fn fetch_checked(id: u32) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    if id > 100 {
        return Err(Box::new(std::io::Error::other("id too large")));
    }
    let line = fetch(id).await?;
    Ok(parse_line(line.trim_start_matches("item-"))?.to_string())
}

#[monitor]
async fn fetch_all(ids: Vec<u32>) -> Result<Vec<String>, std::io::Error> {
    let mut out = Vec::new();
    for id in ids {
        out.push(fetch(id).await?);
    }
    Ok(out)
}

struct Service {
    prefix: String,
}

impl Service {
    #[monitor(name = "Service::greet")]
    async fn greet(&self, who: &str) -> String {
        tokio::task::yield_now().await;
        format!("{}{who}", self.prefix)
    }
}

trait Handler {
    async fn handle(&mut self, n: u32) -> u32;
}

impl Handler for Service {
    #[monitor(name = "Service::handle")]
    async fn handle(&mut self, n: u32) -> u32 {
        self.prefix.push('!');
        n + 1
    }
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn async_functions() {
    let spans = spans(capture_records(|| {
        run(async {
            assert_eq!(fetch_all(vec![1, 2]).await.unwrap(), ["item-1", "item-2"]);
            assert!(fetch_all(vec![3, 0, 4]).await.is_err());
            let mut service = Service {
                prefix: "hi ".into(),
            };
            assert_eq!(service.greet("bo").await, "hi bo");
            assert_eq!(service.handle(1).await, 2);
            assert_eq!(fetch_checked(21).await.unwrap(), "42");
            assert!(fetch_checked(0).await.is_err());
            assert!(fetch_checked(101).await.is_err());
        })
    }));
    let all: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name == "monitor_macro::fetch_all")
        .collect();
    assert_eq!(all.len(), 2);
    assert_eq!(input(all[0]), json!({"ids": [1, 2]}));
    assert!(shows(&output(all[0]), "item-2"), "{:?}", output(all[0]));
    assert_eq!(all[1].status, Status::Error);
    let fetches: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name == "monitor_macro::fetch")
        .filter(|s| s.parent_id == all[0].span_id || s.parent_id == all[1].span_id)
        .collect();
    assert_eq!(fetches.len(), 4, "the `?` stopped at id 0");
    // Each fetch is a child of the fetch_all that awaited it, across `.await` points.
    assert!(fetches[..2].iter().all(|f| f.parent_id == all[0].span_id));
    assert!(fetches[2..].iter().all(|f| f.parent_id == all[1].span_id));
    assert_eq!(fetches[3].error().unwrap().message, "no such id");
    assert_eq!(input(&only(&spans, "Service::greet")), json!({"who": "bo"}));
    assert_eq!(output(&only(&spans, "Service::handle")), json!(2));
    let checked: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.name == "monitor_macro::fetch_checked")
        .collect();
    let statuses: Vec<Status> = checked.iter().map(|s| s.status).collect();
    assert_eq!(statuses, [Status::Ok, Status::Error, Status::Error]);
    assert!(checked[1].error().unwrap().message.contains("no such id"));
    assert!(checked[2].error().unwrap().message.contains("id too large"));
}

#[test]
fn async_calls_are_send_and_cancellable() {
    let spans = spans(capture_records(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            // `tokio::spawn` requires the monitored future to be `Send`.
            let joined = tokio::spawn(fetch_all(vec![7])).await.unwrap().unwrap();
            assert_eq!(joined, ["item-7"]);
            // Dropped after its first poll: recorded, not lost.
            let mut pending = Box::pin(fetch(9));
            let waker = std::task::Waker::noop();
            let _ = pending
                .as_mut()
                .poll(&mut std::task::Context::from_waker(waker));
            drop(pending);
        });
    }));
    assert_eq!(only(&spans, "monitor_macro::fetch_all").status, Status::Ok);
    let cancelled = spans
        .iter()
        .find(|s| s.name == "monitor_macro::fetch" && input(s) == json!({"id": 9}))
        .expect("the dropped call is recorded");
    let attrs = &cancelled.details.as_ref().expect("details").attrs;
    assert!(
        attrs
            .iter()
            .any(|(key, value)| key == "cancelled" && *value == AttrValue::Bool(true)),
        "{cancelled:?}"
    );
}
