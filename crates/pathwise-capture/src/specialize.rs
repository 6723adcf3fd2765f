//! Autoref specialisation: pick the best summariser for a value whose traits
//! the caller (generated code) does not know.
//!
//! Method resolution tries receiver types in order `&&&W`, `&&W`, `&W`, … and
//! takes the first one with an applicable impl. Implementing the three traits
//! for `&&W` (needs `Serialize`), `&W` (needs `Debug`) and `W` (no bounds),
//! each with a `&self` method, makes a call on `&&&W` prefer Serialize, then
//! Debug, then the opaque fallback. The choice happens at the macro's
//! expansion site, so for a generic `T` only the bounds declared there count.

use std::fmt::Debug;

use serde::Serialize;
use serde_json::Value;

use crate::options::CaptureOptions;
use crate::{summarize_debug, summarize_serialize, summarize_serialize_into};

/// Fallback when a type is neither `Serialize` nor `Debug`:
/// `{"type": "<type name>"}`.
///
/// ```
/// use pathwise_capture::{summarize_opaque, CaptureOptions};
///
/// struct Handle;
/// let v = summarize_opaque::<Handle>(&CaptureOptions::default());
/// assert!(v["type"].as_str().unwrap().ends_with("Handle"));
/// ```
pub fn summarize_opaque<T: ?Sized>(_opts: &CaptureOptions) -> Value {
    // Exact name (references included): the caller chose `T` deliberately.
    let mut map = serde_json::Map::new();
    map.insert(
        "type".to_owned(),
        Value::String(std::any::type_name::<T>().to_owned()),
    );
    Value::Object(map)
}

/// Wrapper the [`capture!`](crate::capture) macro dispatches on.
#[doc(hidden)]
pub struct __Wrap<'a, T: ?Sized>(pub &'a T);

/// Highest priority: a `Result` whose success type is `Serialize` (its error type need not
/// be, as error types seldom are): a success is captured as its value — JSON, not the Debug
/// text `Ok(Response { .. })` the whole `Result` would fall back to — and an error as
/// `{"Err": <its Debug summary>}` (the span records the error itself as well).
#[doc(hidden)]
pub trait __PwCaptureOkSerialize {
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value;
    fn __pw_capture_into(&self, opts: &CaptureOptions, out: &mut Vec<u8>);
}

impl<T: Serialize, E: Debug> __PwCaptureOkSerialize for &&&__Wrap<'_, Result<T, E>> {
    #[inline]
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value {
        match self.0 {
            Ok(value) => summarize_serialize(value, opts),
            Err(error) => err_summary(error, opts),
        }
    }

    #[inline]
    fn __pw_capture_into(&self, opts: &CaptureOptions, out: &mut Vec<u8>) {
        match self.0 {
            Ok(value) => summarize_serialize_into(value, opts, out),
            // Writing JSON into a Vec cannot fail.
            Err(error) => {
                let _ = serde_json::to_writer(out, &err_summary(error, opts));
            }
        }
    }
}

fn err_summary<E: Debug>(error: &E, opts: &CaptureOptions) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("Err".to_owned(), summarize_debug(error, opts));
    Value::Object(map)
}

/// Next: the value is `Serialize`.
#[doc(hidden)]
pub trait __PwCaptureSerialize {
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value;
    fn __pw_capture_into(&self, opts: &CaptureOptions, out: &mut Vec<u8>);
}

impl<T: Serialize + ?Sized> __PwCaptureSerialize for &&__Wrap<'_, T> {
    #[inline]
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value {
        summarize_serialize(self.0, opts)
    }

    #[inline]
    fn __pw_capture_into(&self, opts: &CaptureOptions, out: &mut Vec<u8>) {
        summarize_serialize_into(self.0, opts, out)
    }
}

/// Second priority: the value is `Debug`.
#[doc(hidden)]
pub trait __PwCaptureDebug {
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value;
    fn __pw_capture_into(&self, opts: &CaptureOptions, out: &mut Vec<u8>) {
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(out, &self.__pw_capture(opts));
    }
}

impl<T: Debug + ?Sized> __PwCaptureDebug for &__Wrap<'_, T> {
    #[inline]
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value {
        summarize_debug(self.0, opts)
    }
}

/// Last resort: only the type name is known.
#[doc(hidden)]
pub trait __PwCaptureOpaque {
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value;
    fn __pw_capture_into(&self, opts: &CaptureOptions, out: &mut Vec<u8>) {
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(out, &self.__pw_capture(opts));
    }
}

impl<T: ?Sized> __PwCaptureOpaque for __Wrap<'_, T> {
    #[inline]
    fn __pw_capture(&self, opts: &CaptureOptions) -> Value {
        summarize_opaque::<T>(opts)
    }
}

/// Captures any value as a [`serde_json::Value`], choosing the success value's
/// [`summarize_serialize`] for a `Result` whose success type is `Serialize` (an error:
/// `{"Err": <Debug summary>}`), else [`summarize_serialize`] if the value's type is
/// `Serialize`, else
/// [`summarize_debug`] if it is `Debug`, else
/// [`summarize_opaque`](crate::summarize_opaque).
///
/// Call it as `capture!(&expr, &opts)`: the first argument is a reference to
/// the value, the second a `&CaptureOptions`. Inside a generic function the
/// choice is made from the bounds in scope (`T: Serialize` → serde path; an
/// unbounded `T` → type name only).
///
/// ```
/// use pathwise_capture::{capture, CaptureOptions};
/// use serde_json::json;
///
/// #[derive(serde::Serialize)]
/// struct Req { id: u32, token: String }
/// #[derive(Debug)]
/// struct DebugOnly(u8);
/// struct Neither;
///
/// let opts = CaptureOptions::default();
/// assert_eq!(capture!(&Req { id: 1, token: "t".into() }, &opts), json!({"id": 1, "token": "***"}));
/// assert_eq!(capture!(&DebugOnly(7), &opts), json!("DebugOnly(7)"));
/// assert!(capture!(&Neither, &opts)["type"].as_str().unwrap().ends_with("Neither"));
/// ```
#[macro_export]
macro_rules! capture {
    ($value:expr, $opts:expr $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::{
            __PwCaptureDebug as _, __PwCaptureOkSerialize as _, __PwCaptureOpaque as _,
            __PwCaptureSerialize as _,
        };
        (&&&&$crate::__Wrap($value)).__pw_capture($opts)
    }};
}

/// Like [`capture!`], but appends the summary as JSON text to a `Vec<u8>`: what `#[monitor]`
/// stores. The serde path writes the text directly, without building a
/// [`serde_json::Value`].
///
/// ```
/// use pathwise_capture::{capture_into, CaptureOptions};
///
/// #[derive(serde::Serialize)]
/// struct Req { id: u32, token: String }
/// #[derive(Debug)]
/// struct DebugOnly(u8);
///
/// let opts = CaptureOptions::default();
/// let mut out = Vec::new();
/// capture_into!(&Req { id: 1, token: "t".into() }, &opts, &mut out);
/// out.push(b' ');
/// capture_into!(&DebugOnly(7), &opts, &mut out);
/// assert_eq!(String::from_utf8(out).unwrap(), r#"{"id":1,"token":"***"} "DebugOnly(7)""#);
/// ```
#[macro_export]
macro_rules! capture_into {
    ($value:expr, $opts:expr, $out:expr $(,)?) => {{
        #[allow(unused_imports)]
        use $crate::{
            __PwCaptureDebug as _, __PwCaptureOkSerialize as _, __PwCaptureOpaque as _,
            __PwCaptureSerialize as _,
        };
        (&&&&$crate::__Wrap($value)).__pw_capture_into($opts, $out)
    }};
}

#[cfg(test)]
mod tests {
    use crate::CaptureOptions;
    use serde::Serialize;
    use serde_json::{Value, json};

    #[derive(Serialize, Debug)]
    struct Both {
        n: u8,
    }

    #[derive(Debug)]
    #[allow(dead_code)] // read only through Debug
    struct DebugOnly {
        password: &'static str,
        n: u8,
    }

    struct Neither;

    fn generic_serialize<T: Serialize>(value: &T, opts: &CaptureOptions) -> Value {
        capture!(value, opts)
    }

    fn generic_debug<T: std::fmt::Debug>(value: &T, opts: &CaptureOptions) -> Value {
        capture!(value, opts)
    }

    fn generic_unbounded<T>(value: &T, opts: &CaptureOptions) -> Value {
        capture!(value, opts)
    }

    /// An error type as applications write them: Debug and Display, not Serialize.
    #[derive(Debug)]
    #[allow(dead_code)] // read only through Debug
    enum SearchError {
        Timeout { after_ms: u32 },
    }

    #[test]
    fn a_result_is_captured_as_its_success_value_even_when_its_error_is_not_serialize() {
        let opts = CaptureOptions::default();
        let ok: Result<Both, SearchError> = Ok(Both { n: 3 });
        // The whole Result is not Serialize: before, it was the Debug text "Ok(Both { n: 3 })".
        assert_eq!(capture!(&ok, &opts), json!({"n": 3}));
        let mut out = Vec::new();
        capture_into!(&ok, &opts, &mut out);
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            json!({"n": 3})
        );
        let err: Result<Both, SearchError> = Err(SearchError::Timeout { after_ms: 250 });
        assert_eq!(
            capture!(&err, &opts),
            json!({"Err": "Timeout { after_ms: 250 }"})
        );
        let mut out = Vec::new();
        capture_into!(&err, &opts, &mut out);
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            json!({"Err": "Timeout { after_ms: 250 }"})
        );
        // Secrets in a success value are masked as in any serialized value.
        #[derive(Serialize)]
        struct Session {
            user: &'static str,
            token: &'static str,
        }
        let secret: Result<Session, SearchError> = Ok(Session {
            user: "ann",
            token: "t0k",
        });
        assert_eq!(
            capture!(&secret, &opts),
            json!({"user": "ann", "token": "***"})
        );
    }

    #[test]
    fn serialize_wins_over_debug() {
        let opts = CaptureOptions::default();
        // Debug would give the string "Both { n: 3 }".
        assert_eq!(capture!(&Both { n: 3 }, &opts), json!({"n": 3}));
    }

    #[test]
    fn debug_only_uses_debug_with_masking() {
        let opts = CaptureOptions::default();
        let v = capture!(
            &DebugOnly {
                password: "hunter2",
                n: 1
            },
            &opts
        );
        assert_eq!(v, json!(r#"DebugOnly { password: "***", n: 1 }"#));
    }

    #[test]
    fn neither_gives_type_name() {
        let opts = CaptureOptions::default();
        assert_eq!(
            capture!(&Neither, &opts),
            json!({"type": std::any::type_name::<Neither>()})
        );
    }

    #[test]
    fn references_and_unsized() {
        let opts = CaptureOptions::default();
        let s: &str = "hello world";
        assert_eq!(capture!(&s, &opts), json!("hello world"));
        assert_eq!(capture!(s, &opts), json!("hello world"));
        let slice: &[u32] = &[1, 2];
        assert_eq!(capture!(slice, &opts), json!([1, 2]));
        let boxed: Box<dyn std::fmt::Debug> = Box::new(5);
        assert_eq!(capture!(&*boxed, &opts), json!("5"));
    }

    #[test]
    fn generics_use_declared_bounds() {
        let opts = CaptureOptions::default();
        assert_eq!(generic_serialize(&Both { n: 9 }, &opts), json!({"n": 9}));
        assert_eq!(generic_serialize(&42u64, &opts), json!(42));
        assert_eq!(generic_debug(&Both { n: 9 }, &opts), json!("Both { n: 9 }"));
        assert_eq!(
            generic_unbounded(&Both { n: 9 }, &opts),
            json!({"type": std::any::type_name::<Both>()})
        );
    }
}
