//! The `Debug` fallback path.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::Value;

use crate::mask::mask_secrets;
use crate::options::CaptureOptions;
use crate::serializer::type_fallback_value as type_fallback;
use crate::text::{BoundedWriter, CUT, cut_chars};

/// Summarises a value through its [`Debug`](fmt::Debug) impl, as a JSON string.
///
/// Output is bounded to `max_repr` chars (plus a trailing `…` when cut): the
/// formatter writes into a sink that refuses output past the bound, so even a
/// value whose `Debug` form is gigabytes long is never materialised. Secret
/// values are then masked in the text: in `password: "x"`, `token: Some("x")`,
/// `"api_key": "x"` or `secret=x` the whole value becomes `***` (`"***"` for
/// a quoted string). Text *inside* string literals is not scanned.
///
/// Never fails: if the `Debug` impl returns an error of its own or panics,
/// the result is `{"type": "<type name>"}` (panics are caught as in
/// [`summarize_serialize`](crate::summarize_serialize)).
///
/// ```
/// use pathwise_capture::{summarize_debug, CaptureOptions};
///
/// #[derive(Debug)]
/// struct Login { user: &'static str, password: &'static str }
///
/// let v = summarize_debug(&Login { user: "ann", password: "hunter2" }, &CaptureOptions::default());
/// assert_eq!(v, r#"Login { user: "ann", password: "***" }"#);
/// ```
pub fn summarize_debug<T: fmt::Debug + ?Sized>(value: &T, opts: &CaptureOptions) -> Value {
    let text = catch_unwind(AssertUnwindSafe(|| {
        BoundedWriter::format(opts.max_repr, format_args!("{value:?}")).map(|w| finish(w, opts))
    }));
    match text {
        Ok(Some(text)) => Value::String(text),
        _ => type_fallback::<T>(),
    }
}

/// Masks, then re-applies the bound: a mask (`***`) can be longer than the
/// secret it replaces, and the bound is a promise about output size.
fn finish(w: BoundedWriter, opts: &CaptureOptions) -> String {
    let Some(mut masked) = mask_secrets(&w.buf, opts) else {
        return w.into_string();
    };
    let cut = cut_chars(&mut masked, opts.max_repr);
    if cut || w.truncated {
        masked.push_str(CUT);
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::collections::BTreeMap;

    fn opts(max_repr: usize) -> CaptureOptions {
        CaptureOptions {
            max_repr,
            ..CaptureOptions::default()
        }
    }

    fn text(v: Value) -> String {
        match v {
            Value::String(s) => s,
            other => panic!("expected a string, got {other}"),
        }
    }

    #[derive(Debug)]
    #[allow(dead_code)] // fields are read only through Debug
    struct Login {
        user: String,
        password: String,
        token: Option<String>,
    }

    #[test]
    fn masks_password_and_optional_token() {
        let login = Login {
            user: "ann".into(),
            password: "hunter2".into(),
            token: Some("tok-123".into()),
        };
        let s = text(summarize_debug(&login, &opts(256)));
        assert_eq!(s, r#"Login { user: "ann", password: "***", token: *** }"#);
        assert!(!s.contains("hunter2") && !s.contains("tok-123"));
    }

    #[test]
    fn masks_map_keys_in_debug_output() {
        let map = BTreeMap::from([("api_key", "k-1"), ("region", "eu")]);
        let s = text(summarize_debug(&map, &opts(256)));
        assert_eq!(s, r#"{"api_key": "***", "region": "eu"}"#);
    }

    #[test]
    fn short_output_is_untouched() {
        assert_eq!(summarize_debug(&(1, "x"), &opts(256)), r#"(1, "x")"#);
        assert_eq!(summarize_debug("a\"b", &opts(256)), r#""a\"b""#);
    }

    /// Writes `chunks` × 1 KiB, counting how many chunk writes were accepted.
    struct Huge<'a> {
        chunks: usize,
        accepted: &'a Cell<usize>,
        ignore_errors: bool,
    }

    impl fmt::Debug for Huge<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let chunk = "x".repeat(1024);
            for _ in 0..self.chunks {
                let res = f.write_str(&chunk);
                if res.is_ok() {
                    self.accepted.set(self.accepted.get() + 1);
                } else if !self.ignore_errors {
                    return res;
                }
            }
            Ok(())
        }
    }

    #[test]
    fn huge_debug_output_is_bounded_and_stops_early() {
        let accepted = Cell::new(0);
        let huge = Huge {
            chunks: 10 * 1024, // 10 MiB
            accepted: &accepted,
            ignore_errors: false,
        };
        let s = text(summarize_debug(&huge, &opts(100)));
        assert_eq!(s.chars().count(), 100 + CUT.chars().count());
        assert!(s.ends_with(CUT));
        assert_eq!(
            accepted.get(),
            0,
            "first 1 KiB chunk already exceeds the bound"
        );
    }

    #[test]
    fn impls_that_ignore_errors_are_still_bounded() {
        let accepted = Cell::new(0);
        let huge = Huge {
            chunks: 1000,
            accepted: &accepted,
            ignore_errors: true,
        };
        let s = text(summarize_debug(&huge, &opts(2048)));
        assert_eq!(s.len(), 2048 + CUT.len());
        assert_eq!(accepted.get(), 2);
    }

    #[test]
    fn mask_growth_is_rebounded() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct P {
            pwd: u8,
            rest: &'static str,
        }
        let p = P {
            pwd: 7,
            rest: "abcdefghijklmnop",
        };
        // Unmasked: `P { pwd: 7, rest: "abcdefghijklmnop" }` is 38 chars;
        // masking `7` → `***` grows it by 2, past the bound of 38.
        let s = text(summarize_debug(&p, &opts(38)));
        assert_eq!(s, r#"P { pwd: ***, rest: "abcdefghijklmnop"…"#);
        assert!(s.chars().count() <= 38 + 1);
    }

    struct Failing;

    impl fmt::Debug for Failing {
        fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
            Err(fmt::Error)
        }
    }

    struct Panicking;

    impl fmt::Debug for Panicking {
        fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("Debug impl panicked on purpose")
        }
    }

    #[test]
    fn failing_or_panicking_debug_falls_back_to_type() {
        let v = summarize_debug(&Failing, &opts(10));
        assert_eq!(v["type"], std::any::type_name::<Failing>());
        let v = summarize_debug(&Panicking, &opts(10));
        assert_eq!(v["type"], std::any::type_name::<Panicking>());
    }
}
