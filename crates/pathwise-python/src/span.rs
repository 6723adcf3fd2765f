//! Spans as Python sees them. Python keeps the current span in a `contextvars.ContextVar`
//! (the thread-stack context of the Rust SDK does not follow asyncio tasks), so every span here
//! is a [`pathwise::DetachedSpan`] started under the parent Python passes in.

use std::cell::Cell;
use std::time::{Duration, Instant};

use pathwise::{AttrValue, Context, DetachedSpan, ErrorInfo, SpanKind};
use pathwise_capture::CaptureOptions;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

use crate::capture::{summarize, truncate, type_name};
use crate::context::{self, Token};

thread_local! {
    /// Spans started on this thread and not yet ended; at zero the thread's buffered records
    /// are handed to the pipeline (one hand-off per batch, as in the Rust SDK).
    static OPEN: Cell<u32> = const { Cell::new(0) };
}

/// Generous limits for decision data (step input/output/metadata): people read these.
pub(crate) fn payload_options() -> CaptureOptions {
    CaptureOptions {
        max_repr: 8192,
        max_items: 500,
        max_depth: 12,
        ..CaptureOptions::default()
    }
}

/// Why a call failed, from a Python exception: its class, message, the messages of its
/// `__cause__`/`__context__` chain, and (as attribute `exception.stacktrace`) its traceback.
fn error_info(exc: &Bound<'_, PyAny>) -> (ErrorInfo, Option<String>) {
    let message = exc
        .str()
        .map(|s| truncate(&s.to_string_lossy(), 4096))
        .unwrap_or_default();
    let mut chain = Vec::new();
    let mut cause = next_cause(exc);
    while let Some(c) = cause {
        if chain.len() == 16 {
            break; // a cyclic or absurdly deep chain must not hang the host
        }
        let text = c.str().map(|s| s.to_string()).unwrap_or_default();
        chain.push(truncate(&format!("{}: {text}", type_name(&c)), 4096));
        cause = next_cause(&c);
    }
    let traceback = exc
        .py()
        .import("traceback")
        // The three-argument form: the one-argument form is Python ≥ 3.10 only.
        .and_then(|tb| {
            let trace = exc.getattr("__traceback__")?;
            tb.call_method1("format_exception", (exc.get_type(), exc, trace))
        })
        .and_then(|lines| lines.extract::<Vec<String>>())
        .ok()
        .map(|lines| truncate(&lines.concat(), 16_384));
    let info = ErrorInfo {
        error_type: type_name(exc).into(),
        message,
        chain,
    };
    (info, traceback)
}

fn next_cause<'py>(exc: &Bound<'py, PyAny>) -> Option<Bound<'py, PyAny>> {
    ["__cause__", "__context__"]
        .into_iter()
        .filter_map(|attr| exc.getattr(attr).ok())
        .find(|c| !c.is_none())
}

fn attr_value(value: &Bound<'_, PyAny>) -> AttrValue {
    if let Ok(b) = value.cast::<PyBool>() {
        return AttrValue::Bool(b.is_true());
    }
    if value.is_instance_of::<PyInt>()
        && let Ok(n) = value.extract::<i64>()
    {
        return AttrValue::I64(n);
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return AttrValue::F64(f.value());
    }
    if let Ok(s) = value.cast::<PyString>() {
        return AttrValue::Str(truncate(&s.to_string_lossy(), 8192).into());
    }
    AttrValue::Str(summarize(value, &CaptureOptions::default()).into())
}

/// A span being recorded (or, for a call that lost its sampling draw, the stand-in that keeps
/// its parent's place and records the call only if it fails).
///
/// ```python
/// with pathwise.trace("checkout"):
///     pathwise.current_span().set_attribute("cart.items", 3)
/// ```
#[pyclass(module = "pathwise._native", name = "Span")]
pub struct NativeSpan {
    pub(crate) span: Option<DetachedSpan>,
    /// The context children attach to: this span's, or the caller's for an unsampled call.
    pub(crate) ctx: Option<Context>,
    pub(crate) root: bool,
    /// Set for a call that lost its sampling draw: when it began, and its name and group.
    pub(crate) unsampled: Option<(Instant, &'static str, Option<&'static str>)>,
    /// Set while this span is the current span through `FunctionSpec.enter`: undoes that.
    pub(crate) token: Option<Token>,
}

impl NativeSpan {
    pub(crate) fn started(span: DetachedSpan, parent: Option<Context>) -> Self {
        OPEN.with(|open| open.set(open.get() + 1));
        NativeSpan {
            ctx: span.context(),
            span: Some(span),
            root: parent.is_none(),
            unsampled: None,
            token: None,
        }
    }

    /// Makes the span that was current before this one's `enter` current again (if it
    /// entered).
    pub(crate) fn leave_context(&mut self, py: Python<'_>) {
        if let Some(token) = self.token.take() {
            context::restore(py, token);
        }
    }

    pub(crate) fn set_input_json(&mut self, json: String) {
        if let Some(span) = &mut self.span {
            span.set_input_json(json);
        }
    }

    pub(crate) fn set_output_json(&mut self, json: String) {
        if let Some(span) = &mut self.span {
            span.set_output_json(json);
        }
    }

    fn record_unsampled_failure(&mut self, exc: &Bound<'_, PyAny>) {
        let Some((began, name, group)) = self.unsampled.take() else {
            return;
        };
        let mut span =
            pathwise::start_detached_backdated(name, SpanKind::Function, self.ctx, began.elapsed());
        if let Some(group) = group {
            span.set_group(group);
        }
        let (info, traceback) = error_info(exc);
        span.fail(info);
        if let Some(tb) = traceback {
            span.set_attr("exception.stacktrace", tb);
        }
        // Failed spans reach the error lane at once; nothing waits in the thread buffer.
        span.end_deferred();
    }
}

/// The parent context named by what Python keeps as the current span (a span, or `None`).
pub(crate) fn parent_of(parent: Option<&Bound<'_, PyAny>>) -> Option<Context> {
    let parent = parent?;
    let span = parent.cast::<NativeSpan>().ok()?;
    span.try_borrow().ok()?.ctx
}

#[pymethods]
impl NativeSpan {
    /// The trace id as 32 hex digits (`None` when not recording).
    #[getter]
    fn trace_id(&self) -> Option<String> {
        self.ctx.map(|c| c.trace_id().to_hex())
    }

    /// The span id (`None` when not recording).
    #[getter]
    fn span_id(&self) -> Option<u64> {
        self.ctx.map(|c| c.span_id())
    }

    /// Whether this span is recorded.
    #[getter]
    fn is_recording(&self) -> bool {
        self.span.as_ref().is_some_and(DetachedSpan::is_recording)
    }

    /// Adds an attribute: bool, int, float and str keep their type; anything else is stored as
    /// the JSON text of its summary. Never raises on odd values.
    fn set_attribute(&mut self, key: String, value: &Bound<'_, PyAny>) {
        if let Some(span) = &mut self.span {
            span.set_attr(key, attr_value(value));
        }
    }

    /// Sets the component (group) of the span.
    fn set_group(&mut self, group: String) {
        if let Some(span) = &mut self.span {
            span.set_group(group);
        }
    }

    /// Input (summarised with the generous decision-data limits).
    fn set_input(&mut self, value: &Bound<'_, PyAny>) {
        if self.span.is_some() {
            self.set_input_json(summarize(value, &payload_options()));
        }
    }

    /// Output (summarised with the generous decision-data limits).
    fn set_output(&mut self, value: &Bound<'_, PyAny>) {
        if self.span.is_some() {
            self.set_output_json(summarize(value, &payload_options()));
        }
    }

    /// Reasoning text of a decision step.
    fn set_reasoning(&mut self, text: &Bound<'_, PyAny>) {
        if let Some(span) = &mut self.span {
            let text = match text.cast::<PyString>() {
                Ok(s) => s.to_string_lossy().into_owned(),
                Err(_) => text.str().map(|s| s.to_string()).unwrap_or_default(),
            };
            span.set_reasoning(truncate(&text, 65_536));
        }
    }

    /// Metadata: a dict, summarised (secrets masked).
    fn set_metadata(&mut self, metadata: &Bound<'_, PyAny>) {
        if let Some(span) = &mut self.span {
            span.set_metadata_json(summarize(metadata, &payload_options()));
        }
    }

    /// Marks the span failed with a Python exception (type, message, cause chain, traceback).
    pub(crate) fn fail(&mut self, exc: &Bound<'_, PyAny>) {
        if self.unsampled.is_some() {
            self.record_unsampled_failure(exc);
            return;
        }
        if let Some(span) = &mut self.span {
            let (info, traceback) = error_info(exc);
            span.fail(info);
            if let Some(tb) = traceback {
                span.set_attr("exception.stacktrace", tb);
            }
        }
    }

    /// Marks the span failed with an error type and message.
    fn fail_with(&mut self, error_type: String, message: String) {
        if let Some(span) = &mut self.span {
            span.fail(ErrorInfo {
                error_type: error_type.into(),
                message,
                chain: Vec::new(),
            });
        }
    }

    /// Whether the span is marked failed.
    #[getter]
    fn failed(&self) -> bool {
        self.span.as_ref().is_some_and(DetachedSpan::is_failed)
    }

    /// Makes the span's trace visible as running, with trace metadata (a dict or `None`).
    #[pyo3(signature = (metadata=None))]
    fn announce_trace(&self, metadata: Option<&Bound<'_, PyAny>>) {
        if let Some(span) = &self.span {
            let metadata = metadata
                .filter(|m| !m.is_none())
                .map(|m| summarize(m, &payload_options()));
            span.announce_trace(metadata);
        }
    }

    /// Ends the span (idempotent). A failed span is in the error lane file when this returns.
    pub(crate) fn end(&mut self) {
        self.unsampled = None;
        let Some(span) = self.span.take() else {
            return;
        };
        span.end_deferred();
        let open = OPEN.with(|open| {
            let n = open.get().saturating_sub(1);
            open.set(n);
            n
        });
        if open == 0 || self.root {
            pathwise::flush_thread();
        }
    }
}

/// Starts a span under `parent` (a span or `None`); `None` when nothing records.
#[pyfunction]
#[pyo3(signature = (name, kind, parent=None, group=None))]
pub(crate) fn start_span(
    name: String,
    kind: &str,
    parent: Option<&Bound<'_, PyAny>>,
    group: Option<String>,
) -> PyResult<Option<NativeSpan>> {
    let kind = match kind {
        "span" => SpanKind::Span,
        "function" => SpanKind::Function,
        "step" => SpanKind::Step,
        "trace" => SpanKind::Trace,
        "iteration" => SpanKind::Iteration,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown span kind {other:?}"
            )));
        }
    };
    if !crate::recording() {
        return Ok(None);
    }
    // A decision trace is always the root of a trace of its own.
    let parent = if kind == SpanKind::Trace {
        None
    } else {
        parent_of(parent)
    };
    let mut span = pathwise::start_detached(name, kind, parent);
    if let Some(group) = group {
        span.set_group(group);
    }
    Ok(Some(NativeSpan::started(span, parent)))
}

/// Records an operation the caller timed itself, under `parent` (a span or `None`).
#[pyfunction]
#[pyo3(signature = (component, operation, duration, success=true, parent=None))]
pub(crate) fn record_operation(
    component: String,
    operation: String,
    duration: f64,
    success: bool,
    parent: Option<&Bound<'_, PyAny>>,
) {
    if !crate::recording() {
        return;
    }
    let duration = Duration::try_from_secs_f64(duration.max(0.0)).unwrap_or(Duration::ZERO);
    let error = (!success).then(|| ErrorInfo {
        error_type: "operation_failed".into(),
        message: "operation reported failure".into(),
        chain: Vec::new(),
    });
    pathwise::record_operation_under(parent_of(parent), component, operation, duration, error);
    if OPEN.with(Cell::get) == 0 {
        // No span of this thread will end to hand the record over.
        pathwise::flush_thread();
    }
}
