//! Query-string parsing with errors that name the parameter. Parameters arrive as strings and
//! are checked here rather than by serde, whose messages do not say which parameter failed.
//!
//! The grammars accepted here are the ones the OpenAPI document publishes: its patterns are the
//! constants below, so the document and the parser cannot drift apart.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pathwise_model::{TraceId, TraceStatus};
use pathwise_store::Cursor;

use crate::error::ApiError;

/// A trace id: 32 lowercase hex digits, as the API writes them.
pub const TRACE_ID_PATTERN: &str = "^[0-9a-f]{32}$";
/// A span id: decimal, as the API writes them (at most 20 digits, the width of a `u64`).
pub const SPAN_ID_PATTERN: &str = "^[0-9]{1,20}$";
/// A length of time: a count and one unit (seconds, minutes, hours, days or weeks).
pub const AGE_PATTERN: &str = "^[0-9]{1,9}[smhdw]$";
/// A point in time: Unix milliseconds, an age (that long ago) or an RFC 3339 UTC timestamp.
pub const TIME_PATTERN: &str = concat!(
    "^([0-9]{1,13}|[0-9]{1,9}[smhdw]|",
    "(19[7-9][0-9]|[2-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])",
    "T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?Z)$"
);

/// Longest Unix-millisecond value in digits; 13 digits reach past the last representable
/// nanosecond (year 2262), so later times are clamped to it.
const MAX_MS_DIGITS: usize = 13;

/// The query of a request, each parameter at most once.
pub struct Params(HashMap<String, String>);

/// Now, in nanoseconds since the Unix epoch (0 before it): the "now" of every relative
/// parameter and of the routes that end an open window.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

fn nanos(ns: u128) -> i64 {
    ns.min(i64::MAX as u128) as i64
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Seconds in one unit of [`AGE_PATTERN`].
fn unit_seconds(unit: u8) -> Option<u128> {
    Some(match unit {
        b's' => 1,
        b'm' => 60,
        b'h' => 3_600,
        b'd' => 86_400,
        b'w' => 604_800,
        _ => return None,
    })
}

/// A length of time in nanoseconds, if `raw` matches [`AGE_PATTERN`].
fn age_ns(raw: &str) -> Option<u128> {
    // Split at the last byte: a multi-byte last character is no unit (and no char boundary).
    let (&unit, count) = raw.as_bytes().split_last()?;
    let count = std::str::from_utf8(count).ok()?;
    if count.len() > 9 || !is_digits(count) {
        return None;
    }
    Some(count.parse::<u128>().ok()? * unit_seconds(unit)? * 1_000_000_000)
}

/// Whether `raw` has the shape `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; the field ranges are left
/// to the parser, which checks them against the calendar.
fn rfc3339_shaped(raw: &str) -> bool {
    let b = raw.as_bytes();
    let Some(rest) = raw.get(19..) else {
        return false;
    };
    let fixed = b[..19].iter().enumerate().all(|(i, &c)| match i {
        4 | 7 => c == b'-',
        10 => c == b'T',
        13 | 16 => c == b':',
        _ => c.is_ascii_digit(),
    });
    let fraction = match rest.strip_suffix('Z') {
        Some("") => true,
        Some(f) => f
            .strip_prefix('.')
            .is_some_and(|d| d.len() <= 9 && is_digits(d)),
        None => false,
    };
    fixed && fraction
}

impl Params {
    /// Parses a raw query string. A parameter given twice, or not valid percent-encoded UTF-8,
    /// is refused: taking one of two values silently would answer a different question.
    pub fn parse(query: &str) -> Result<Params, ApiError> {
        let mut map = HashMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name).map_err(|_| ApiError::bad("query", "not valid UTF-8"))?;
            let value =
                decode(value).map_err(|_| ApiError::bad(name.clone(), "not valid UTF-8"))?;
            if map.contains_key(&name) {
                return Err(ApiError::bad(name, "given more than once"));
            }
            map.insert(name, value);
        }
        Ok(Params(map))
    }

    /// The value as sent; `Some("")` for `name=`.
    fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value, refusing `name=`: an empty value is neither a number, a time nor a choice.
    fn value(&self, name: &'static str) -> Result<Option<&str>, ApiError> {
        match self.raw(name) {
            Some("") => Err(ApiError::bad(name, "empty value")),
            other => Ok(other),
        }
    }

    /// An optional query in the query language; the error names the column it refuses.
    pub fn query(
        &self,
        name: &'static str,
    ) -> Result<Option<pathwise_store::query::Query>, ApiError> {
        let Some(text) = self.text(name, pathwise_store::query::MAX_QUERY_BYTES)? else {
            return Ok(None);
        };
        pathwise_store::query::Query::parse(&text, now_ns())
            .map(Some)
            .map_err(|e| ApiError::bad(name, e.to_string()))
    }

    /// An optional string of at most `max` chars; `name=` is the same as leaving it out.
    pub fn text(&self, name: &'static str, max: usize) -> Result<Option<String>, ApiError> {
        match self.raw(name).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > max => {
                Err(ApiError::bad(name, format!("longer than {max} characters")))
            }
            other => Ok(other.map(str::to_string)),
        }
    }

    /// An optional name of at most `max` chars that, when given, is not empty (`node=` is a
    /// name that got lost, not "no node").
    pub fn name(&self, name: &'static str, max: usize) -> Result<Option<String>, ApiError> {
        match self.value(name)? {
            Some(v) if v.chars().count() > max => {
                Err(ApiError::bad(name, format!("longer than {max} characters")))
            }
            other => Ok(other.map(str::to_string)),
        }
    }

    /// The `project` the request names, if any (checked to be a project name; `project=` is
    /// refused, not read as the default: a name that got lost is a mistake to report).
    pub fn project(&self) -> Result<Option<String>, ApiError> {
        let Some(name) = self.value("project")? else {
            return Ok(None);
        };
        crate::check_project_name(name).map_err(|why| ApiError::bad("project", why))?;
        Ok(Some(name.to_string()))
    }

    /// A required, non-empty string of at most `max` chars; `what` says what to give.
    pub fn required_text(
        &self,
        name: &'static str,
        max: usize,
        what: &str,
    ) -> Result<String, ApiError> {
        self.text(name, max)?
            .ok_or_else(|| ApiError::bad(name, format!("required: {what}")))
    }

    /// An optional integer within `range`.
    pub fn int(
        &self,
        name: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.value(name)? else {
            return Ok(None);
        };
        let value: i64 = raw
            .parse()
            .map_err(|_| ApiError::bad(name, format!("{raw:?} is not an integer")))?;
        if !range.contains(&value) {
            return Err(ApiError::bad(
                name,
                format!("{value} is outside {}..={}", range.start(), range.end()),
            ));
        }
        Ok(Some(value))
    }

    /// `limit`, defaulting to `default`, within 1..=`max`.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        Ok(self
            .int("limit", 1..=max as i64)?
            .map_or(default, |v| v as usize))
    }

    /// A point in time as Unix nanoseconds, in the grammar of [`TIME_PATTERN`]: Unix
    /// milliseconds (`1732300000000`), an age (`15m`, `1h`, `7d`: that long ago) or an RFC 3339
    /// UTC timestamp (`2026-11-23T05:00:00Z`). Times past what nanoseconds can hold are
    /// clamped to 1970 and 2262.
    pub fn time(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.value(name)? else {
            return Ok(None);
        };
        if raw.len() <= MAX_MS_DIGITS && is_digits(raw) {
            let ms: u128 = raw.parse().unwrap_or(u128::MAX);
            return Ok(Some(nanos(ms * 1_000_000)));
        }
        if let Some(age) = age_ns(raw) {
            return Ok(Some(now_ns().saturating_sub(nanos(age)).max(0)));
        }
        if rfc3339_shaped(raw) {
            let at = humantime::parse_rfc3339(raw)
                .map_err(|e| ApiError::bad(name, format!("{raw:?}: {e}")))?;
            let ns = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            return Ok(Some(nanos(ns)));
        }
        Err(ApiError::bad(
            name,
            format!(
                "{raw:?} is not Unix milliseconds, an age like 1h or an RFC 3339 UTC time \
                 like 2026-11-23T05:00:00Z"
            ),
        ))
    }

    /// A length of time in the grammar of [`AGE_PATTERN`] (`90s`, `2h`, `7d`), as nanoseconds.
    pub fn age(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.value(name)? else {
            return Ok(None);
        };
        age_ns(raw).map(|ns| Some(nanos(ns))).ok_or_else(|| {
            ApiError::bad(
                name,
                format!("{raw:?} is not a count and a unit (s, m, h, d, w)"),
            )
        })
    }

    /// A duration in milliseconds, as nanoseconds.
    pub fn millis(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        Ok(self.int(name, 0..=MAX_MILLIS)?.map(|ms| ms * 1_000_000))
    }

    /// One of `choices` (`sort=slowest`); the error lists them.
    pub fn choice(
        &self,
        name: &'static str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, ApiError> {
        let Some(raw) = self.value(name)? else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|c| **c == raw)
            .copied()
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad(
                    name,
                    format!("{raw:?} is not one of {}", choices.join(", ")),
                )
            })
    }

    /// `status`: running, completed or failed.
    pub fn status(&self) -> Result<Option<TraceStatus>, ApiError> {
        let Some(raw) = self.value("status")? else {
            return Ok(None);
        };
        TraceStatus::parse(raw).map(Some).ok_or_else(|| {
            ApiError::bad(
                "status",
                format!("{raw:?} is not running, completed or failed"),
            )
        })
    }

    /// The opaque pagination cursor.
    pub fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        let Some(raw) = self.value("cursor")? else {
            return Ok(None);
        };
        Cursor::decode(raw)
            .map(Some)
            .ok_or_else(|| ApiError::bad("cursor", "malformed cursor"))
    }

    /// A span id in the grammar of [`SPAN_ID_PATTERN`]: `Some(None)` for a number no span id
    /// can have (over `u64`), which matches nothing.
    pub fn span_id(&self, name: &'static str) -> Result<Option<Option<u64>>, ApiError> {
        let Some(raw) = self.value(name)? else {
            return Ok(None);
        };
        if raw.len() > 20 || !is_digits(raw) {
            return Err(ApiError::bad(name, format!("{raw:?} is not a span id")));
        }
        Ok(Some(raw.parse().ok()))
    }

    /// A trace id in the grammar of [`TRACE_ID_PATTERN`].
    pub fn trace_id(&self, name: &'static str) -> Result<Option<TraceId>, ApiError> {
        self.value(name)?
            .map(|raw| parse_trace_id(name, raw))
            .transpose()
    }
}

/// The largest duration in milliseconds whose nanoseconds fit an `i64`.
pub const MAX_MILLIS: i64 = i64::MAX / 1_000_000;

fn decode(text: &str) -> Result<String, std::str::Utf8Error> {
    // Form encoding: `+` is a space.
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Params::parse(parts.uri.query().unwrap_or(""))
    }
}

fn parse_trace_id(name: &'static str, raw: &str) -> Result<TraceId, ApiError> {
    let lower_hex = raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    lower_hex
        .then(|| TraceId::parse_hex(raw))
        .flatten()
        .ok_or_else(|| ApiError::bad(name, "a trace id is 32 lowercase hex digits"))
}

/// A trace id from the path.
pub fn trace_id(raw: &str) -> Result<TraceId, ApiError> {
    parse_trace_id("id", raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Params {
        Params::parse(query).unwrap()
    }

    fn parameter(e: ApiError) -> String {
        match e {
            ApiError::BadParameter { parameter, .. } => parameter.into_owned(),
            other => panic!("not a parameter error: {other}"),
        }
    }

    #[test]
    fn repeated_and_undecodable_parameters_are_named() {
        let twice = Params::parse("limit=1&q=a&limit=2").err().unwrap();
        assert_eq!(parameter(twice), "limit");
        assert_eq!(parameter(Params::parse("q=%FF").err().unwrap()), "q");
        assert_eq!(
            parse("q=a+b%20c").text("q", 10).unwrap().as_deref(),
            Some("a b c")
        );
    }

    #[test]
    fn empty_values_are_absent_for_text_and_refused_otherwise() {
        let p = parse("q=&status=&limit=&since=");
        assert_eq!(p.text("q", 10).unwrap(), None);
        assert_eq!(parameter(p.status().unwrap_err()), "status");
        assert_eq!(parameter(p.limit(5, 10).unwrap_err()), "limit");
        assert_eq!(parameter(p.time("since").unwrap_err()), "since");
    }

    #[test]
    fn times_follow_the_published_grammar() {
        let p = parse(concat!(
            "a=1732300000000&b=9999999999999&c=2026-11-23T05:00:00Z&d=2026-11-23T05:00:00.5Z",
            "&e=1h&f=2026-11-23 05:00:00&g=1hour&h=99999999999999&i=2026-02-30T00:00:00Z",
            "&j=2026-11-23T05:00:00%2B01:00&k=%C2%80&l=1%C2%80"
        ));
        assert_eq!(p.time("a").unwrap(), Some(1_732_300_000_000_000_000));
        assert_eq!(p.time("b").unwrap(), Some(i64::MAX), "clamped");
        assert_eq!(p.time("c").unwrap(), Some(1_795_410_000_000_000_000));
        assert_eq!(p.time("d").unwrap(), Some(1_795_410_000_500_000_000));
        let hour_ago = p.time("e").unwrap().unwrap();
        assert!((now_ns() - hour_ago - 3_600_000_000_000).abs() < 60_000_000_000);
        for refused in ["f", "g", "h", "i", "j", "k", "l"] {
            assert_eq!(parameter(p.time(refused).unwrap_err()), refused);
        }
    }

    #[test]
    fn ids_are_lowercase_hex_and_span_ids_decimal() {
        let p = parse(concat!(
            "a=0123456789abcdef0123456789abcdef&b=0123456789ABCDEF0123456789ABCDEF",
            "&c=18446744073709551615&d=99999999999999999999&e=-1"
        ));
        assert!(p.trace_id("a").unwrap().is_some());
        assert_eq!(parameter(p.trace_id("b").unwrap_err()), "b");
        assert_eq!(p.span_id("c").unwrap(), Some(Some(u64::MAX)));
        assert_eq!(p.span_id("d").unwrap(), Some(None), "no span has it");
        assert_eq!(parameter(p.span_id("e").unwrap_err()), "e");
    }

    /// Fuzz target (bounded under `cargo test`; `cargo bolero test` for longer): any query
    /// string, read through every accessor the routes use, is answered or refused as a bad
    /// parameter, never a panic or another error.
    #[test]
    fn any_query_string_is_read_or_refused_as_a_bad_parameter() {
        bolero::check!().for_each(|bytes: &[u8]| {
            let Ok(query) = std::str::from_utf8(bytes) else {
                return;
            };
            let p = match Params::parse(query) {
                Ok(p) => p,
                Err(e) => {
                    parameter(e);
                    return;
                }
            };
            // The first byte picks the parameter name, so short inputs hit real names.
            let names = [
                "q", "limit", "since", "until", "for", "min_ms", "status", "cursor", "span", "id",
            ];
            let name = names[bytes.first().map_or(0, |b| *b as usize % names.len())];
            let checks: [Result<(), ApiError>; 10] = [
                p.text(name, 200).map(drop),
                p.int(name, -5..=5).map(drop),
                p.limit(50, 500).map(drop),
                p.time(name).map(drop),
                p.age(name).map(drop),
                p.millis(name).map(drop),
                p.status().map(drop),
                p.cursor().map(drop),
                p.span_id(name).map(drop),
                p.trace_id(name).map(drop),
            ];
            for check in checks {
                if let Err(e) = check {
                    parameter(e);
                }
            }
        });
    }
}
