//! Bounded, secret-masking JSON summaries of Python values, following the conventions of
//! `pathwise-capture` (strings cut with `…(+N chars)`, collections shallow with `+N more`,
//! secrets as `***`, containers past `max_depth` as `…`).
//!
//! Capture runs inside the host's call, so it must never raise and never change the value: it
//! reads only plain attributes and container contents, and any error while looking at a value
//! turns that value's summary into `{"type": "<class name>"}`.

use pathwise_capture::{CaptureOptions, MASK};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString,
    PyTuple,
};
use serde_json::{Map, Value};

/// Shown for a container nested deeper than `max_depth`.
const ELIDED: &str = "…";
/// Shown for a container that contains itself.
const CYCLE: &str = "<cycle>";
/// Dict keys are cut at `max_repr` chars, but never below this: they are names.
const KEY_MIN_CHARS: usize = 64;
/// numpy arrays up to this many elements also get min/max/mean.
const STATS_MAX_ELEMENTS: usize = 1_000_000;

/// The summary of `value`; never fails.
pub(crate) fn summarize(value: &Bound<'_, PyAny>, options: &CaptureOptions) -> Value {
    let mut walker = Walker {
        options,
        open: Vec::new(),
    };
    walker.walk(value, 0)
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

fn opaque(value: &Bound<'_, PyAny>) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), Value::String(type_name(value)));
    Value::Object(map)
}

struct Walker<'o> {
    options: &'o CaptureOptions,
    /// Ids of the containers being summarised (the path from the root), for cycle detection.
    open: Vec<usize>,
}

impl Walker<'_> {
    fn walk(&mut self, value: &Bound<'_, PyAny>, depth: usize) -> Value {
        if value.is_none() {
            return Value::Null;
        }
        if let Ok(b) = value.cast::<PyBool>() {
            return Value::Bool(b.is_true());
        }
        if value.is_instance_of::<PyInt>() {
            if let Ok(n) = value.extract::<i64>() {
                return Value::from(n);
            }
            if let Ok(n) = value.extract::<u64>() {
                return Value::from(n);
            }
            // Beyond 64 bits: keep the exact digits.
            return value
                .str()
                .map(|s| Value::String(truncate(&s.to_string_lossy(), self.options.max_repr)))
                .unwrap_or_else(|_| opaque(value));
        }
        if let Ok(f) = value.cast::<PyFloat>() {
            return float(f.value());
        }
        if let Ok(s) = value.cast::<PyString>() {
            return Value::String(truncate(&s.to_string_lossy(), self.options.max_repr));
        }
        if let Ok(b) = value.cast::<PyBytes>() {
            return sized("bytes", b.as_bytes().len());
        }
        if let Ok(b) = value.cast::<PyByteArray>() {
            return sized("bytearray", b.len());
        }
        if depth >= self.options.max_depth {
            return Value::String(ELIDED.into());
        }
        let id = value.as_ptr() as usize;
        if self.open.contains(&id) {
            return Value::String(CYCLE.into());
        }
        self.open.push(id);
        let summary = self
            .container(value, depth)
            .unwrap_or_else(|_| opaque(value));
        self.open.pop();
        summary
    }

    fn container(&mut self, value: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
        if let Ok(dict) = value.cast::<PyDict>() {
            return Ok(self.mapping(dict.iter(), dict.len(), depth));
        }
        if let Ok(list) = value.cast::<PyList>() {
            return Ok(self.sequence(list.iter(), list.len(), depth));
        }
        if let Ok(tuple) = value.cast::<PyTuple>() {
            return Ok(self.sequence(tuple.iter(), tuple.len(), depth));
        }
        if let Ok(set) = value.cast::<PySet>() {
            return Ok(self.sequence(set.iter(), set.len(), depth));
        }
        if let Ok(set) = value.cast::<PyFrozenSet>() {
            return Ok(self.sequence(set.iter(), set.len(), depth));
        }
        let ty = value.get_type();
        let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
        let name = ty.name().map(|n| n.to_string()).unwrap_or_default();
        if module.starts_with("numpy") {
            return numpy(value, &name, self);
        }
        if module.starts_with("pandas") && (name == "DataFrame" || name == "Series") {
            return pandas(value, &name, self.options);
        }
        if let Some(fields) = field_names(value)? {
            return Ok(self.object_fields(value, fields, depth));
        }
        Ok(opaque(value))
    }

    fn sequence<'py>(
        &mut self,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        len: usize,
        depth: usize,
    ) -> Value {
        let shown = len.min(self.options.max_items);
        let mut out: Vec<Value> = items
            .take(shown)
            .map(|item| self.walk(&item, depth + 1))
            .collect();
        if len > shown {
            out.push(Value::String(format!("+{} more", len - shown)));
        }
        Value::Array(out)
    }

    fn mapping<'py>(
        &mut self,
        entries: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>,
        len: usize,
        depth: usize,
    ) -> Value {
        let shown = len.min(self.options.max_items);
        let mut out = Map::new();
        for (key, value) in entries.take(shown) {
            // Checked on the whole key; only then cut (keys are names: cut generously).
            let key = key_text(&key, usize::MAX);
            let secret = self.options.is_secret(&key);
            let key = truncate(&key, self.options.max_repr.max(KEY_MIN_CHARS));
            let summary = if secret {
                Value::String(MASK.into())
            } else {
                self.walk(&value, depth + 1)
            };
            out.insert(key, summary);
        }
        if len > shown {
            out.insert(
                "+more".into(),
                Value::String(format!("{} more", len - shown)),
            );
        }
        Value::Object(out)
    }

    /// Dataclass, pydantic and `__slots__` objects: their declared fields, like a struct.
    fn object_fields(
        &mut self,
        value: &Bound<'_, PyAny>,
        fields: Vec<String>,
        depth: usize,
    ) -> Value {
        let limit = 2 * self.options.max_items;
        let mut out = Map::new();
        let mut total = 0;
        for field in fields {
            // A slot never assigned has no value: skip it rather than call anything.
            let Ok(item) = value.getattr(field.as_str()) else {
                continue;
            };
            total += 1;
            if out.len() >= limit {
                continue;
            }
            let summary = if self.options.is_secret(&field) {
                Value::String(MASK.into())
            } else {
                self.walk(&item, depth + 1)
            };
            out.insert(field, summary);
        }
        if total > out.len() {
            out.insert(
                "+more".into(),
                Value::String(format!("{} more", total - out.len())),
            );
        }
        Value::Object(out)
    }
}

fn float(f: f64) -> Value {
    if f.is_nan() {
        Value::String("NaN".into())
    } else if f.is_infinite() {
        Value::String(if f > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        Value::from(f)
    }
}

fn sized(kind: &str, len: usize) -> Value {
    let mut map = Map::new();
    map.insert("type".into(), Value::String(kind.into()));
    map.insert("len".into(), Value::from(len));
    Value::Object(map)
}

fn key_text(key: &Bound<'_, PyAny>, max_repr: usize) -> String {
    let text = match key.cast::<PyString>() {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(_) => key
            .str()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|_| type_name(key)),
    };
    truncate(&text, max_repr)
}

/// The declared fields of a dataclass, pydantic model or `__slots__` class; `None` for other
/// objects. Read from the class, so no instance code runs.
fn field_names(value: &Bound<'_, PyAny>) -> PyResult<Option<Vec<String>>> {
    let ty = value.get_type();
    for marker in [
        "__dataclass_fields__",
        "__pydantic_fields__",
        "model_fields",
    ] {
        if let Ok(fields) = ty.getattr(marker)
            && let Ok(fields) = fields.cast::<PyDict>()
        {
            let names = fields
                .keys()
                .iter()
                .filter_map(|k| k.extract::<String>().ok())
                .collect();
            return Ok(Some(names));
        }
    }
    let mut names = Vec::new();
    for class in ty.mro().iter() {
        let Ok(slots) = class
            .getattr("__dict__")
            .and_then(|d| d.get_item("__slots__"))
        else {
            continue;
        };
        if let Ok(one) = slots.extract::<String>() {
            names.push(one);
        } else if let Ok(iter) = slots.try_iter() {
            names.extend(iter.flatten().filter_map(|s| s.extract::<String>().ok()));
        }
    }
    names.retain(|n| n != "__dict__" && n != "__weakref__");
    Ok((!names.is_empty()).then_some(names))
}

fn shape(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    let dims: Vec<usize> = value.getattr("shape")?.extract()?;
    Ok(Value::from(dims))
}

/// numpy arrays as dtype and shape (plus min/max/mean of numeric ones), scalars as their value.
fn numpy(value: &Bound<'_, PyAny>, name: &str, walker: &mut Walker<'_>) -> PyResult<Value> {
    if name != "ndarray" {
        // numpy scalars (int64, float32, bool_, ...) turn into the Python value they hold.
        if value.hasattr("dtype")? && value.hasattr("item")? {
            let item = value.call_method0("item")?;
            // Guard against an `item` that returns the same kind of object again.
            if !item.get_type().is(value.get_type()) {
                return Ok(walker.walk(&item, 0));
            }
        }
        return Ok(opaque(value));
    }
    let mut map = Map::new();
    map.insert("type".into(), Value::String("ndarray".into()));
    let dtype = value.getattr("dtype")?;
    map.insert("dtype".into(), Value::String(dtype.str()?.to_string()));
    map.insert("shape".into(), shape(value)?);
    let size: usize = value.getattr("size")?.extract()?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    if size > 0 && size <= STATS_MAX_ELEMENTS && matches!(kind.as_str(), "i" | "u" | "f") {
        for stat in ["min", "max", "mean"] {
            if let Ok(v) = value.call_method0(stat).and_then(|v| v.extract::<f64>()) {
                map.insert(stat.into(), float(v));
            }
        }
    }
    Ok(Value::Object(map))
}

/// pandas DataFrame and Series as shape, columns and dtypes.
fn pandas(value: &Bound<'_, PyAny>, name: &str, options: &CaptureOptions) -> PyResult<Value> {
    let mut map = Map::new();
    map.insert("type".into(), Value::String(name.into()));
    map.insert("shape".into(), shape(value)?);
    if name == "Series" {
        map.insert(
            "dtype".into(),
            Value::String(value.getattr("dtype")?.str()?.to_string()),
        );
        let series_name = value.getattr("name")?;
        if !series_name.is_none() {
            map.insert(
                "name".into(),
                Value::String(key_text(&series_name, options.max_repr)),
            );
        }
        return Ok(Value::Object(map));
    }
    let columns: Vec<Bound<'_, PyAny>> = value.getattr("columns")?.try_iter()?.flatten().collect();
    let dtypes = value.getattr("dtypes")?;
    let mut names = Vec::new();
    let mut types = Map::new();
    for column in columns.iter().take(options.max_items) {
        let key = key_text(column, options.max_repr);
        let dtype = dtypes
            .get_item(column)
            .and_then(|d| d.str().map(|s| s.to_string()))
            .unwrap_or_default();
        names.push(Value::String(key.clone()));
        types.insert(key, Value::String(dtype));
    }
    if columns.len() > names.len() {
        names.push(Value::String(format!(
            "+{} more",
            columns.len() - names.len()
        )));
    }
    map.insert("columns".into(), Value::Array(names));
    map.insert("dtypes".into(), Value::Object(types));
    Ok(Value::Object(map))
}
