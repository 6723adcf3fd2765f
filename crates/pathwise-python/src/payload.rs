//! `PayloadText`: Python's `sqlite3` reading a Pathwise file's compressed payload columns.

use std::path::PathBuf;
use std::sync::Mutex;

use pathwise_store_sqlite::PayloadDecoder;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// `pw_text` for a `sqlite3.Connection`: `conn.create_function("pw_text", 1, PayloadText(db))`
/// (what `pathwise.sqlite_connect` does). Text and NULL pass through; a compressed value
/// becomes its text, an unreadable one a bracketed message saying why.
#[pyclass(frozen)]
pub struct PayloadText {
    decoder: Mutex<PayloadDecoder>,
}

#[pymethods]
impl PayloadText {
    #[new]
    fn new(db: PathBuf) -> Self {
        PayloadText {
            decoder: Mutex::new(PayloadDecoder::new(&db)),
        }
    }

    fn __call__<'py>(&self, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let Ok(blob) = value.cast::<PyBytes>() else {
            // NULL, text and numbers are stored as they are.
            return Ok(value.clone());
        };
        let text = self
            .decoder
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .text(blob.as_bytes())
            .unwrap_or_else(|why| format!("[undecodable payload: {why}]"));
        Ok(PyString::new(value.py(), &text).into_any())
    }
}
