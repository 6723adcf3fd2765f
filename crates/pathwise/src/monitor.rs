//! The runtime half of `#[monitor]`: what the generated code calls. Hidden from the docs; the
//! attribute is the public interface.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use pathwise_capture::CaptureOptions;
use pathwise_model::{ErrorInfo, SpanKind, SpanRecord, Status};
use rustc_hash::FxBuildHasher;

use crate::context::{self, Context, Parent};
use crate::future::{FutureExt, WithContext};
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

/// Capture defaults from `Config`, and a generation so per-function options rebuild after a
/// new `init`.
pub(crate) static CAPTURE_DEFAULTS: std::sync::RwLock<Option<CaptureOptions>> =
    std::sync::RwLock::new(None);
static CAPTURE_GENERATION: AtomicU64 = AtomicU64::new(1);

pub(crate) fn set_capture_defaults(options: CaptureOptions) {
    *CAPTURE_DEFAULTS.write().unwrap_or_else(|e| e.into_inner()) = Some(options);
    CAPTURE_GENERATION.fetch_add(1, Ordering::Relaxed);
}

thread_local! {
    /// Per-function capture options, built once per (function, generation) and leaked: there
    /// is one per monitored function, so the total is bounded by the program's size.
    static OPTIONS: RefCell<HashMap<(usize, u64), &'static CaptureOptions, FxBuildHasher>> =
        const { RefCell::new(HashMap::with_hasher(FxBuildHasher)) };
}

fn options_for(meta: &'static FunctionMeta) -> &'static CaptureOptions {
    let key = (
        meta as *const FunctionMeta as usize,
        CAPTURE_GENERATION.load(Ordering::Relaxed),
    );
    OPTIONS.with(|cache| {
        *cache.borrow_mut().entry(key).or_insert_with(|| {
            let mut options = CAPTURE_DEFAULTS
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or_default();
            if meta.max_repr > 0 {
                options.max_repr = meta.max_repr;
            }
            options
                .redact
                .extend(meta.redact.iter().map(|r| (*r).into()));
            Box::leak(Box::new(options))
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

/// Runs `fut` with `ctx` current on every poll.
pub fn scope<F: Future>(ctx: Option<Context>, fut: F) -> WithContext<F> {
    match ctx {
        Some(ctx) => fut.with_context(ctx),
        None => fut.with_current_context(),
    }
}

impl FnCall {
    /// Capture options when the arguments should be captured.
    #[inline]
    pub fn capture_args(&self) -> Option<&'static CaptureOptions> {
        (self.span.is_some() && self.meta.capture_args).then(|| options_for(self.meta))
    }

    /// Records one argument's summary.
    pub fn set_arg(&mut self, name: &'static str, value: serde_json::Value) {
        let args = self.args.get_or_insert_with(|| Vec::with_capacity(96));
        args.push(if args.is_empty() { b'{' } else { b',' });
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *args, name);
        args.push(b':');
        let _ = serde_json::to_writer(&mut *args, &value);
    }

    /// Capture options when the result should be captured.
    #[inline]
    pub fn capture_result(&self) -> Option<&'static CaptureOptions> {
        (self.span.is_some() && self.meta.capture_result).then(|| options_for(self.meta))
    }

    /// Records the result's summary.
    pub fn set_result(&mut self, value: serde_json::Value) {
        if let Some(span) = &mut self.span {
            span.details().output = Some(crate::json_text(&value));
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

    /// Ends the call; `error` marks it failed.
    pub fn finish(mut self, error: Option<ErrorInfo>) {
        self.complete(error);
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

/// `outcome!(&value)`: `Some(error)` when `value` is a `Result::Err`, for any type.
#[doc(hidden)]
#[macro_export]
macro_rules! outcome {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::outcome_kind::{
            ErrKind, OtherKind, ResultDebugKind, ResultDisplayKind,
        };
        let value = $value;
        (&&&&$crate::__private::outcome_kind::Probe(value)).pathwise_outcome()
    }};
}
