//! A `serde::Serializer` that builds a bounded summary directly.
//!
//! Serializing the full value to JSON and trimming afterwards would cost time
//! and memory proportional to the value, which is unacceptable on every
//! monitored call; this serializer stops materialising as soon as a limit is
//! hit and only counts what it skips.

mod compound;
mod shape;
#[cfg(test)]
mod tests;

use std::any::type_name;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde::ser;
use serde_json::{Map, Value};

use crate::options::CaptureOptions;
use crate::text::{BoundedWriter, truncate_str};
use compound::{MapSummary, SeqSummary, StructSummary};
use shape::{Kind, Shape};

/// Replacement for containers nested deeper than `max_depth`.
///
/// ```
/// use pathwise_capture::{summarize_serialize, CaptureOptions, ELIDED};
///
/// let opts = CaptureOptions { max_depth: 0, ..CaptureOptions::default() };
/// assert_eq!(summarize_serialize(&vec![vec![1]], &opts), serde_json::json!([ELIDED]));
/// ```
pub const ELIDED: &str = "…";

/// Upper bound on transparent wrappers (`Some`, newtype structs) along one
/// path. They don't count as depth because they add no JSON nesting, but a
/// recursive type like `struct Node(Option<Box<Node>>)` must still not make
/// us walk an arbitrarily long chain.
const MAX_WRAPS: u32 = 64;

/// Summarises any [`Serialize`] value into a compact JSON value.
///
/// Never fails and never panics: if the value's `Serialize` impl returns an
/// error, the result is `{"type": "<type name>"}`; an error from a nested
/// element replaces just that element. A panic inside the `Serialize` impl is
/// caught (with the default `panic = "unwind"`) and also yields the type
/// fallback; the panic hook still runs, so the message is printed as usual.
/// Under `panic = "abort"` such a panic aborts the process like any other.
///
/// Secret fields and map entries (see [`CaptureOptions::is_secret`]) are
/// replaced by `"***"` without serializing their values, at any depth.
///
/// ```
/// use pathwise_capture::{summarize_serialize, CaptureOptions};
/// use serde_json::json;
///
/// let opts = CaptureOptions::default();
/// let v = json!({"user": "ann", "password": "hunter2", "ids": [1, 2, 3]});
/// assert_eq!(
///     summarize_serialize(&v, &opts),
///     json!({"user": "ann", "password": "***", "ids": [1, 2, 3]})
/// );
/// assert_eq!(
///     summarize_serialize(&vec![0.5f64; 1000], &opts),
///     json!({"type": "[f64]", "len": 1000})
/// );
/// ```
pub fn summarize_serialize<T: Serialize + ?Sized>(value: &T, opts: &CaptureOptions) -> Value {
    match catch_unwind(AssertUnwindSafe(|| value.serialize(Summarizer::root(opts)))) {
        Ok(Ok(summary)) => summary.value,
        _ => type_fallback::<T>(),
    }
}

/// `{"type": "<type name of T>"}`, without leading references: serde hands
/// collection elements to us as `&T`, and `&Foo` would only be noise.
pub(crate) fn type_fallback<T: ?Sized>() -> Value {
    let mut name = type_name::<T>();
    while let Some(rest) = name.strip_prefix('&') {
        name = rest.strip_prefix("mut ").unwrap_or(rest);
    }
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::String(name.to_owned()));
    Value::Object(map)
}

/// A summarised value plus what its parent sequence needs to know about it.
pub(crate) struct Summary {
    pub(crate) value: Value,
    pub(crate) shape: Shape,
}

impl Summary {
    fn other(value: Value) -> Self {
        Self {
            value,
            shape: Shape::Other,
        }
    }
}

/// Error type of the summarising serializer. It carries no message: errors
/// are only ever turned into fallback values, so formatting the message a
/// `Serialize` impl passes to `custom` would be wasted work.
#[derive(Debug)]
pub(crate) enum CaptureError {
    /// A probe met something that is not a number or numeric sequence.
    NotNumeric,
    /// The value's own `Serialize` impl reported an error.
    Custom,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureError::NotNumeric => "not numeric",
            CaptureError::Custom => "serialize error",
        })
    }
}

impl std::error::Error for CaptureError {}

impl ser::Error for CaptureError {
    fn custom<M: fmt::Display>(_msg: M) -> Self {
        CaptureError::Custom
    }
}

/// The serializer. `probe` mode is used for sequence elements past
/// `max_items`: it builds nothing and fails fast on anything non-numeric, so
/// the sequence can still learn whether it is a numeric vector or matrix.
#[derive(Clone, Copy)]
pub(crate) struct Summarizer<'a> {
    pub(crate) opts: &'a CaptureOptions,
    pub(crate) depth: usize,
    wraps: u32,
    pub(crate) probe: bool,
}

impl<'a> Summarizer<'a> {
    pub(crate) fn root(opts: &'a CaptureOptions) -> Self {
        Self {
            opts,
            depth: 0,
            wraps: 0,
            probe: false,
        }
    }

    /// Serializer for the contents of a container.
    pub(crate) fn child(self) -> Self {
        Self {
            depth: self.depth + 1,
            ..self
        }
    }

    pub(crate) fn probing(self) -> Self {
        Self {
            probe: true,
            ..self
        }
    }

    /// Whether a container started by this serializer is too deep to show.
    pub(crate) fn too_deep(self) -> bool {
        self.depth > self.opts.max_depth
    }

    fn scalar(self, value: Value) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        Ok(Summary::other(value))
    }

    fn number(self, value: Value, kind: Kind) -> Result<Summary, CaptureError> {
        Ok(Summary {
            value,
            shape: Shape::Number(kind),
        })
    }

    /// `Some(x)` and newtype structs are transparent.
    fn wrapped<T: Serialize + ?Sized>(self, value: &T) -> Result<Summary, CaptureError> {
        if self.wraps >= MAX_WRAPS {
            return self.scalar(Value::String(ELIDED.to_owned()));
        }
        value.serialize(Self {
            wraps: self.wraps + 1,
            ..self
        })
    }
}

/// Summarises a nested value, turning its errors into a per-element fallback
/// so one bad element doesn't discard its siblings.
pub(crate) fn summarize_child<T: Serialize + ?Sized>(value: &T, s: Summarizer<'_>) -> Summary {
    value
        .serialize(s)
        .unwrap_or_else(|_| Summary::other(type_fallback::<T>()))
}

/// `{variant: inner}`, the external tagging serde_json also uses.
pub(crate) fn tagged(variant: &'static str, inner: Value) -> Value {
    let mut map = Map::new();
    map.insert(variant.to_owned(), inner);
    Value::Object(map)
}

fn float(v: f64) -> Value {
    if v.is_nan() {
        Value::String("NaN".to_owned())
    } else if v.is_infinite() {
        Value::String(if v > 0.0 { "inf" } else { "-inf" }.to_owned())
    } else {
        Value::from(v)
    }
}

impl<'a> ser::Serializer for Summarizer<'a> {
    type Ok = Summary;
    type Error = CaptureError;
    type SerializeSeq = SeqSummary<'a>;
    type SerializeTuple = SeqSummary<'a>;
    type SerializeTupleStruct = SeqSummary<'a>;
    type SerializeTupleVariant = SeqSummary<'a>;
    type SerializeMap = MapSummary<'a>;
    type SerializeStruct = StructSummary<'a>;
    type SerializeStructVariant = StructSummary<'a>;

    fn serialize_bool(self, v: bool) -> Result<Summary, CaptureError> {
        self.scalar(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<Summary, CaptureError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<Summary, CaptureError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<Summary, CaptureError> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<Summary, CaptureError> {
        self.number(Value::from(v), Kind::I64)
    }

    fn serialize_i128(self, v: i128) -> Result<Summary, CaptureError> {
        if let Ok(small) = i64::try_from(v) {
            self.number(Value::from(small), Kind::I64)
        } else if let Ok(big) = u64::try_from(v) {
            self.number(Value::from(big), Kind::U64)
        } else {
            // JSON numbers can't hold it exactly; a string keeps every digit.
            self.number(Value::String(v.to_string()), Kind::I64)
        }
    }

    fn serialize_u8(self, v: u8) -> Result<Summary, CaptureError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<Summary, CaptureError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<Summary, CaptureError> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<Summary, CaptureError> {
        self.number(Value::from(v), Kind::U64)
    }

    fn serialize_u128(self, v: u128) -> Result<Summary, CaptureError> {
        match u64::try_from(v) {
            Ok(small) => self.number(Value::from(small), Kind::U64),
            Err(_) => self.number(Value::String(v.to_string()), Kind::U64),
        }
    }

    fn serialize_f32(self, v: f32) -> Result<Summary, CaptureError> {
        // Same widening serde_json applies, so output matches `json!`.
        self.number(float(f64::from(v)), Kind::F64)
    }

    fn serialize_f64(self, v: f64) -> Result<Summary, CaptureError> {
        self.number(float(v), Kind::F64)
    }

    fn serialize_char(self, v: char) -> Result<Summary, CaptureError> {
        self.scalar(Value::String(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        self.scalar(Value::String(truncate_str(v, self.opts.max_repr)))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        let mut map = Map::new();
        map.insert("type".to_owned(), Value::String("bytes".to_owned()));
        map.insert("len".to_owned(), Value::from(v.len()));
        self.scalar(Value::Object(map))
    }

    fn serialize_none(self) -> Result<Summary, CaptureError> {
        self.scalar(Value::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Summary, CaptureError> {
        self.wrapped(value)
    }

    fn serialize_unit(self) -> Result<Summary, CaptureError> {
        self.scalar(Value::Null)
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<Summary, CaptureError> {
        self.scalar(Value::String(name.to_owned()))
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Summary, CaptureError> {
        self.scalar(Value::String(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Summary, CaptureError> {
        self.wrapped(value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        // The `{variant: ..}` object is a real JSON level, so it counts as
        // depth; this also bounds recursive enums such as linked lists.
        if self.too_deep() {
            return self.scalar(Value::String(ELIDED.to_owned()));
        }
        let inner = summarize_child(value, self.child());
        self.scalar(tagged(variant, inner.value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSummary<'a>, CaptureError> {
        SeqSummary::new(self, len, None)
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSummary<'a>, CaptureError> {
        SeqSummary::new(self, Some(len), None)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSummary<'a>, CaptureError> {
        SeqSummary::new(self, Some(len), None)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSummary<'a>, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        SeqSummary::new(self, Some(len), Some(variant))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapSummary<'a>, CaptureError> {
        MapSummary::new(self)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<StructSummary<'a>, CaptureError> {
        StructSummary::new(self, None)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<StructSummary<'a>, CaptureError> {
        StructSummary::new(self, Some(variant))
    }

    /// Overridden because serde's default materialises the whole `Display`
    /// output via `to_string()` before we could truncate it.
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        match BoundedWriter::format(self.opts.max_repr, format_args!("{value}")) {
            Some(w) => self.scalar(Value::String(w.into_string())),
            None => Err(CaptureError::Custom),
        }
    }
}
