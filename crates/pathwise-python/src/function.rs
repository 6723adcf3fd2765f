//! Monitored Python functions: what `@pathwise.monitor` fixes at decoration time, and the
//! start and end of each call (sampling draw, argument and result capture, failures).

use std::cell::Cell;
use std::time::Instant;

use pathwise::SpanKind;
use pathwise_capture::CaptureOptions;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::capture::summarize;
use crate::span::{NativeSpan, json_text, parent_of};

thread_local! {
    /// splitmix64 state for per-function sampling draws.
    static RNG: Cell<u64> = const { Cell::new(0) };
}

fn random_unit() -> f64 {
    RNG.with(|state| {
        let mut s = state.get();
        if s == 0 {
            use std::hash::{BuildHasher, Hasher};
            s = std::hash::RandomState::new().build_hasher().finish() | 1;
        }
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// One monitored Python function: its name and options, fixed at decoration time.
///
/// Names are leaked once per decorated function (bounded by the program's size) so that span
/// starts use the SDK's per-thread path cache instead of hashing the name every call.
#[pyclass(module = "pathwise._native", frozen)]
pub struct FunctionSpec {
    name: &'static str,
    group: Option<&'static str>,
    sample_rate: f64,
    capture_args: bool,
    capture_result: bool,
    options: CaptureOptions,
    /// Positional parameter names, in order.
    params: Vec<String>,
    /// Name of the `*args` parameter, if any.
    var_args: Option<String>,
    /// Parameters never captured (`skip=`, and `self`/`cls`).
    skip: Vec<String>,
}

#[pymethods]
impl FunctionSpec {
    #[new]
    #[pyo3(signature = (name, group, sample_rate, capture_args, capture_result, max_repr, sensitive_fields, params, var_args, skip))]
    #[allow(clippy::too_many_arguments)] // mirrors the decorator's keyword arguments
    fn new(
        name: String,
        group: Option<String>,
        sample_rate: f64,
        capture_args: bool,
        capture_result: bool,
        max_repr: Option<usize>,
        sensitive_fields: Vec<String>,
        params: Vec<String>,
        var_args: Option<String>,
        skip: Vec<String>,
    ) -> PyResult<Self> {
        if !(0.0..=1.0).contains(&sample_rate) {
            return Err(PyValueError::new_err(format!(
                "sample_rate must be within 0.0..=1.0, got {sample_rate}"
            )));
        }
        let mut options = crate::capture_defaults();
        if let Some(max) = max_repr {
            if max == 0 {
                return Err(PyValueError::new_err("max_repr must be at least 1"));
            }
            options.max_repr = max;
        }
        options
            .redact
            .extend(sensitive_fields.into_iter().map(Into::into));
        Ok(FunctionSpec {
            name: Box::leak(name.into_boxed_str()),
            group: group.map(|g| &*Box::leak(g.into_boxed_str())),
            sample_rate,
            capture_args,
            capture_result,
            options,
            params,
            var_args,
            skip,
        })
    }

    /// The span name.
    #[getter]
    fn name(&self) -> &'static str {
        self.name
    }

    /// Starts one call under `parent`, capturing its arguments; `None` when nothing records.
    #[pyo3(signature = (parent, args, kwargs=None))]
    fn start(
        &self,
        parent: Option<&Bound<'_, PyAny>>,
        args: &Bound<'_, PyTuple>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> Option<NativeSpan> {
        if !crate::recording() {
            return None;
        }
        let parent = parent_of(parent);
        if self.sample_rate < 1.0 && random_unit() >= self.sample_rate {
            return Some(NativeSpan {
                span: None,
                ctx: parent,
                root: false,
                unsampled: Some((Instant::now(), self.name, self.group)),
            });
        }
        let mut span = pathwise::start_detached(self.name, SpanKind::Function, parent);
        if let Some(group) = self.group {
            span.set_group(group);
        }
        if self.sample_rate < 1.0 {
            span.set_attr("pathwise.sample_rate", self.sample_rate);
        }
        if self.capture_args && span.is_recording() {
            span.set_input_json(self.arguments(args, kwargs));
        }
        Some(NativeSpan::started(span, parent))
    }

    /// Ends a call that returned `result`.
    fn end(&self, span: &Bound<'_, NativeSpan>, result: &Bound<'_, PyAny>) {
        let Ok(mut span) = span.try_borrow_mut() else {
            return;
        };
        if self.capture_result && span.span.is_some() {
            span.set_output_json(json_text(&summarize(result, &self.options)));
        }
        span.end();
    }

    /// Ends a call that raised `exc` (recorded even when the call lost its sampling draw).
    fn end_failed(&self, span: &Bound<'_, NativeSpan>, exc: &Bound<'_, PyAny>) {
        let Ok(mut span) = span.try_borrow_mut() else {
            return;
        };
        span.fail(exc);
        span.end();
    }
}

impl FunctionSpec {
    /// The arguments as the JSON text of an object keyed by parameter name.
    fn arguments(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> String {
        let mut out = serde_json::Map::new();
        let mut extra = Vec::new();
        for (i, value) in args.iter().enumerate() {
            match self.params.get(i) {
                Some(name) => self.put(&mut out, name, &value),
                None => extra.push(value),
            }
        }
        if !extra.is_empty() {
            let name = self.var_args.as_deref().unwrap_or("args");
            if !self.skip.iter().any(|s| s == name) {
                let tuple = PyTuple::new(args.py(), extra);
                let summary = match tuple {
                    Ok(t) => summarize(t.as_any(), &self.options),
                    Err(_) => serde_json::Value::Null,
                };
                out.insert(name.to_string(), summary);
            }
        }
        if let Some(kwargs) = kwargs {
            for (key, value) in kwargs.iter() {
                if let Ok(key) = key.extract::<String>() {
                    self.put(&mut out, &key, &value);
                }
            }
        }
        json_text(&serde_json::Value::Object(out))
    }

    fn put(
        &self,
        out: &mut serde_json::Map<String, serde_json::Value>,
        name: &str,
        value: &Bound<'_, PyAny>,
    ) {
        if self.skip.iter().any(|s| s == name) {
            return;
        }
        let summary = if self.options.is_secret(name) {
            serde_json::Value::String(pathwise_capture::MASK.into())
        } else {
            summarize(value, &self.options)
        };
        out.insert(name.to_string(), summary);
    }
}
