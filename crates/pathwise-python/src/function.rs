//! Monitored Python functions: what `@pathwise.monitor` fixes at decoration time, and the
//! start and end of each call (sampling draw, argument and result capture, failures).

use std::cell::Cell;
use std::time::Instant;

use pathwise::SpanKind;
use pathwise_capture::CaptureOptions;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::capture::{
    into_text, member_key, separate, str_of, summarize, summarize_into, write_key, write_str,
};
use crate::context::{self, Token};
use crate::span::{NativeSpan, parent_of};

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
    /// Positional parameters, in order.
    params: Vec<Param>,
    /// The `*args` parameter (`args` when the function has none but gets more positionals).
    var_args: Param,
    /// Parameters never captured (`skip=`, and `self`/`cls`), for keyword arguments.
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
        let params = params
            .iter()
            .map(|p| Param::new(p, &skip, &options))
            .collect();
        let var_args = Param::new(var_args.as_deref().unwrap_or("args"), &skip, &options);
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
                token: None,
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
        span.leave_context(result.py());
        if self.capture_result && span.span.is_some() {
            span.set_output_json(summarize(result, &self.options));
        }
        span.end();
    }

    /// Starts one call under the current span and makes it the current span until
    /// [`end`](Self::end) or [`end_failed`](Self::end_failed), which restore the caller's;
    /// `None` when nothing records. For wrappers that must stay in Python (`async def`).
    ///
    /// ```python
    /// span = spec.enter(args, kwargs)
    /// result = await fn(*args, **kwargs)
    /// spec.end(span, result)
    /// ```
    #[pyo3(signature = (args, kwargs=None))]
    fn enter<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> Option<Bound<'py, NativeSpan>> {
        let (span, token) = self.enter_current(args, kwargs)?;
        span.borrow_mut().token = Some(token);
        Some(span)
    }

    /// Calls `func(*args, **kwargs)` as one monitored call under the current span: the whole
    /// of a plain function's wrapper in one crossing into Rust. The result or exception is
    /// `func`'s own, unchanged.
    ///
    /// ```python
    /// def monitored(*args, **kwargs):
    ///     return spec.call(fn, args, kwargs)
    /// ```
    #[pyo3(signature = (func, args, kwargs=None))]
    fn call<'py>(
        &self,
        func: &Bound<'py, PyAny>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = func.py();
        let Some((span, token)) = self.enter_current(args, kwargs) else {
            return func.call(args, kwargs);
        };
        let outcome = func.call(args, kwargs);
        // Restored here, not by `end`: the caller's span is current again whatever happens to
        // this one.
        context::restore(py, token);
        match outcome {
            Ok(value) => {
                self.end(&span, &value);
                Ok(value)
            }
            Err(err) => {
                let exc = err.value(py);
                if let Some(tb) = err.traceback(py) {
                    // What an `except` clause would do: the traceback so far, on the exception.
                    drop(exc.setattr("__traceback__", tb));
                }
                self.end_failed(&span, exc);
                Err(err)
            }
        }
    }

    /// Ends a call that raised `exc` (recorded even when the call lost its sampling draw).
    fn end_failed(&self, span: &Bound<'_, NativeSpan>, exc: &Bound<'_, PyAny>) {
        let Ok(mut span) = span.try_borrow_mut() else {
            return;
        };
        span.leave_context(exc.py());
        span.fail(exc);
        span.end();
    }
}

impl FunctionSpec {
    /// [`start`](Self::start) under the current span, which the new span then replaces until
    /// the token is reset.
    fn enter_current<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> Option<(Bound<'py, NativeSpan>, Token)> {
        let py = args.py();
        let current = context::current(py).filter(|_| crate::recording())?;
        let parent = current.get(py).ok()?;
        let kwargs = kwargs.filter(|k| !k.is_empty());
        let span = Bound::new(py, self.start(Some(&parent), args, kwargs)?).ok()?;
        let token = current.set(span.as_any()).ok()?;
        Some((span, token))
    }

    /// The arguments as the JSON text of an object keyed by parameter name.
    fn arguments(&self, args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>) -> String {
        let mut out = Vec::with_capacity(128);
        out.push(b'{');
        let mut first = true;
        let mut extra = Vec::new();
        for (i, value) in args.iter().enumerate() {
            match self.params.get(i) {
                Some(param) => self.put(&mut out, &mut first, param, &value),
                None => extra.push(value),
            }
        }
        if !extra.is_empty() && !self.var_args.skipped {
            separate(&mut out, &mut first);
            out.extend_from_slice(&self.var_args.key);
            match PyTuple::new(args.py(), extra) {
                Ok(t) => summarize_into(t.as_any(), &self.options, &mut out),
                Err(_) => out.extend_from_slice(b"null"),
            }
        }
        if let Some(kwargs) = kwargs {
            for (key, value) in kwargs.iter() {
                if let Ok(key) = key.cast::<PyString>() {
                    let name = str_of(key);
                    if !self.skip.iter().any(|s| *s == name) {
                        separate(&mut out, &mut first);
                        write_key(&mut out, &name);
                        self.put_value(&mut out, self.options.is_secret(&name), &value);
                    }
                }
            }
        }
        out.push(b'}');
        into_text(out)
    }

    fn put(&self, out: &mut Vec<u8>, first: &mut bool, param: &Param, value: &Bound<'_, PyAny>) {
        if param.skipped {
            return;
        }
        separate(out, first);
        out.extend_from_slice(&param.key);
        self.put_value(out, param.secret, value);
    }

    /// A member's value: masked, or its summary.
    fn put_value(&self, out: &mut Vec<u8>, secret: bool, value: &Bound<'_, PyAny>) {
        if secret {
            write_str(out, pathwise_capture::MASK);
        } else {
            summarize_into(value, &self.options, out);
        }
    }
}

/// A parameter as capture writes it, decided once at decoration.
struct Param {
    /// `"name":`
    key: Vec<u8>,
    /// Never captured (`skip=`, and `self`/`cls`).
    skipped: bool,
    /// Masked.
    secret: bool,
}

impl Param {
    fn new(name: &str, skip: &[String], options: &CaptureOptions) -> Param {
        Param {
            key: member_key(name),
            skipped: skip.iter().any(|s| s == name),
            secret: options.is_secret(name),
        }
    }
}
