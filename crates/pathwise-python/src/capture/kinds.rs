//! What a Python class is, for capture: a record with declared fields (dataclass, pydantic,
//! `__slots__`), a numpy array or scalar, a pandas frame or series, or something opaque shown by
//! its class name. Decided from the class (so no instance code runs) once per class and cached:
//! probing for a marker attribute that is absent raises and clears an `AttributeError` inside
//! CPython, which cost more than the rest of a small object's summary.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pathwise_capture::CaptureOptions;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyType};

use super::{key_text, member_key, type_name, write_cut, write_float, write_key, write_str};

/// Classes remembered at most; past this the cache starts over (a program that makes classes
/// at run time must not grow it without bound).
const CACHE_CAPACITY: usize = 1024;
/// numpy arrays up to this many elements also get min/max/mean.
const STATS_MAX_ELEMENTS: usize = 1_000_000;

/// A declared field of a record-like class.
pub(crate) struct Field {
    /// The attribute name (interned), read with `getattr`.
    pub(crate) name: Py<PyString>,
    text: String,
    /// `"name":`, ready to append.
    pub(crate) key: Vec<u8>,
}

impl Field {
    fn new(py: Python<'_>, text: String) -> Field {
        Field {
            key: member_key(&text),
            name: PyString::intern(py, &text).unbind(),
            text,
        }
    }

    /// Whether this field's value is masked under `options`.
    pub(crate) fn secret_in(&self, options: &CaptureOptions) -> bool {
        options.is_secret(&self.text)
    }
}

/// pandas' two shapes.
#[derive(Clone, Copy)]
pub(crate) enum PandasKind {
    DataFrame,
    Series,
}

/// How values of one class are summarised (containers and primitives never get here).
pub(crate) enum TypeKind {
    Fields(Vec<Field>),
    NumpyArray,
    NumpyScalar,
    Pandas(PandasKind),
    /// Shown as `{"type": name}`.
    Opaque(String),
}

type Cache = HashMap<usize, (Py<PyType>, Arc<TypeKind>)>;

/// Keyed by the class object's address; the entry holds the class, so the address cannot be
/// reused by another class while it is cached.
static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

fn cache() -> std::sync::MutexGuard<'static, Option<Cache>> {
    CACHE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The kind of `value`'s class.
pub(crate) fn kind_of(value: &Bound<'_, PyAny>) -> Arc<TypeKind> {
    let ty = value.get_type();
    let id = ty.as_ptr() as usize;
    if let Some((_, kind)) = cache().as_ref().and_then(|c| c.get(&id)) {
        return Arc::clone(kind);
    }
    // Classified without the lock: reading class attributes can run Python code, which may
    // let another thread in that also wants the cache.
    let kind = Arc::new(classify(value, &ty));
    let mut guard = cache();
    let map = guard.get_or_insert_with(HashMap::new);
    if map.len() >= CACHE_CAPACITY {
        map.clear();
    }
    map.insert(id, (ty.unbind(), Arc::clone(&kind)));
    kind
}

fn classify(value: &Bound<'_, PyAny>, ty: &Bound<'_, PyType>) -> TypeKind {
    let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
    let name = ty.name().map(|n| n.to_string()).unwrap_or_default();
    if module.starts_with("numpy") {
        return if name == "ndarray" {
            TypeKind::NumpyArray
        } else {
            TypeKind::NumpyScalar
        };
    }
    if module.starts_with("pandas") {
        match name.as_str() {
            "DataFrame" => return TypeKind::Pandas(PandasKind::DataFrame),
            "Series" => return TypeKind::Pandas(PandasKind::Series),
            _ => {}
        }
    }
    match field_names(ty) {
        Some(names) => {
            let py = value.py();
            TypeKind::Fields(names.into_iter().map(|n| Field::new(py, n)).collect())
        }
        None => TypeKind::Opaque(type_name(value)),
    }
}

/// The declared fields of a dataclass, pydantic model or `__slots__` class; `None` for other
/// classes.
fn field_names(ty: &Bound<'_, PyType>) -> Option<Vec<String>> {
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
            return Some(names);
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
    (!names.is_empty()).then_some(names)
}

fn write_shape(value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    let dims: Vec<usize> = value.getattr("shape")?.extract()?;
    write_key(out, "shape");
    let _ = serde_json::to_writer(&mut *out, &dims);
    Ok(())
}

/// A numpy scalar (int64, float32, bool_, ...) as the Python value it holds; `None` when it
/// holds none.
pub(crate) fn numpy_item<'py>(value: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    if !(value.hasattr("dtype")? && value.hasattr("item")?) {
        return Ok(None);
    }
    let item = value.call_method0("item")?;
    // Guard against an `item` that returns the same kind of object again.
    Ok((!item.get_type().is(value.get_type())).then_some(item))
}

/// A numpy array as dtype and shape (plus min/max/mean of numeric ones).
pub(crate) fn numpy_array(value: &Bound<'_, PyAny>, out: &mut Vec<u8>) -> PyResult<()> {
    let dtype = value.getattr("dtype")?;
    let dtype_text = dtype.str()?.to_string();
    let size: usize = value.getattr("size")?.extract()?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    out.extend_from_slice(br#"{"type":"ndarray","dtype":"#);
    write_str(out, &dtype_text);
    out.push(b',');
    write_shape(value, out)?;
    if size > 0 && size <= STATS_MAX_ELEMENTS && matches!(kind.as_str(), "i" | "u" | "f") {
        for stat in ["min", "max", "mean"] {
            if let Ok(v) = value.call_method0(stat).and_then(|v| v.extract::<f64>()) {
                out.push(b',');
                write_key(out, stat);
                write_float(out, v);
            }
        }
    }
    out.push(b'}');
    Ok(())
}

/// A pandas DataFrame or Series as shape, columns and dtypes.
pub(crate) fn pandas(
    value: &Bound<'_, PyAny>,
    kind: PandasKind,
    options: &CaptureOptions,
    out: &mut Vec<u8>,
) -> PyResult<()> {
    let label = match kind {
        PandasKind::DataFrame => "DataFrame",
        PandasKind::Series => "Series",
    };
    out.extend_from_slice(br#"{"type":"#);
    write_str(out, label);
    out.push(b',');
    write_shape(value, out)?;
    if let PandasKind::Series = kind {
        out.push(b',');
        write_key(out, "dtype");
        write_str(out, &value.getattr("dtype")?.str()?.to_string());
        let series_name = value.getattr("name")?;
        if !series_name.is_none() {
            out.push(b',');
            write_key(out, "name");
            write_cut(out, &key_text(&series_name), options.max_repr);
        }
        out.push(b'}');
        return Ok(());
    }
    let columns: Vec<Bound<'_, PyAny>> = value.getattr("columns")?.try_iter()?.flatten().collect();
    let dtypes = value.getattr("dtypes")?;
    let shown = columns.len().min(options.max_items);
    let mut names = Vec::with_capacity(shown);
    let mut types = Vec::with_capacity(shown);
    for column in columns.iter().take(shown) {
        let dtype = dtypes
            .get_item(column)
            .and_then(|d| d.str().map(|s| s.to_string()))
            .unwrap_or_default();
        names.push(key_text(column).into_owned());
        types.push(dtype);
    }
    out.extend_from_slice(br#","columns":["#);
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cut(out, name, options.max_repr);
    }
    if columns.len() > shown {
        if shown > 0 {
            out.push(b',');
        }
        write_str(out, &format!("+{} more", columns.len() - shown));
    }
    out.extend_from_slice(br#"],"dtypes":{"#);
    for (i, (name, dtype)) in names.iter().zip(&types).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cut(out, name, options.max_repr);
        out.push(b':');
        write_str(out, dtype);
    }
    out.extend_from_slice(b"}}");
    Ok(())
}
