//! Spans whose parent is given explicitly and which never touch the thread's span stack: for
//! hosts that keep their own notion of "current span" (Python's `contextvars`, other runtimes'
//! task-local context). The host passes the parent [`Context`] in and keeps the returned one.

use std::time::Duration;

use pathwise_model::{AttrValue, ErrorInfo, Name, Record, SpanKind, Status, TraceEvent};

use crate::context::{Context, Parent};
use crate::span::ActiveSpan;

/// A running span with an explicit parent; `Send`, so it may end on another thread than the one
/// it started on. Nothing is recorded while no pipeline runs (then every method is a no-op).
///
/// ```
/// let _recording = pathwise::testing::Recorder::start();
/// let root = pathwise::start_detached("request", pathwise::SpanKind::Span, None);
/// let child = pathwise::start_detached("load", pathwise::SpanKind::Function, root.context());
/// assert_eq!(child.context().map(|c| c.trace_id()), root.context().map(|c| c.trace_id()));
/// child.end_deferred(); // buffered on this thread
/// root.end();           // a root flushes this thread's buffer
/// ```
#[must_use = "the span is recorded when it ends"]
pub struct DetachedSpan {
    span: Option<ActiveSpan>,
}

/// Starts a span named `name` under `parent` (`None`: the root of a new trace). The span is not
/// made current anywhere; children name it through [`DetachedSpan::context`].
pub fn start_detached(
    name: impl Into<Name>,
    kind: SpanKind,
    parent: Option<Context>,
) -> DetachedSpan {
    let parent = parent.map_or(Parent::Root, Parent::Of);
    DetachedSpan {
        span: ActiveSpan::start(name.into(), kind, parent, false),
    }
}

/// A `Send` span under this thread's current span (or the root of a new trace), for async
/// code: set attributes and errors on it, move it into a spawned task, hand its
/// [`context`](DetachedSpan::context) to children, [`instrument`](DetachedSpan::instrument) a
/// future with it, or [`end`](DetachedSpan::end) it.
///
/// ```
/// let _recording = pathwise::testing::Recorder::start();
/// let mut span = pathwise::span_handle("background sync");
/// std::thread::spawn(move || {
///     span.set_attr("rows", 12_u64);
///     span.end();
/// }).join().unwrap();
/// ```
pub fn span_handle(name: impl Into<Name>) -> DetachedSpan {
    DetachedSpan {
        span: ActiveSpan::start(name.into(), SpanKind::Span, Parent::Current, false),
    }
}

/// Like [`start_detached`], for a call that began `elapsed` ago and is only now known to need a
/// record (a call that lost its sampling draw and then failed: errors are always kept).
///
/// ```
/// let _recording = pathwise::testing::Recorder::start();
/// let mut span = pathwise::start_detached_backdated(
///     "flaky", pathwise::SpanKind::Function, None, std::time::Duration::from_millis(3));
/// span.fail(pathwise::ErrorInfo { error_type: "ValueError".into(), message: "bad".into(), chain: vec![] });
/// span.end();
/// ```
pub fn start_detached_backdated(
    name: impl Into<Name>,
    kind: SpanKind,
    parent: Option<Context>,
    elapsed: Duration,
) -> DetachedSpan {
    let parent = parent.map_or(Parent::Root, Parent::Of);
    DetachedSpan {
        span: ActiveSpan::start_backdated(name.into(), kind, parent, elapsed),
    }
}

/// Hands this thread's buffered records to the pipeline now (see [`DetachedSpan::end_deferred`]).
///
/// ```
/// pathwise::flush_thread(); // harmless when nothing is buffered or nothing records
/// ```
pub fn flush_thread() {
    pathwise_pipeline::flush_thread();
}

impl DetachedSpan {
    fn with_span(&mut self, f: impl FnOnce(&mut ActiveSpan)) {
        if let Some(span) = &mut self.span {
            f(span);
        }
    }

    /// This span's context, the parent to give its children; `None` when not recording.
    pub fn context(&self) -> Option<Context> {
        self.span.as_ref().map(|s| s.ctx)
    }

    /// Whether a span is being recorded at all.
    pub fn is_recording(&self) -> bool {
        self.span.is_some()
    }

    /// Adds a typed attribute.
    pub fn set_attr(&mut self, key: impl Into<Name>, value: impl Into<AttrValue>) {
        self.with_span(|s| s.set_attr(key, value));
    }

    /// Sets the component (group) of this span.
    pub fn set_group(&mut self, group: impl Into<Name>) {
        self.with_span(|s| s.group = Some(group.into()));
    }

    /// The input, as JSON text (the caller has summarised and masked it).
    pub fn set_input_json(&mut self, json: String) {
        self.with_span(|s| s.details().input = Some(json));
    }

    /// The output or result, as JSON text.
    pub fn set_output_json(&mut self, json: String) {
        self.with_span(|s| s.details().output = Some(json));
    }

    /// Why a decision step decided what it did.
    pub fn set_reasoning(&mut self, text: String) {
        self.with_span(|s| s.details().reasoning = Some(text));
    }

    /// Metadata, as the JSON text of an object.
    pub fn set_metadata_json(&mut self, json: String) {
        self.with_span(|s| s.details().metadata = Some(json));
    }

    /// Marks the span failed.
    pub fn fail(&mut self, error: ErrorInfo) {
        self.with_span(|s| s.fail(error));
    }

    /// Marks the span failed with `error` (its type, variant, message and source chain).
    pub fn record_error<E: std::error::Error + ?Sized>(&mut self, error: &E) {
        self.with_span(|s| s.record_error(error));
    }

    /// Runs `future` as this span: current on every poll of it (whichever thread polls), ended
    /// when it completes (marked `cancelled` when dropped before). With [`span_handle`] this is
    /// an async root or child span that can be created in one task and awaited in a spawned one.
    ///
    /// ```
    /// # async fn load(_: u32) -> u32 { 1 }
    /// async fn handle(id: u32) -> u32 {
    ///     let mut span = pathwise::span_handle("request");
    ///     span.set_attr("id", id as u64);
    ///     span.instrument(load(id)).await
    /// }
    /// ```
    pub fn instrument<F: std::future::Future>(mut self, future: F) -> crate::InSpan<F> {
        crate::InSpan::of(future, self.span.take())
    }

    /// Whether the span has been marked failed.
    pub fn is_failed(&self) -> bool {
        self.span
            .as_ref()
            .is_some_and(|s| s.status == Status::Error)
    }

    /// Makes this span's trace visible as `running` in the store now (decision traces), with
    /// trace-level metadata as the JSON text of an object.
    pub fn announce_trace(&self, metadata_json: Option<String>) {
        let Some(span) = &self.span else { return };
        pathwise_pipeline::submit_now(Record::Trace(TraceEvent::Started {
            trace_id: span.ctx.trace_id,
            name: span.name().clone(),
            start_ns: span.start_wall_ns(),
            metadata: metadata_json,
        }));
    }

    /// Ends the span; its record is handed to the pipeline at once unless the thread is inside a
    /// span of its own stack. A failed span reaches the error lane before this returns.
    pub fn end(mut self) {
        if let Some(span) = self.span.take() {
            span.end();
        }
    }

    /// Ends the span but leaves its record in this thread's buffer (failed spans still go to the
    /// error lane at once). The host calls [`flush_thread`] when the thread leaves its outermost
    /// span, as the thread-stack SDK does: one queue hand-off per batch, not per span.
    pub fn end_deferred(mut self) {
        if let Some(span) = self.span.take() {
            span.end_buffered();
        }
    }
}

impl Drop for DetachedSpan {
    /// Dropped without `end`: recorded anyway, so nothing is lost.
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            span.end();
        }
    }
}
