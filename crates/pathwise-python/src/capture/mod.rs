//! Bounded, secret-masking JSON summaries of Python values, following the conventions of
//! `pathwise-capture` (strings cut with `…(+N chars)`, collections shallow with `+N more`,
//! secrets as `***`, containers past `max_depth` as `…`).
//!
//! Capture runs inside the host's call, so it must never raise and never change the value: it
//! reads only plain attributes and container contents, and any error while looking at a value
//! turns that value's summary into `{"type": "<class name>"}`.
//!
//! The summary is written as JSON text straight into one buffer: building a `serde_json::Value`
//! tree first and serialising it cost more than the walk itself on the small values most calls
//! take. What a class is (dataclass, `__slots__`, numpy, …) is decided once per class
//! ([`kinds`]), not probed again on every value.

mod kinds;

use std::borrow::Cow;

use pathwise_capture::{CaptureOptions, MASK};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString,
    PyTuple,
};

use kinds::TypeKind;

/// Shown for a container nested deeper than `max_depth`.
const ELIDED: &str = "…";
/// Shown for a container that contains itself.
const CYCLE: &str = "<cycle>";
/// Dict keys are cut at `max_repr` chars, but never below this: they are names.
const KEY_MIN_CHARS: usize = 64;

unsafe extern "C" {
    // In the stable ABI since 3.10 and exported by every CPython since 3.3 with this signature;
    // pyo3 declares it only for ≥ 3.10 targets, and without it an abi3-py39 build copies each
    // `str` through a new `bytes` object.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const std::ffi::c_char;
}

/// The text of a Python `str`, borrowed from the object where CPython holds it as UTF-8
/// (always for ASCII); lone surrogates are replaced.
pub(crate) fn str_of<'a>(s: &'a Bound<'_, PyString>) -> Cow<'a, str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str`; on success CPython returns `size` bytes of valid UTF-8
    // owned by the object (cached in it), which outlives the borrow of `s`.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if !data.is_null()
            && let Ok(len) = usize::try_from(size)
        {
            let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len);
            return Cow::Borrowed(std::str::from_utf8_unchecked(bytes));
        }
    }
    drop(PyErr::take(s.py())); // a string with lone surrogates: not encodable as UTF-8
    Cow::Owned(s.to_string_lossy().into_owned())
}

/// The summary of `value` as JSON text; never fails.
pub(crate) fn summarize(value: &Bound<'_, PyAny>, options: &CaptureOptions) -> String {
    // Most summaries are a few dozen to a hundred bytes: one allocation, rarely a second.
    let mut out = Vec::with_capacity(128);
    summarize_into(value, options, &mut out);
    into_text(out)
}

/// Appends the summary of `value` to `out` as JSON text; never fails.
pub(crate) fn summarize_into(
    value: &Bound<'_, PyAny>,
    options: &CaptureOptions,
    out: &mut Vec<u8>,
) {
    let mut walker = Walker {
        options,
        open: OpenPath::default(),
        out,
    };
    walker.walk(value, 0);
}

/// JSON text written by this module as a `String`.
pub(crate) fn into_text(out: Vec<u8>) -> String {
    // Everything written here is escaped `&str` text or ASCII, so this never fails.
    String::from_utf8(out).unwrap_or_default()
}

/// Writes `text` as a JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Writes `text` cut to `max` chars (then `…(+N chars)`) as a JSON string.
fn write_cut(out: &mut Vec<u8>, text: &str, max: usize) {
    if text.len() <= max {
        write_str(out, text); // byte length bounds char count
    } else {
        write_str(out, &truncate(text, max));
    }
}

/// `text` cut to `max` chars, then `…(+N chars)`.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => {
            let dropped = text[cut..].chars().count();
            format!("{}…(+{dropped} chars)", &text[..cut])
        }
    }
}

/// The class name of `value`, qualified by its module unless it is a builtin.
pub(crate) fn type_name(value: &Bound<'_, PyAny>) -> String {
    let ty = value.get_type();
    let name = ty
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into());
    match ty.module().map(|m| m.to_string()) {
        Ok(module) if module != "builtins" => format!("{module}.{name}"),
        _ => name,
    }
}

fn write_opaque(out: &mut Vec<u8>, type_name: &str) {
    out.extend_from_slice(br#"{"type":"#);
    write_str(out, type_name);
    out.push(b'}');
}

fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        write_str(out, "NaN");
    } else if f.is_infinite() {
        write_str(out, if f > 0.0 { "inf" } else { "-inf" });
    } else {
        let _ = serde_json::to_writer(&mut *out, &f);
    }
}

/// `"key":` for an object member.
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

/// `"key":` ready to append, for a member name known before the values (a parameter, a field).
pub(crate) fn member_key(key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 3);
    write_key(&mut out, key);
    out
}

/// Separates members of the object or array being written (`first` tracks the first one).
pub(crate) fn separate(out: &mut Vec<u8>, first: &mut bool) {
    if !std::mem::take(first) {
        out.push(b',');
    }
}

/// Ids of the containers being summarised (the path from the root), for cycle detection. The
/// path is at most `max_depth` long, so it usually fits inline: no allocation per summary.
#[derive(Default)]
struct OpenPath {
    inline: [usize; 16],
    len: usize,
    /// Entries past the inline ones (a `max_depth` over 16).
    more: Vec<usize>,
}

impl OpenPath {
    fn contains(&self, id: usize) -> bool {
        self.inline[..self.len.min(16)].contains(&id) || self.more.contains(&id)
    }

    fn push(&mut self, id: usize) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = id,
            None => self.more.push(id),
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len -= 1;
        if self.len >= 16 {
            self.more.pop();
        }
    }
}

struct Walker<'o, 'b> {
    options: &'o CaptureOptions,
    open: OpenPath,
    out: &'b mut Vec<u8>,
}

impl Walker<'_, '_> {
    fn walk(&mut self, value: &Bound<'_, PyAny>, depth: usize) {
        if value.is_none() {
            return self.out.extend_from_slice(b"null");
        }
        if let Ok(s) = value.cast::<PyString>() {
            return write_cut(self.out, &str_of(s), self.options.max_repr);
        }
        if let Ok(b) = value.cast::<PyBool>() {
            let text: &[u8] = if b.is_true() { b"true" } else { b"false" };
            return self.out.extend_from_slice(text);
        }
        if value.is_instance_of::<PyInt>() {
            return self.int(value);
        }
        if let Ok(f) = value.cast::<PyFloat>() {
            return write_float(self.out, f.value());
        }
        if let Ok(b) = value.cast::<PyBytes>() {
            return self.sized("bytes", b.as_bytes().len());
        }
        if let Ok(b) = value.cast::<PyByteArray>() {
            return self.sized("bytearray", b.len());
        }
        if depth >= self.options.max_depth {
            return write_str(self.out, ELIDED);
        }
        let id = value.as_ptr() as usize;
        if self.open.contains(id) {
            return write_str(self.out, CYCLE);
        }
        self.open.push(id);
        let start = self.out.len();
        if self.container(value, depth).is_err() {
            // Whatever of the container was written goes; its class name stands for it.
            self.out.truncate(start);
            write_opaque(self.out, &type_name(value));
        }
        self.open.pop();
    }

    fn int(&mut self, value: &Bound<'_, PyAny>) {
        if let Ok(n) = value.extract::<i64>() {
            let _ = serde_json::to_writer(&mut *self.out, &n);
        } else if let Ok(n) = value.extract::<u64>() {
            let _ = serde_json::to_writer(&mut *self.out, &n);
        } else {
            // Beyond 64 bits: keep the exact digits.
            match value.str() {
                Ok(s) => write_cut(self.out, &str_of(&s), self.options.max_repr),
                Err(_) => write_opaque(self.out, &type_name(value)),
            }
        }
    }

    fn sized(&mut self, kind: &str, len: usize) {
        self.out.extend_from_slice(br#"{"type":"#);
        write_str(self.out, kind);
        self.out.extend_from_slice(br#","len":"#);
        let _ = serde_json::to_writer(&mut *self.out, &len);
        self.out.push(b'}');
    }

    fn container(&mut self, value: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
        if let Ok(dict) = value.cast::<PyDict>() {
            self.mapping(dict.iter(), dict.len(), depth);
            return Ok(());
        }
        if let Ok(list) = value.cast::<PyList>() {
            self.sequence(list.iter(), list.len(), depth);
            return Ok(());
        }
        if let Ok(tuple) = value.cast::<PyTuple>() {
            self.sequence(tuple.iter(), tuple.len(), depth);
            return Ok(());
        }
        if let Ok(set) = value.cast::<PySet>() {
            self.sequence(set.iter(), set.len(), depth);
            return Ok(());
        }
        if let Ok(set) = value.cast::<PyFrozenSet>() {
            self.sequence(set.iter(), set.len(), depth);
            return Ok(());
        }
        match &*kinds::kind_of(value) {
            TypeKind::Fields(fields) => self.object_fields(value, fields, depth),
            TypeKind::NumpyArray => kinds::numpy_array(value, self.out)?,
            TypeKind::NumpyScalar => match kinds::numpy_item(value)? {
                Some(item) => self.walk(&item, 0),
                None => write_opaque(self.out, &type_name(value)),
            },
            TypeKind::Pandas(kind) => kinds::pandas(value, *kind, self.options, self.out)?,
            TypeKind::Opaque(name) => write_opaque(self.out, name),
        }
        Ok(())
    }

    fn sequence<'py>(
        &mut self,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        len: usize,
        depth: usize,
    ) {
        let shown = len.min(self.options.max_items);
        self.out.push(b'[');
        let mut first = true;
        for item in items.take(shown) {
            separate(self.out, &mut first);
            self.walk(&item, depth + 1);
        }
        if len > shown {
            separate(self.out, &mut first);
            write_str(self.out, &format!("+{} more", len - shown));
        }
        self.out.push(b']');
    }

    fn mapping<'py>(
        &mut self,
        entries: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
        len: usize,
        depth: usize,
    ) {
        let shown = len.min(self.options.max_items);
        self.out.push(b'{');
        let mut first = true;
        for (key, value) in entries.take(shown) {
            separate(self.out, &mut first);
            let key = key_text(&key);
            // Checked on the whole key; only then cut (keys are names: cut generously).
            let secret = self.options.is_secret(&key);
            write_cut(self.out, &key, self.options.max_repr.max(KEY_MIN_CHARS));
            self.out.push(b':');
            if secret {
                write_str(self.out, MASK);
            } else {
                self.walk(&value, depth + 1);
            }
        }
        more_members(self.out, &mut first, len - shown);
        self.out.push(b'}');
    }

    /// Dataclass, pydantic and `__slots__` objects: their declared fields, like a struct.
    fn object_fields(&mut self, value: &Bound<'_, PyAny>, fields: &[kinds::Field], depth: usize) {
        let limit = 2 * self.options.max_items;
        self.out.push(b'{');
        let (mut shown, mut total, mut first) = (0, 0, true);
        for field in fields {
            // A slot never assigned has no value: skip it rather than call anything.
            let Ok(item) = value.getattr(field.name.bind(value.py())) else {
                continue;
            };
            total += 1;
            if shown >= limit {
                continue;
            }
            shown += 1;
            separate(self.out, &mut first);
            self.out.extend_from_slice(&field.key);
            if field.secret_in(self.options) {
                write_str(self.out, MASK);
            } else {
                self.walk(&item, depth + 1);
            }
        }
        more_members(self.out, &mut first, total - shown);
        self.out.push(b'}');
    }
}

/// The `"+more": "N more"` member of an object that showed only some of its members.
fn more_members(out: &mut Vec<u8>, first: &mut bool, hidden: usize) {
    if hidden > 0 {
        separate(out, first);
        write_key(out, "+more");
        write_str(out, &format!("{hidden} more"));
    }
}

/// A dict key as text: a `str` as it is, anything else as its `str()` (or class name).
fn key_text<'a>(key: &'a Bound<'_, PyAny>) -> Cow<'a, str> {
    match key.cast::<PyString>() {
        Ok(s) => str_of(s),
        Err(_) => Cow::Owned(
            key.str()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|_| type_name(key)),
        ),
    }
}
