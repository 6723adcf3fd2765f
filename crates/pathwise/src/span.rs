//! Spans: the RAII guard, the closure form, and the core every other kind of span (monitored
//! call, decision step, trace root) is built on.

use std::marker::PhantomData;

use pathwise_model::{AttrValue, ErrorInfo, Name, SpanDetails, SpanKind, SpanRecord, Status};
use pathwise_pipeline::clock;

use crate::context::{self, Context, Edit, Parent};
use crate::panic;

/// The attribute holding a failed span's full error type (`error_type` is the short name).
pub(crate) const ERROR_TYPE_PATH_ATTR: &str = "error.type_path";

/// A span being recorded. Finishing it builds the record and hands it to the pipeline.
pub(crate) struct ActiveSpan {
    pub(crate) ctx: Context,
    parent_id: u64,
    name: Name,
    pub(crate) group: Option<Name>,
    kind: SpanKind,
    start: u64,
    /// Whether `ctx` sits on this thread's stack and must be popped at the end.
    entered: bool,
    pub(crate) status: Status,
    pub(crate) details: Option<Box<SpanDetails>>,
    /// How long before `start` the span really began (spans recorded after the fact).
    backdate_ns: u64,
}

impl ActiveSpan {
    /// Starts a span; `None` when no pipeline is recording (then spans cost one atomic load).
    #[inline]
    pub(crate) fn start(name: Name, kind: SpanKind, parent: Parent, enter: bool) -> Option<Self> {
        if !pathwise_pipeline::is_running() {
            return None;
        }
        let clock = clock();
        let start = clock.now();
        let (ctx, parent_id) = context::open(&name, parent, enter, || {
            (clock.wall_ns(start) / 1_000_000).max(0) as u64
        });
        Some(ActiveSpan {
            ctx,
            parent_id,
            name,
            group: None,
            kind,
            start,
            entered: enter,
            status: Status::Ok,
            details: None,
            backdate_ns: 0,
        })
    }

    /// Starts a span that began `elapsed` ago (never entered on the thread's stack).
    pub(crate) fn start_backdated(
        name: Name,
        kind: SpanKind,
        parent: Parent,
        elapsed: std::time::Duration,
    ) -> Option<Self> {
        let mut span = Self::start(name, kind, parent, false)?;
        span.backdate_ns = elapsed.as_nanos().min(i64::MAX as u128) as u64;
        Some(span)
    }

    pub(crate) fn name(&self) -> &Name {
        &self.name
    }

    pub(crate) fn start_wall_ns(&self) -> i64 {
        clock().wall_ns(self.start)
    }

    pub(crate) fn details(&mut self) -> &mut SpanDetails {
        self.details.get_or_insert_with(Default::default)
    }

    pub(crate) fn set_attr(&mut self, key: impl Into<Name>, value: impl Into<AttrValue>) {
        self.details().attrs.push((key.into(), value.into()));
    }

    pub(crate) fn fail(&mut self, error: ErrorInfo) {
        self.status = Status::Error;
        self.details().error = Some(error);
    }

    /// Keeps an error's full type path beside its short name, when they differ.
    pub(crate) fn set_type_path(&mut self, info: &ErrorInfo, type_path: &'static str) {
        if info.error_type != type_path {
            self.set_attr(ERROR_TYPE_PATH_ATTR, type_path);
        }
    }

    /// Marks the span failed with `error`, keeping its full type path as an attribute.
    pub(crate) fn record_error<E: std::error::Error + ?Sized>(&mut self, error: &E) {
        let info = ErrorInfo::from_error(error);
        self.set_type_path(&info, std::any::type_name::<E>());
        self.fail(info);
    }

    /// Applies what code inside the span recorded through `current_span()`.
    #[cold]
    pub(crate) fn apply(&mut self, edits: Vec<Edit>) {
        for edit in edits {
            match edit {
                Edit::Attr(key, value) => self.set_attr(key, value),
                Edit::Fail(error) => self.fail(error),
            }
        }
    }

    /// Ends the span now. A span dropped while its thread unwinds is recorded as a panic.
    #[inline]
    pub(crate) fn end(self) {
        self.finish(true);
    }

    /// Ends the span without handing this thread's buffer over (the caller flushes later).
    pub(crate) fn end_buffered(self) {
        self.finish(false);
    }

    #[inline]
    fn finish(mut self, hand_over: bool) {
        let clock = clock();
        let end = clock.now();
        let left_stack = self.entered.then(|| {
            let left = context::leave(self.ctx.span_id);
            if left.edits {
                self.apply(context::edits_of(self.ctx.span_id));
            }
            left.emptied
        });
        let waiting = crate::edits::take_waiting(self.ctx.span_id);
        if !waiting.is_empty() {
            self.apply(waiting);
        }
        if std::thread::panicking() && self.status == Status::Ok {
            self.fail(panic::current_panic());
        }
        let record = SpanRecord {
            trace_id: self.ctx.trace_id,
            span_id: self.ctx.span_id,
            parent_id: self.parent_id,
            start_ns: clock.wall_ns(self.start) - self.backdate_ns as i64,
            duration_ns: clock.nanos_between(self.start, end) + self.backdate_ns,
            name: self.name,
            group: self.group,
            path: self.ctx.path,
            kind: self.kind,
            status: self.status,
            sampled: self.ctx.sampled,
            details: self.details,
        };
        // The error lane write happens here, before the failing call returns.
        if record.status == Status::Error {
            pathwise_pipeline::submit_error(record);
        } else {
            pathwise_pipeline::submit(record);
        }
        if let Some(emptied) = left_stack {
            if emptied {
                pathwise_pipeline::flush_thread();
            }
        } else if hand_over && Context::current().is_none() {
            // A detached span (future, decision step) ending outside any span: no outermost
            // span will end on this thread to hand the record over, so do it now.
            pathwise_pipeline::flush_thread();
        }
    }
}

/// A span that ends when dropped. Create one with [`span`]; it is the current span of its
/// thread (children nest under it) until it drops.
///
/// ```
/// let _pathwise = pathwise::testing::Recorder::start();
/// {
///     let _s = pathwise::span("SearchService.rank").attr("count", 12);
/// }
/// ```
#[must_use = "the span ends when the guard drops; bind it with `let _s = ...`"]
pub struct SpanGuard {
    span: Option<ActiveSpan>,
    _not_send: PhantomData<*const ()>,
}

/// Starts a span named `name` as a child of this thread's current span (or as the root of a
/// new trace).
///
/// ```
/// let _outer = pathwise::span("outer");
/// let inner = pathwise::span(format!("item-{}", 3)); // owned names work too
/// drop(inner);
/// ```
#[inline]
pub fn span(name: impl Into<Name>) -> SpanGuard {
    SpanGuard::new(name.into(), SpanKind::Span)
}

/// Runs `f` inside a span named `name`; a panic in `f` marks the span failed and propagates.
///
/// ```
/// let sum = pathwise::in_span("sum", || 2 + 2);
/// assert_eq!(sum, 4);
/// ```
pub fn in_span<R>(name: impl Into<Name>, f: impl FnOnce() -> R) -> R {
    let _guard = span(name);
    f()
}

impl SpanGuard {
    pub(crate) fn new(name: Name, kind: SpanKind) -> Self {
        SpanGuard {
            span: ActiveSpan::start(name, kind, Parent::Current, true),
            _not_send: PhantomData,
        }
    }

    /// Adds a typed attribute (builder form).
    pub fn attr(mut self, key: impl Into<Name>, value: impl Into<AttrValue>) -> Self {
        self.set_attr(key, value);
        self
    }

    /// Adds a typed attribute.
    pub fn set_attr(&mut self, key: impl Into<Name>, value: impl Into<AttrValue>) {
        if let Some(span) = &mut self.span {
            span.set_attr(key, value);
        }
    }

    /// Sets the component (group) of this span.
    pub fn group(mut self, group: impl Into<Name>) -> Self {
        if let Some(span) = &mut self.span {
            span.group = Some(group.into());
        }
        self
    }

    /// Marks the span failed with `error` (its type, message and source chain).
    pub fn record_error<E: std::error::Error + ?Sized>(&mut self, error: &E) {
        if let Some(span) = &mut self.span {
            span.record_error(error);
        }
    }

    /// Marks the span failed with a message.
    pub fn fail(&mut self, error_type: impl Into<Name>, message: impl Into<String>) {
        if let Some(span) = &mut self.span {
            span.fail(ErrorInfo::new(error_type, message));
        }
    }

    /// This span's context, to continue its work on another thread or task.
    pub fn context(&self) -> Option<Context> {
        self.span.as_ref().map(|s| s.ctx)
    }
}

impl Drop for SpanGuard {
    #[inline]
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            span.end();
        }
    }
}
