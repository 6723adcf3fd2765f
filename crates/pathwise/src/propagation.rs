//! W3C Trace Context (`traceparent`): a trace that continues across services.
//!
//! Outgoing requests carry the current [`Context`] as `traceparent:
//! 00-<trace id>-<span id>-<flags>`; a service receiving one continues the trace under the
//! caller's span. Pathwise trace ids begin with the trace's start time, which the stores use to
//! find and expire traces; an incoming id that does not (a random id from another tracer) is
//! given the current time in its leading bits, and the original is remembered so that
//! outgoing headers still carry it: the other tracer sees one trace throughout.

use std::sync::OnceLock;

use parking_lot::Mutex;
use pathwise_model::TraceId;
use rustc_hash::FxHashMap;

use crate::Context;

/// The header name, lowercase as HTTP/2 requires.
pub const TRACEPARENT: &str = "traceparent";

/// Remapped ids → the caller's original, both generations bounded.
#[derive(Default)]
struct Originals {
    current: FxHashMap<u128, u128>,
    previous: FxHashMap<u128, u128>,
}

const MAX_REMEMBERED: usize = 1 << 16;

fn originals() -> &'static Mutex<Originals> {
    static ORIGINALS: OnceLock<Mutex<Originals>> = OnceLock::new();
    ORIGINALS.get_or_init(Default::default)
}

fn now_ms() -> u64 {
    (pathwise_pipeline::clock().wall_now_ns() / 1_000_000).max(0) as u64
}

fn hex_field<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None; // the specification allows lowercase hex only
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl Context {
    /// The `traceparent` header value for a request made inside this context.
    ///
    /// ```
    /// let _recording = pathwise::testing::Recorder::start();
    /// let _span = pathwise::span("checkout");
    /// let header = pathwise::Context::current().unwrap().traceparent();
    /// assert_eq!(header.len(), 55);
    /// assert!(header.starts_with("00-") && header.ends_with("-01"));
    /// ```
    pub fn traceparent(&self) -> String {
        let id = {
            let originals = originals().lock();
            let own = self.trace_id.0;
            originals
                .current
                .get(&own)
                .or_else(|| originals.previous.get(&own))
                .copied()
                .unwrap_or(own)
        };
        format!(
            "00-{id:032x}-{:016x}-{:02x}",
            self.span_id,
            u8::from(self.sampled)
        )
    }

    /// The caller's context from a `traceparent` value; `None` when it is malformed (the
    /// specification's rule: then start a new trace). Spans opened under the returned context
    /// (attach it, or use it as a parent) continue the caller's trace.
    ///
    /// ```
    /// let ctx = pathwise::Context::from_traceparent(
    ///     "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
    /// assert_eq!(ctx.span_id(), 0xb7ad6b7169203331);
    /// // A random id gets a time prefix here, but is handed on unchanged.
    /// assert_eq!(&ctx.traceparent()[3..35], "0af7651916cd43dd8448eb211c80319c");
    /// assert!(pathwise::Context::from_traceparent("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01").is_none());
    /// ```
    pub fn from_traceparent(value: &str) -> Option<Context> {
        let value = value.trim();
        let mut fields = value.split('-');
        let version = hex_field::<1>(fields.next()?)?[0];
        let trace = u128::from_be_bytes(hex_field::<16>(fields.next()?)?);
        let span = u64::from_be_bytes(hex_field::<8>(fields.next()?)?);
        let flags = hex_field::<1>(fields.next()?)?[0];
        // Version 00 has exactly four fields; later versions may append more.
        if version == 0xff || (version == 0 && fields.next().is_some()) || trace == 0 || span == 0 {
            return None;
        }
        let now_ms = now_ms();
        let given = TraceId(trace);
        let trace_id = if given.is_time_ordered(now_ms) {
            given
        } else {
            let local = given.retimed(now_ms);
            let mut originals = originals().lock();
            if originals.current.len() >= MAX_REMEMBERED {
                originals.previous = std::mem::take(&mut originals.current);
            }
            originals.current.insert(local.0, trace);
            local
        };
        Some(Context {
            trace_id,
            span_id: span,
            path: 0, // the caller's path is its own; this service's spans start theirs here
            sampled: flags & 1 == 1,
        })
    }

    /// Sets `traceparent` on an outgoing request through `set(name, value)`.
    ///
    /// ```
    /// let _recording = pathwise::testing::Recorder::start();
    /// let _span = pathwise::span("client");
    /// let mut headers = std::collections::HashMap::new();
    /// pathwise::Context::current().unwrap().inject(|k, v| { headers.insert(k, v); });
    /// assert!(headers.contains_key("traceparent"));
    /// ```
    pub fn inject(&self, mut set: impl FnMut(&'static str, String)) {
        set(TRACEPARENT, self.traceparent());
    }

    /// The caller's context from an incoming request's headers, looked up through
    /// `get(name)` (header names are case-insensitive: `get` should be too).
    ///
    /// ```
    /// let headers = [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")];
    /// let ctx = pathwise::Context::extract(|name| {
    ///     headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    /// });
    /// assert!(ctx.is_some());
    /// ```
    pub fn extract<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Context> {
        Context::from_traceparent(get(TRACEPARENT)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathwise_ids_round_trip_unchanged() {
        let _recording = crate::testing::Recorder::start();
        let span = crate::span("root");
        let ctx = Context::current().unwrap();
        let back = Context::from_traceparent(&ctx.traceparent()).unwrap();
        assert_eq!(
            (back.trace_id, back.span_id, back.sampled),
            (ctx.trace_id, ctx.span_id, true)
        );
        drop(span);
    }

    #[test]
    fn malformed_headers_start_a_new_trace() {
        for bad in [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-0af7651916cd43dd8448eb211c80319-cb7ad6b7169203331-01",
            "0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ] {
            assert!(Context::from_traceparent(bad).is_none(), "{bad:?}");
        }
        // A later version may carry more fields; the first four are read.
        let ctx = Context::from_traceparent(
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-more",
        )
        .unwrap();
        assert!(!ctx.sampled);
    }

    #[test]
    fn a_continued_trace_nests_under_the_callers_span() {
        let recording = crate::testing::Recorder::start();
        let caller =
            Context::from_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                .unwrap();
        {
            let _attached = caller.attach();
            let _handler = crate::span("handle");
            let outgoing = Context::current().unwrap().traceparent();
            assert!(outgoing.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
        }
        let records = recording.finish();
        let handler = records
            .iter()
            .find_map(|r| match r {
                pathwise_model::Record::Span(s) if s.name == "handle" => Some(s),
                _ => None,
            })
            .unwrap();
        assert_eq!(handler.parent_id, 0xb7ad6b7169203331);
        assert_eq!(handler.trace_id, caller.trace_id);
        assert!(handler.trace_id.is_time_ordered(now_ms()));
    }
}
