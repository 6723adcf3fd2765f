//! Tracing field values → Pathwise attributes and errors.
//!
//! Visitors collect into plain values and never touch the span's extensions: field values run
//! user `Debug`/`Display` code, which could itself emit tracing events, and doing that while
//! holding the span's extension lock would deadlock. The layer applies what was collected
//! afterwards, under a short lock.

use std::borrow::Cow;
use std::fmt;

use pathwise::{AttrValue, ErrorInfo};
use tracing_core::field::{Field, Visit};

/// The field whose value describes a failure: `#[instrument(err)]` emits it, and it is the
/// convention of `tracing` users for `error = %e`.
pub(crate) const ERROR_FIELD: &str = "error";
/// The formatted text of an event (`info!("text")`).
const MESSAGE_FIELD: &str = "message";
/// Longest source chain kept for an `error` field given as `&dyn Error` (as the SDK does).
const MAX_CHAIN: usize = 16;

/// An `error` value: its display and, for `&dyn Error` values, its source chain.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ErrorText {
    pub(crate) message: String,
    pub(crate) chain: Vec<String>,
}

impl ErrorText {
    /// The failure as the SDK records it; `error_type` names where it was reported.
    pub(crate) fn into_info(self, error_type: &'static str) -> ErrorInfo {
        ErrorInfo {
            error_type: Cow::Borrowed(error_type),
            message: self.message,
            chain: self.chain,
        }
    }

    fn from_error(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source
            && chain.len() < MAX_CHAIN
        {
            chain.push(cause.to_string());
            source = cause.source();
        }
        ErrorText {
            message: error.to_string(),
            chain,
        }
    }
}

/// A span's fields: each becomes a typed attribute, except a textual `error`, which fails the
/// span. A numeric or boolean `error` stays an attribute (a flag or a code, not a description).
#[derive(Debug, Default)]
pub(crate) struct SpanFields {
    pub(crate) attrs: Vec<(&'static str, AttrValue)>,
    pub(crate) error: Option<ErrorText>,
}

impl SpanFields {
    fn text(&mut self, field: &Field, text: String) {
        if field.name() == ERROR_FIELD {
            self.error = Some(ErrorText {
                message: text,
                chain: Vec::new(),
            });
        } else {
            self.attr(field, AttrValue::Str(Cow::Owned(text)));
        }
    }

    fn attr(&mut self, field: &Field, value: AttrValue) {
        self.attrs.push((field.name(), value));
    }
}

impl Visit for SpanFields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attr(field, AttrValue::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attr(field, AttrValue::I64(value));
    }

    /// Above `i64::MAX` the exact digits are kept as a string (the SDK's `From<u64>`).
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.attr(field, AttrValue::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value = i64::try_from(value)
            .map_or_else(|_| AttrValue::Str(value.to_string().into()), AttrValue::I64);
        self.attr(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value = i64::try_from(value)
            .map_or_else(|_| AttrValue::Str(value.to_string().into()), AttrValue::I64);
        self.attr(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attr(field, AttrValue::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value.to_owned());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if field.name() == ERROR_FIELD {
            self.error = Some(ErrorText::from_error(value));
        } else {
            self.attr(field, AttrValue::Str(Cow::Owned(value.to_string())));
        }
    }

    /// `?value` and `%value` fields (`%` arrives here wrapped so that `Debug` prints `Display`).
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, format!("{value:?}"));
    }
}

/// The two fields of an event the layer uses: its message and its `error`. Only visited for
/// events that fail a span or are kept as its last warning; the rest are just counted.
#[derive(Debug, Default)]
pub(crate) struct EventFields {
    pub(crate) message: Option<String>,
    pub(crate) error: Option<ErrorText>,
}

impl EventFields {
    /// What the failed span's error says: the `error` value, after the message when there is
    /// one (`error!(error = %e, "query failed")` → "query failed: <e>").
    pub(crate) fn into_error(self, fallback: &str) -> ErrorText {
        match (self.message, self.error) {
            (Some(message), Some(mut error)) => {
                error.message = format!("{message}: {}", error.message);
                error
            }
            (None, Some(error)) => error,
            (Some(message), None) => ErrorText {
                message,
                chain: Vec::new(),
            },
            (None, None) => ErrorText {
                message: fallback.to_owned(),
                chain: Vec::new(),
            },
        }
    }
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            MESSAGE_FIELD => self.message = Some(value.to_owned()),
            ERROR_FIELD => {
                self.error = Some(ErrorText {
                    message: value.to_owned(),
                    chain: Vec::new(),
                })
            }
            _ => {}
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if field.name() == ERROR_FIELD {
            self.error = Some(ErrorText::from_error(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            MESSAGE_FIELD => self.message = Some(format!("{value:?}")),
            ERROR_FIELD => {
                self.error = Some(ErrorText {
                    message: format!("{value:?}"),
                    chain: Vec::new(),
                })
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_message_and_error_are_kept_in_that_order() {
        let fields = EventFields {
            message: Some("query failed".into()),
            error: Some(ErrorText {
                message: "timeout".into(),
                chain: vec!["io".into()],
            }),
        };
        let error = fields.into_error("event x").into_info("app::db");
        assert_eq!(error.message, "query failed: timeout");
        assert_eq!(error.chain, ["io"]);
        assert_eq!(error.error_type, "app::db");
    }

    #[test]
    fn an_event_with_neither_falls_back_to_its_name() {
        let error = EventFields::default().into_error("event src/lib.rs:3");
        assert_eq!(error.message, "event src/lib.rs:3");
    }

    #[derive(Debug)]
    struct Looping;
    impl fmt::Display for Looping {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("looping")
        }
    }
    impl std::error::Error for Looping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(self) // a cyclic chain must not hang the host
        }
    }

    #[test]
    fn a_cyclic_source_chain_is_cut() {
        let text = ErrorText::from_error(&Looping);
        assert_eq!(text.message, "looping");
        assert_eq!(text.chain.len(), MAX_CHAIN);
    }
}
