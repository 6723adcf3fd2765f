//! Decision traces ("X-Ray"): a trace of ordered steps, each with input, output, reasoning and
//! metadata. Steps are spans (kind `step`), so they are timed, counted in paths, baselined and
//! alertable like everything else.
//!
//! Metadata written by the helpers has fixed shapes the dashboard recognises:
//! `evaluations` (filter evaluations), `llm` (a model call) and `ranking` (ranked candidates).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pathwise_capture::CaptureOptions;
use pathwise_model::{AttrValue, ErrorInfo, Name, Record, SpanKind, Status, TraceEvent};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::context::{AttachGuard, Context, Parent};
use crate::span::ActiveSpan;

/// Payload capture for decision data: far more generous than argument capture (people read
/// these), still bounded and still masking secrets.
fn payload_options() -> CaptureOptions {
    CaptureOptions {
        max_repr: 8192,
        max_items: 500,
        max_depth: 12,
        ..CaptureOptions::default()
    }
}

fn summarize<T: Serialize + ?Sized>(value: &T) -> Value {
    pathwise_capture::summarize_serialize(value, &payload_options())
}

/// The summary's JSON text, written directly (input and output are stored as text).
fn summarize_text<T: Serialize + ?Sized>(value: &T) -> String {
    pathwise_capture::summarize_serialize_json(value, &payload_options())
}

/// A running decision trace. Visible as `running` in the store from its first step; completed
/// or failed when dropped (failed if any step failed).
///
/// `Trace` and [`Step`] are `Send`: hold them across `.await` and move them between threads.
/// They do not change the current span by themselves; use [`Step::enter`] (sync code) or
/// [`Step::context`] with [`crate::FutureExt::with_context`] (async code) so that work done
/// during a step nests under it.
///
/// ```
/// use pathwise::{Filter, Llm};
/// use serde_json::json;
/// let trace = pathwise::trace("competitor-selection").metadata("product", "B0123");
/// {
///     let mut step = trace.step("apply_filters");
///     let _current = step.enter(); // spans made here nest under the step
///     step.input(&json!({"candidates": 50}));
///     step.add_evaluation("B0456", &json!({"price": 25}), vec![Filter::new("price", true, "under $30")], true, Some("passed all"));
///     step.llm(Llm::new("gpt-4").tokens(812, 64).temperature(0.7));
///     step.output(&json!({"kept": 12}));
///     step.reasoning("12 of 50 passed every filter");
/// }
/// ```
#[must_use = "the trace completes when dropped"]
pub struct Trace {
    span: Option<ActiveSpan>,
    announced: AtomicBool,
    failed: Arc<AtomicBool>,
    metadata: Map<String, Value>,
}

/// Starts a decision trace named `name` (a new trace, even inside another span). It is
/// announced as running when its first step starts, so metadata set with the builder is part of
/// the announcement.
pub fn trace(name: impl Into<Name>) -> Trace {
    let span = ActiveSpan::start(name.into(), SpanKind::Trace, Parent::Root, false);
    Trace {
        span,
        announced: AtomicBool::new(false),
        failed: Arc::default(),
        metadata: Map::new(),
    }
}

impl Trace {
    /// Adds trace-level metadata (builder form).
    pub fn metadata(mut self, key: &str, value: impl Serialize) -> Self {
        self.set_metadata(key, value);
        self
    }

    /// Adds trace-level metadata.
    pub fn set_metadata(&mut self, key: &str, value: impl Serialize) {
        self.metadata.insert(key.to_string(), summarize(&value));
    }

    /// Starts the next step (a child of the trace's root, whatever span is current).
    pub fn step(&self, name: impl Into<Name>) -> Step {
        self.announce();
        let span = self.span.as_ref().and_then(|trace| {
            ActiveSpan::start(name.into(), SpanKind::Step, Parent::Of(trace.ctx), false)
        });
        Step {
            span,
            failed: self.failed.clone(),
            metadata: Map::new(),
        }
    }

    /// The trace's context, to continue it on another thread or task.
    pub fn context(&self) -> Option<Context> {
        self.span.as_ref().map(|s| s.ctx)
    }

    /// Makes the trace's root the current span of this thread until the guard drops.
    pub fn enter(&self) -> Option<AttachGuard> {
        self.context().map(Context::attach)
    }

    /// Makes the trace visible as running in the store (once).
    fn announce(&self) {
        let Some(span) = &self.span else { return };
        if self.announced.swap(true, Ordering::Relaxed) {
            return;
        }
        let metadata = (!self.metadata.is_empty()).then(|| crate::json_text(&self.metadata));
        pathwise_pipeline::submit_now(Record::Trace(TraceEvent::Started {
            trace_id: span.ctx.trace_id,
            name: span.name().clone(),
            start_ns: span.start_wall_ns(),
            metadata,
        }));
    }

    /// Marks the whole trace failed.
    pub fn fail(&mut self, message: impl Into<String>) {
        if let Some(span) = &mut self.span {
            span.fail(ErrorInfo {
                error_type: "trace".into(),
                message: message.into(),
                chain: Vec::new(),
            });
        }
    }
}

impl Drop for Trace {
    fn drop(&mut self) {
        let Some(mut span) = self.span.take() else {
            return;
        };
        if self.failed.load(Ordering::Acquire) && span.status == Status::Ok {
            span.fail(ErrorInfo {
                error_type: "step_failed".into(),
                message: "a step of this trace failed".into(),
                chain: Vec::new(),
            });
        }
        if !self.metadata.is_empty() {
            span.details().metadata = Some(crate::json_text(&std::mem::take(&mut self.metadata)));
        }
        span.end();
    }
}

/// One filter's verdict on an item.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Filter {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl Filter {
    /// `Filter::new("price", true, "under $30")`.
    pub fn new(name: impl Into<String>, passed: bool, detail: impl Into<String>) -> Self {
        Filter {
            name: name.into(),
            passed,
            detail: detail.into(),
        }
    }
}

/// A language-model call, recorded in `metadata.llm` and as OpenTelemetry `gen_ai.*` attributes.
///
/// ```
/// let llm = pathwise::Llm::new("gpt-4").tokens(812, 64).temperature(0.7).param("top_p", 0.9)
///     .prompt(&serde_json::json!([{"role": "user", "content": "Three keywords for a mouse"}]))
///     .completion("wireless, ergonomic, usb");
/// assert_eq!(llm.total_tokens(), Some(876));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Llm {
    pub model: String,
    pub provider: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub params: Map<String, Value>,
    /// What was sent: the text, or the chat messages (`[{"role", "content"}]`), summarised.
    pub prompt: Option<Value>,
    /// What came back, summarised.
    pub completion: Option<Value>,
}

impl Llm {
    /// A call to `model`.
    pub fn new(model: impl Into<String>) -> Self {
        Llm {
            model: model.into(),
            ..Llm::default()
        }
    }
    /// Prompt and completion token counts.
    pub fn tokens(mut self, input: u64, output: u64) -> Self {
        self.input_tokens = Some(input);
        self.output_tokens = Some(output);
        self
    }
    /// Sampling temperature.
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }
    /// The provider (`gen_ai.provider.name`), e.g. "openai".
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }
    /// Any other request parameter.
    pub fn param(mut self, key: &str, value: impl Serialize) -> Self {
        self.params.insert(key.to_string(), summarize(&value));
        self
    }
    /// The prompt: text or chat messages, summarised (long text cut, secrets masked).
    pub fn prompt<T: Serialize + ?Sized>(mut self, prompt: &T) -> Self {
        self.prompt = Some(summarize(prompt));
        self
    }
    /// The completion, summarised like the prompt.
    pub fn completion<T: Serialize + ?Sized>(mut self, completion: &T) -> Self {
        self.completion = Some(summarize(completion));
        self
    }
    /// Input plus output tokens, when both are known.
    pub fn total_tokens(&self) -> Option<u64> {
        Some(self.input_tokens?.saturating_add(self.output_tokens?))
    }

    fn to_json(&self) -> Value {
        let mut card = json!({
            "model": self.model,
            "provider": self.provider,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens(),
            "temperature": self.temperature,
            "params": self.params,
        });
        for (key, value) in [("prompt", &self.prompt), ("completion", &self.completion)] {
            if let Some(value) = value {
                card[key] = value.clone();
            }
        }
        card
    }

    /// OpenTelemetry GenAI semantic-convention attributes.
    fn otel_attributes(&self) -> Vec<(&'static str, AttrValue)> {
        let mut attrs = vec![
            ("gen_ai.operation.name", AttrValue::from("chat")),
            ("gen_ai.request.model", AttrValue::from(self.model.clone())),
        ];
        if let Some(p) = &self.provider {
            attrs.push(("gen_ai.provider.name", p.clone().into()));
        }
        if let Some(n) = self.input_tokens {
            attrs.push(("gen_ai.usage.input_tokens", n.into()));
        }
        if let Some(n) = self.output_tokens {
            attrs.push(("gen_ai.usage.output_tokens", n.into()));
        }
        if let Some(t) = self.temperature {
            attrs.push(("gen_ai.request.temperature", t.into()));
        }
        for (key, otel) in [
            ("max_tokens", "gen_ai.request.max_tokens"),
            ("top_p", "gen_ai.request.top_p"),
        ] {
            match self.params.get(key) {
                Some(Value::Number(n)) if n.is_i64() => {
                    attrs.push((otel, n.as_i64().unwrap_or(0).into()))
                }
                Some(Value::Number(n)) => attrs.push((otel, n.as_f64().unwrap_or(0.0).into())),
                _ => {}
            }
        }
        attrs
    }
}

/// One ranked candidate.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Ranked {
    pub rank: u32,
    pub item_id: String,
    pub score: f64,
    pub reason: String,
}

impl Ranked {
    /// `Ranked::new(1, "B0456", 0.93, "best price-to-rating ratio")`.
    pub fn new(
        rank: u32,
        item_id: impl Into<String>,
        score: f64,
        reason: impl Into<String>,
    ) -> Self {
        Ranked {
            rank,
            item_id: item_id.into(),
            score,
            reason: reason.into(),
        }
    }
}

/// A step of a decision trace; ends when dropped (failed if it is dropped while its thread
/// panics, or after [`Step::fail`]).
#[must_use = "the step ends when dropped"]
pub struct Step {
    span: Option<ActiveSpan>,
    failed: Arc<AtomicBool>,
    metadata: Map<String, Value>,
}

impl Step {
    fn with_span(&mut self, f: impl FnOnce(&mut ActiveSpan)) {
        if let Some(span) = &mut self.span {
            f(span);
        }
    }

    /// The step's input (summarised, secrets masked).
    pub fn input(&mut self, value: &(impl Serialize + ?Sized)) {
        let text = summarize_text(value);
        self.with_span(|s| s.details().input = Some(text));
    }

    /// The step's output.
    pub fn output(&mut self, value: &(impl Serialize + ?Sized)) {
        let text = summarize_text(value);
        self.with_span(|s| s.details().output = Some(text));
    }

    /// Why the step decided what it did.
    pub fn reasoning(&mut self, text: impl Into<String>) {
        let text = text.into();
        self.with_span(|s| s.details().reasoning = Some(text));
    }

    /// Free-form metadata.
    pub fn metadata(&mut self, key: &str, value: impl Serialize) {
        self.metadata.insert(key.to_string(), summarize(&value));
    }

    /// Records how one item fared against each filter (appended to `metadata.evaluations`).
    pub fn add_evaluation(
        &mut self,
        item_id: impl Into<String>,
        item_data: &(impl Serialize + ?Sized),
        filters: Vec<Filter>,
        qualified: bool,
        reasoning: Option<&str>,
    ) {
        let evaluation = json!({
            "item_id": item_id.into(),
            "item_data": summarize(item_data),
            "filters": filters,
            "qualified": qualified,
            "reasoning": reasoning,
        });
        match self
            .metadata
            .entry("evaluations")
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(list) => list.push(evaluation),
            other => *other = Value::Array(vec![evaluation]),
        }
    }

    /// Records a model call (`metadata.llm` plus `gen_ai.*` attributes).
    pub fn llm(&mut self, call: Llm) {
        self.metadata.insert("llm".into(), call.to_json());
        self.with_span(|s| {
            for (key, value) in call.otel_attributes() {
                s.set_attr(key, value);
            }
        });
    }

    /// Records the final ranking (`metadata.ranking`).
    pub fn ranked_candidates(&mut self, ranking: Vec<Ranked>) {
        self.metadata.insert(
            "ranking".into(),
            serde_json::to_value(ranking).unwrap_or(Value::Null),
        );
    }

    /// Marks the step, and so its trace, failed.
    pub fn fail<E: std::error::Error + ?Sized>(&mut self, error: &E) {
        self.with_span(|s| s.fail(ErrorInfo::from_error(error)));
    }

    /// The step's context, for work on other threads or tasks.
    pub fn context(&self) -> Option<Context> {
        self.span.as_ref().map(|s| s.ctx)
    }

    /// Makes the step the current span of this thread until the guard drops, so spans and
    /// monitored calls made meanwhile nest under it.
    pub fn enter(&self) -> Option<AttachGuard> {
        self.context().map(Context::attach)
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        let Some(mut span) = self.span.take() else {
            return;
        };
        if !self.metadata.is_empty() {
            span.details().metadata = Some(crate::json_text(&std::mem::take(&mut self.metadata)));
        }
        if span.status == Status::Error || std::thread::panicking() {
            self.failed.store(true, Ordering::Release);
        }
        span.end();
    }
}
