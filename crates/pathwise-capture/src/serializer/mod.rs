//! A `serde::Serializer` that writes a bounded summary as JSON text, directly.
//!
//! Serializing the full value to JSON and trimming afterwards would cost time
//! and memory proportional to the value, which is unacceptable on every
//! monitored call; building a `serde_json::Value` tree first costs an
//! allocation per key and string. This serializer writes the summary's text
//! into one buffer, stops as soon as a limit is hit and only counts what it
//! skips. Where a decision comes late (a long numeric sequence turns into
//! `{"type": "[f64]", "len": N}`; an element whose `Serialize` fails becomes
//! its type name) it cuts the buffer back to where the value began.

mod compound;
mod serialize;
mod shape;
#[cfg(test)]
mod tests;

use std::any::type_name;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::Serialize;
use serde::ser;
use serde_json::Value;

use crate::options::CaptureOptions;
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

/// Summarises any [`Serialize`] value into a compact JSON value (the text of
/// [`summarize_serialize_json`], parsed).
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
    serde_json::from_str(&summarize_serialize_json(value, opts))
        .unwrap_or_else(|_| type_fallback_value::<T>())
}

/// The summary of [`summarize_serialize`] as JSON text, written directly: what
/// `#[monitor]` stores for an argument or result. Keys keep the value's own
/// order (struct fields as declared).
///
/// ```
/// use pathwise_capture::{summarize_serialize_json, CaptureOptions};
///
/// #[derive(serde::Serialize)]
/// struct Login { user: &'static str, password: &'static str, tries: u8 }
/// let opts = CaptureOptions::default();
/// let text = summarize_serialize_json(&Login { user: "ann", password: "x", tries: 2 }, &opts);
/// assert_eq!(text, r#"{"user":"ann","password":"***","tries":2}"#);
/// ```
pub fn summarize_serialize_json<T: Serialize + ?Sized>(value: &T, opts: &CaptureOptions) -> String {
    let mut out = Vec::with_capacity(128);
    summarize_serialize_into(value, opts, &mut out);
    // Every byte written is UTF-8: JSON punctuation, escaped `str`s and numbers.
    String::from_utf8(out).unwrap_or_else(|_| type_fallback_value::<T>().to_string())
}

/// Appends the summary's JSON text to `out` (what `#[monitor]` does, straight into the
/// span's argument buffer). On failure what it wrote is cut and the type fallback written.
///
/// ```
/// use pathwise_capture::{summarize_serialize_into, CaptureOptions};
///
/// let mut out = b"{\"n\":".to_vec();
/// summarize_serialize_into(&7u8, &CaptureOptions::default(), &mut out);
/// out.push(b'}');
/// assert_eq!(out, br#"{"n":7}"#);
/// ```
pub fn summarize_serialize_into<T: Serialize + ?Sized>(
    value: &T,
    opts: &CaptureOptions,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    let done = catch_unwind(AssertUnwindSafe(|| {
        value.serialize(Summarizer::root(opts, &mut *out)).is_ok()
    }));
    if !matches!(done, Ok(true)) {
        out.truncate(start);
        write_type_fallback::<T>(out);
    }
}

/// The type name of `T` without leading references: serde hands collection
/// elements to us as `&T`, and `&Foo` would only be noise.
fn plain_type_name<T: ?Sized>() -> &'static str {
    let mut name = type_name::<T>();
    while let Some(rest) = name.strip_prefix('&') {
        name = rest.strip_prefix("mut ").unwrap_or(rest);
    }
    name
}

/// `{"type": "<type name of T>"}`.
pub(crate) fn type_fallback_value<T: ?Sized>() -> Value {
    serde_json::json!({ "type": plain_type_name::<T>() })
}

fn write_type_fallback<T: ?Sized>(out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"type":"#);
    write_str(out, plain_type_name::<T>());
    out.push(b'}');
}

/// Writes `text` as a JSON string.
pub(crate) fn write_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// What a summarised value looked like, as far as its parent sequence cares
/// (its text is already in the buffer).
pub(crate) struct Summary {
    pub(crate) shape: Shape,
}

impl Summary {
    const OTHER: Summary = Summary {
        shape: Shape::Other,
    };
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
/// `max_items`: it writes nothing and fails fast on anything non-numeric, so
/// the sequence can still learn whether it is a numeric vector or matrix.
pub(crate) struct Summarizer<'a, 'o> {
    pub(crate) opts: &'a CaptureOptions,
    pub(crate) depth: usize,
    wraps: u32,
    pub(crate) probe: bool,
    pub(crate) out: &'o mut Vec<u8>,
}

impl<'a, 'o> Summarizer<'a, 'o> {
    pub(crate) fn root(opts: &'a CaptureOptions, out: &'o mut Vec<u8>) -> Self {
        Self {
            opts,
            depth: 0,
            wraps: 0,
            probe: false,
            out,
        }
    }

    /// Serializer for the contents of a container, writing where this one writes.
    pub(crate) fn child<'c>(&'c mut self) -> Summarizer<'a, 'c> {
        Summarizer {
            opts: self.opts,
            depth: self.depth + 1,
            wraps: self.wraps,
            probe: self.probe,
            out: &mut *self.out,
        }
    }

    pub(crate) fn probing(self) -> Self {
        Self {
            probe: true,
            ..self
        }
    }

    /// Whether a container started by this serializer is too deep to show.
    pub(crate) fn too_deep(&self) -> bool {
        self.depth > self.opts.max_depth
    }

    /// A value that is not a number: written, or refused by a probe.
    fn scalar(self, write: impl FnOnce(&mut Vec<u8>)) -> Result<Summary, CaptureError> {
        if self.probe {
            return Err(CaptureError::NotNumeric);
        }
        write(self.out);
        Ok(Summary::OTHER)
    }

    fn number(self, kind: Kind, write: impl FnOnce(&mut Vec<u8>)) -> Result<Summary, CaptureError> {
        if !self.probe {
            write(self.out);
        }
        Ok(Summary {
            shape: Shape::Number(kind),
        })
    }

    fn text(self, text: &str) -> Result<Summary, CaptureError> {
        self.scalar(|out| write_str(out, text))
    }

    /// `Some(x)` and newtype structs are transparent.
    fn wrapped<T: Serialize + ?Sized>(self, value: &T) -> Result<Summary, CaptureError> {
        if self.wraps >= MAX_WRAPS {
            return self.text(ELIDED);
        }
        value.serialize(Self {
            wraps: self.wraps + 1,
            ..self
        })
    }
}

/// Summarises a nested value, turning its errors into a per-element fallback
/// so one bad element doesn't discard its siblings.
pub(crate) fn summarize_child<T: Serialize + ?Sized>(value: &T, s: Summarizer<'_, '_>) -> Summary {
    let Summarizer {
        opts,
        depth,
        wraps,
        probe,
        out,
    } = s;
    let start = out.len();
    let result = value.serialize(Summarizer {
        opts,
        depth,
        wraps,
        probe,
        out: &mut *out,
    });
    match result {
        Ok(summary) => summary,
        Err(_) => {
            if !probe {
                out.truncate(start);
                write_type_fallback::<T>(out);
            }
            Summary::OTHER
        }
    }
}

fn float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        write_str(out, "NaN");
    } else if v.is_infinite() {
        write_str(out, if v > 0.0 { "inf" } else { "-inf" });
    } else {
        let _ = serde_json::to_writer(out, &v);
    }
}

fn int(out: &mut Vec<u8>, v: impl Serialize) {
    let _ = serde_json::to_writer(out, &v);
}

/// `{"variant":`, the external tagging serde_json also uses; the caller closes it.
pub(crate) fn open_tag(out: &mut Vec<u8>, variant: &str) {
    out.push(b'{');
    write_str(out, variant);
    out.push(b':');
}
