//! The current span as Python keeps it: a `contextvars.ContextVar` (`pathwise._context`), so
//! that it follows `await` and asyncio tasks. The native call path of plain functions
//! ([`FunctionSpec::call`](crate::function::FunctionSpec)) reads and sets it from here, so a
//! monitored call crosses into Rust once instead of once for each of get, start, set, reset and
//! end.
//!
//! The variable is used through CPython's `PyContextVar_*` functions: documented public C API,
//! exported with these signatures by every CPython since 3.7, though outside the limited API
//! that abi3 builds declare. Calling the variable's Python methods instead costs a tuple and a
//! method dispatch each, about a sixth of a monitored call.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

unsafe extern "C" {
    fn PyContextVar_Get(
        var: *mut ffi::PyObject,
        default_value: *mut ffi::PyObject,
        value: *mut *mut ffi::PyObject,
    ) -> std::ffi::c_int;
    fn PyContextVar_Set(var: *mut ffi::PyObject, value: *mut ffi::PyObject) -> *mut ffi::PyObject;
    fn PyContextVar_Reset(var: *mut ffi::PyObject, token: *mut ffi::PyObject) -> std::ffi::c_int;
}

/// The current-span variable (a `contextvars.ContextVar`, checked when bound).
pub(crate) struct CurrentSpan {
    var: Py<PyAny>,
}

/// A value set with [`CurrentSpan::set`], to undo with [`CurrentSpan::reset`].
pub(crate) struct Token(Py<PyAny>);

impl CurrentSpan {
    /// The current span (`None` when there is none).
    pub(crate) fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut value = std::ptr::null_mut();
        // SAFETY: `var` is a ContextVar (checked in `bind_current_span`); on success `value` is
        // a new reference (the variable has a default, so it is never left null).
        unsafe {
            if PyContextVar_Get(self.var.as_ptr(), std::ptr::null_mut(), &mut value) < 0 {
                return Err(PyErr::fetch(py));
            }
            Ok(Bound::from_owned_ptr_or_opt(py, value).unwrap_or_else(|| py.None().into_bound(py)))
        }
    }

    /// Makes `value` the current span.
    pub(crate) fn set(&self, value: &Bound<'_, PyAny>) -> PyResult<Token> {
        let py = value.py();
        // SAFETY: `var` is a ContextVar; the result is a new reference or null with an error set.
        unsafe {
            let token = PyContextVar_Set(self.var.as_ptr(), value.as_ptr());
            Bound::from_owned_ptr_or_err(py, token).map(|t| Token(t.unbind()))
        }
    }

    /// Restores what was current before `token`'s `set`.
    pub(crate) fn reset(&self, py: Python<'_>, token: Token) -> PyResult<()> {
        // SAFETY: `var` is a ContextVar and `token` one of its tokens.
        if unsafe { PyContextVar_Reset(self.var.as_ptr(), token.0.as_ptr()) } < 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(())
    }
}

static CURRENT: PyOnceLock<CurrentSpan> = PyOnceLock::new();

/// The current-span variable, once `pathwise._context` has bound it.
pub(crate) fn current(py: Python<'_>) -> Option<&'static CurrentSpan> {
    CURRENT.get(py)
}

/// Makes the span that was current before `token`'s `set` current again. Resetting a token
/// made in the same context cannot fail; were it to, the call's own outcome still matters more.
pub(crate) fn restore(py: Python<'_>, token: Token) {
    if let Some(current) = current(py) {
        drop(current.reset(py, token));
    }
}

/// Binds the `ContextVar` that holds the current span (called once, by `pathwise._context`).
///
/// ```python
/// _native.bind_current_span(_CURRENT)
/// ```
#[pyfunction]
pub(crate) fn bind_current_span(var: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = var.py();
    let class = py.import("contextvars")?.getattr("ContextVar")?;
    if !var.get_type().is(&class) {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "bind_current_span takes a contextvars.ContextVar",
        ));
    }
    // A second binding (a reloaded `pathwise._context`) keeps the first variable: spans
    // already running hold it.
    let _ = CURRENT.set(
        py,
        CurrentSpan {
            var: var.clone().unbind(),
        },
    );
    Ok(())
}
