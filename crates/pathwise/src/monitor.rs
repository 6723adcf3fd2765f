//! The runtime half of `#[monitor]`: what the generated code calls. Hidden from the docs; the
//! attribute is the public interface.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll};

use pathwise_capture::CaptureOptions;
use pathwise_model::{AttrValue, ErrorInfo, SpanKind, SpanRecord, Status};
use rustc_hash::FxBuildHasher;

use crate::config::CaptureSwitch;
use crate::context::{self, Context, Parent};
use crate::outcome_kind::Failure;
use crate::span::ActiveSpan;

/// Static description of one monitored function, generated per call site.
pub struct FunctionMeta {
    pub name: &'static str,
    pub group: Option<&'static str>,
    pub module_path: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub is_async: bool,
    /// Share of calls recorded (errors always are).
    pub sample: f64,
    pub capture_args: bool,
    pub capture_result: bool,
    /// Longest string kept in a summary; 0 = the configured default.
    pub max_repr: usize,
    /// Extra secret field names for this function.
    pub redact: &'static [&'static str],
    /// Record the change of the process's resident memory over the call
    /// (`memory.rss_delta_bytes`).
    pub memory_delta: bool,
}

/// Link-time registration of a monitored function, so "never executed" is exact.
pub struct FunctionRegistration(pub &'static FunctionMeta);

inventory::collect!(FunctionRegistration);

/// Every monitored function linked into this program.
pub fn registered_functions() -> impl Iterator<Item = &'static FunctionMeta> {
    inventory::iter::<FunctionRegistration>
        .into_iter()
        .map(|r| r.0)
}

/// Capture defaults and switch from `Config`, and a generation so per-function options
/// rebuild after a new `init`.
pub(crate) static CAPTURE_DEFAULTS: std::sync::RwLock<Option<(CaptureOptions, CaptureSwitch)>> =
    std::sync::RwLock::new(None);
static CAPTURE_GENERATION: AtomicU64 = AtomicU64::new(1);

pub(crate) fn set_capture_defaults(options: CaptureOptions, switch: CaptureSwitch) {
    *CAPTURE_DEFAULTS.write().unwrap_or_else(|e| e.into_inner()) = Some((options, switch));
    CAPTURE_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Per-function capture options; `None` when the switch turns capture off for the function.
type Decided = Option<&'static CaptureOptions>;

thread_local! {
    /// Per-function capture options, built once per (function, generation) and leaked: there
    /// is one per monitored function, so the total is bounded by the program's size.
    static OPTIONS: RefCell<HashMap<(usize, u64), Decided, FxBuildHasher>> =
        const { RefCell::new(HashMap::with_hasher(FxBuildHasher)) };
}

fn options_for(meta: &'static FunctionMeta) -> Decided {
    let key = (
        meta as *const FunctionMeta as usize,
        CAPTURE_GENERATION.load(Ordering::Relaxed),
    );
    OPTIONS.with(|cache| {
        *cache.borrow_mut().entry(key).or_insert_with(|| {
            let (mut options, switch) = CAPTURE_DEFAULTS
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_default();
            if !switch.captures(meta.name) {
                return None;
            }
            if meta.max_repr > 0 {
                options.max_repr = meta.max_repr;
            }
            options
                .redact
                .extend(meta.redact.iter().map(|r| (*r).into()));
            Some(Box::leak(Box::new(options)))
        })
    })
}

/// One call of a monitored function.
pub struct FnCall {
    meta: &'static FunctionMeta,
    span: Option<ActiveSpan>,
    /// Set when the call lost its sampling draw: nothing is recorded unless it fails.
    unsampled: Option<(u64, Option<Context>)>,
    /// The arguments' JSON object, written as they come (no intermediate map).
    args: Option<Vec<u8>>,
    /// Resident memory at the start, for `memory_delta`.
    rss_start: Option<u64>,
}

/// Span attribute of `#[monitor(memory_delta)]`: resident memory at the end minus at the start.
const RSS_DELTA_ATTR: &str = "memory.rss_delta_bytes";

fn begin(meta: &'static FunctionMeta, enter: bool) -> FnCall {
    let mut call = FnCall {
        meta,
        span: None,
        unsampled: None,
        args: None,
        rss_start: None,
    };
    if !pathwise_pipeline::is_running() {
        return call;
    }
    if meta.sample < 1.0 && context::random_unit() >= meta.sample {
        call.unsampled = Some((pathwise_pipeline::clock().now(), Context::current()));
        return call;
    }
    // Read before the span starts, so that only the closing read falls inside its duration.
    let rss_start = meta
        .memory_delta
        .then(crate::resources::current_rss_bytes)
        .flatten();
    let mut span = ActiveSpan::start(meta.name.into(), SpanKind::Function, Parent::Current, enter);
    if let Some(span) = &mut span {
        span.group = meta.group.map(Into::into);
        if meta.sample < 1.0 {
            span.set_attr("pathwise.sample_rate", meta.sample);
        }
    }
    if span.is_some() {
        call.rss_start = rss_start;
    }
    call.span = span;
    call
}

/// Starts a call whose span is current on this thread until it finishes (sync functions).
pub fn enter(meta: &'static FunctionMeta) -> FnCall {
    begin(meta, true)
}

/// Starts a call whose span is not made current; the body future is wrapped with [`scope`].
pub fn enter_detached(meta: &'static FunctionMeta) -> FnCall {
    begin(meta, false)
}

/// Runs the body of an async call with the call's span current on every poll, and hands what
/// the body recorded through `current_span()` to the call.
pub fn scope<F: Future>(call: &mut FnCall, body: F) -> CallScope<'_, F> {
    CallScope {
        ctx: call.context(),
        call,
        body,
    }
}

pin_project_lite::pin_project! {
    /// The body of an async monitored call; see [`scope`].
    pub struct CallScope<'a, F> {
        #[pin]
        body: F,
        call: &'a mut FnCall,
        ctx: Option<Context>,
    }
}

impl<F: Future> Future for CallScope<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let attached = this.ctx.map(Context::attach);
        let result = this.body.poll(cx);
        if let Some(attached) = attached {
            let span_id = this.ctx.map_or(0, |c| c.span_id);
            let edits = attached.detach();
            match &mut this.call.span {
                Some(span) if span.ctx.span_id == span_id => span.apply(edits),
                // A call that is not recorded: the current span was its caller's.
                _ => crate::edits::deposit(span_id, edits),
            }
        }
        result
    }
}

impl FnCall {
    /// Capture options when the arguments should be captured.
    #[inline]
    pub fn capture_args(&self) -> Option<&'static CaptureOptions> {
        (self.span.is_some() && self.meta.capture_args)
            .then(|| options_for(self.meta))
            .flatten()
    }

    /// Starts one argument's entry (`{"name":` or `,"name":`) and returns the buffer its
    /// summary is appended to (by `capture_into!`).
    pub fn arg_buffer(&mut self, name: &'static str) -> &mut Vec<u8> {
        let args = self.args.get_or_insert_with(|| Vec::with_capacity(128));
        args.push(if args.is_empty() { b'{' } else { b',' });
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *args, name);
        args.push(b':');
        args
    }

    /// Capture options when the result should be captured.
    #[inline]
    pub fn capture_result(&self) -> Option<&'static CaptureOptions> {
        (self.span.is_some() && self.meta.capture_result)
            .then(|| options_for(self.meta))
            .flatten()
    }

    /// Records the result's summary (its JSON text, from `capture_into!`).
    pub fn set_result(&mut self, json: Vec<u8>) {
        if let Some(span) = &mut self.span {
            // Summaries are written as UTF-8; anything else would be a bug, kept visible.
            span.details().output = Some(
                String::from_utf8(json)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            );
        }
    }

    /// The call's span context (the caller's context when the call is not recorded), for
    /// [`scope`].
    pub fn context(&self) -> Option<Context> {
        match (&self.span, &self.unsampled) {
            (Some(span), _) => Some(span.ctx),
            (None, Some((_, parent))) => *parent,
            (None, None) => Context::current(),
        }
    }

    /// Ends the call; `failure` marks it failed.
    pub fn finish(mut self, failure: Option<Failure>) {
        let error = failure.map(|f| {
            if let Some(span) = &mut self.span {
                span.set_type_path(&f.info, f.type_path);
            }
            f.info
        });
        self.complete(error);
    }

    /// Whether this call is being recorded (`fields(..)` are evaluated only then).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.span.is_some()
    }

    /// Adds an attribute computed from the arguments (`#[monitor(fields(..))]`).
    pub fn set_field(&mut self, key: &'static str, value: AttrValue) {
        if let Some(span) = &mut self.span {
            span.set_attr(key, value);
        }
    }

    /// Names the error with the user's `error_kind = ..` function.
    pub fn error_kind(failure: &mut Option<Failure>, kind: impl Into<pathwise_model::Name>) {
        if let Some(failure) = failure {
            failure.info.error_type = kind.into();
        }
    }

    fn complete(&mut self, error: Option<ErrorInfo>) {
        if let Some(mut span) = self.span.take() {
            if let Some(start) = self.rss_start.take()
                && let Some(end) = crate::resources::current_rss_bytes()
            {
                // Resident sizes are far below 2^63 bytes: the casts are exact.
                span.set_attr(RSS_DELTA_ATTR, end as i64 - start as i64);
            }
            if let Some(mut args) = self.args.take() {
                args.push(b'}');
                // serde_json writes UTF-8 only.
                span.details().input = String::from_utf8(args).ok();
            }
            if let Some(error) = error {
                span.fail(error);
            }
            span.end();
        } else if let Some((start, parent)) = self.unsampled.take()
            && let Some(error) =
                error.or_else(|| std::thread::panicking().then(crate::panic::current_panic))
        {
            record_unsampled_failure(self.meta, start, parent, error);
        }
    }
}

impl Drop for FnCall {
    /// Not finished: the thread is unwinding (recorded as a panic) or the future was dropped.
    fn drop(&mut self) {
        if let Some(span) = &mut self.span
            && !std::thread::panicking()
        {
            span.set_attr("cancelled", true);
        }
        self.complete(None);
    }
}

/// A sampled-out call failed: errors are always kept, so record it after the fact.
fn record_unsampled_failure(
    meta: &'static FunctionMeta,
    start: u64,
    parent: Option<Context>,
    error: ErrorInfo,
) {
    let clock = pathwise_pipeline::clock();
    let end = clock.now();
    let name = meta.name.into();
    let parent = parent.map_or(Parent::Root, Parent::Of);
    let (ctx, parent_id) = context::open(&name, parent, false, || {
        (clock.wall_ns(start) / 1_000_000).max(0) as u64
    });
    let mut record = SpanRecord::new(
        ctx.trace_id,
        ctx.span_id,
        parent_id,
        name,
        SpanKind::Function,
    );
    record.path = ctx.path;
    record.start_ns = clock.wall_ns(start);
    record.duration_ns = clock.nanos_between(start, end);
    record.group = meta.group.map(Into::into);
    record.status = Status::Error;
    record.sampled = ctx.sampled;
    record.details_mut().error = Some(error);
    pathwise_pipeline::submit_error(record);
}

/// `outcome!(&value)`: `Some(failure)` when `value` is a `Result::Err`, for any type.
#[doc(hidden)]
#[macro_export]
macro_rules! outcome {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::outcome_kind::{
            ErrKind, KindKind, OtherKind, ResultDebugKind, ResultDisplayKind,
        };
        let value = $value;
        (&&&&&$crate::__private::outcome_kind::Probe(value)).pathwise_outcome()
    }};
}

/// A value `#[monitor(fields(key = expr))]` can record: numbers, booleans and text, borrowed
/// or owned (the generated code passes `&expr`, so fields never move an argument).
pub trait Field {
    fn to_attr(&self) -> AttrValue;
}

impl<T: Field + ?Sized> Field for &T {
    fn to_attr(&self) -> AttrValue {
        (**self).to_attr()
    }
}
impl Field for str {
    fn to_attr(&self) -> AttrValue {
        AttrValue::from(self.to_owned())
    }
}
impl Field for String {
    fn to_attr(&self) -> AttrValue {
        AttrValue::from(self.clone())
    }
}
impl<T: Field> Field for Option<T> {
    fn to_attr(&self) -> AttrValue {
        match self {
            Some(value) => value.to_attr(),
            None => AttrValue::from("none"),
        }
    }
}
macro_rules! copy_fields {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn to_attr(&self) -> AttrValue {
                AttrValue::from(*self)
            }
        }
    )*};
}
copy_fields!(
    i64, i32, i16, i8, isize, u32, u16, u8, u64, usize, f64, f32, bool
);
