//! Smart capture of function arguments and results for Pathwise.
//!
//! Every call to a `#[monitor]`-ed function records its arguments and result
//! as a compact [`serde_json::Value`] summary. Capture runs on the hot path,
//! so it is bounded in time and memory regardless of the value's size, masks
//! secrets, and never panics or fails: anything that goes wrong degrades to
//! `{"type": "<type name>"}`.
//!
//! Entry points:
//! - [`capture!`] picks the best strategy for any expression: for a `Result`
//!   whose success type is `Serialize`, serde on the success value (an error as
//!   `{"Err": …}`); else serde ([`summarize_serialize`]), else `Debug`
//!   ([`summarize_debug`]), else the type name ([`summarize_opaque`]).
//! - [`CaptureOptions`] holds the limits and extra secret names.
//!
//! Summary rules of the serde path, in brief:
//!
//! | value | summary |
//! | --- | --- |
//! | bool, integers, finite floats | JSON primitive (u128/i128 outside 64 bits → string) |
//! | NaN, ±∞ | `"NaN"`, `"inf"`, `"-inf"` |
//! | string | at most `max_repr` chars, then `…(+N chars)` |
//! | bytes | `{"type": "bytes", "len": N}` |
//! | `None`, `()` / `Some(x)`, newtype struct | `null` / summary of `x` |
//! | unit struct / unit variant | its name as a string |
//! | newtype, tuple, struct variant | `{"Variant": inner}` |
//! | sequence, tuple, set | first `max_items` summaries, then `"+N more"` |
//! | > `numeric_vector_threshold` numbers | `{"type": "[f64]", "len": N}` (`[i64]`/`[u64]` by kind) |
//! | equal-length numeric rows, > threshold in total | `{"type": "[f64]", "shape": [rows, cols]}` |
//! | map | first `max_items` entries, then `"+more": "N more"` |
//! | struct | first `2 * max_items` fields, then `"+more": "N more"` |
//! | secret field or key | `"***"`; the value is never serialized |
//! | container deeper than `max_depth` | `"…"` |
//!
//! ```
//! use pathwise_capture::{capture, CaptureOptions};
//! use serde_json::json;
//!
//! let opts = CaptureOptions::default();
//! let arg = json!({"user": {"name": "ann", "password": "hunter2"}});
//! assert_eq!(capture!(&arg, &opts), json!({"user": {"name": "ann", "password": "***"}}));
//! ```

mod debug;
mod mask;
mod options;
mod serializer;
mod specialize;
mod text;

pub use debug::summarize_debug;
pub use options::CaptureOptions;
pub use serializer::{
    ELIDED, summarize_serialize, summarize_serialize_into, summarize_serialize_json,
};
pub use specialize::summarize_opaque;
#[doc(hidden)]
pub use specialize::{
    __PwCaptureDebug, __PwCaptureOkSerialize, __PwCaptureOpaque, __PwCaptureSerialize, __Wrap,
};

/// Re-exported so generated code and callers can name the summary type
/// without depending on `serde_json` themselves.
///
/// ```
/// let v: pathwise_capture::Value = pathwise_capture::Value::Null;
/// assert!(v.is_null());
/// ```
pub use serde_json::Value;

/// Replacement for the value of a secret field, map entry or `Debug` field.
///
/// ```
/// use pathwise_capture::{summarize_serialize, CaptureOptions, MASK};
/// use std::collections::BTreeMap;
///
/// let map = BTreeMap::from([("token", "abc")]);
/// assert_eq!(summarize_serialize(&map, &CaptureOptions::default())["token"], MASK);
/// ```
pub const MASK: &str = "***";
