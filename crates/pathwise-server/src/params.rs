//! Query-string parsing with errors that name the parameter. Parameters arrive as strings and
//! are checked here rather than by serde, whose messages do not say which parameter failed.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pathwise_model::{TraceId, TraceStatus};
use pathwise_store::Cursor;

use crate::error::ApiError;

/// The raw query of a request.
pub struct Params(pub HashMap<String, String>);

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// An optional string of at most `max` chars.
    pub fn text(&self, name: &'static str, max: usize) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            Some(v) if v.chars().count() > max => {
                Err(ApiError::bad(name, format!("longer than {max} characters")))
            }
            other => Ok(other.map(str::to_string)),
        }
    }

    /// An optional integer within `range`.
    pub fn int(
        &self,
        name: &'static str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.get(name) else {
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

    /// A point in time as Unix nanoseconds. Accepts Unix milliseconds (`1732300000000`), an
    /// RFC 3339 timestamp (`2026-11-23T05:00:00Z`) or an age (`15m`, `1h`, `7d`: that long ago).
    pub fn time(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        if let Ok(ms) = raw.parse::<i64>() {
            if !(0..=i64::MAX / 1_000_000).contains(&ms) {
                return Err(ApiError::bad(name, "milliseconds out of range"));
            }
            return Ok(Some(ms * 1_000_000));
        }
        if let Ok(at) = humantime::parse_rfc3339_weak(raw) {
            let ns = at
                .duration_since(UNIX_EPOCH)
                .map_err(|_| ApiError::bad(name, "before 1970"))?;
            return Ok(Some(ns.as_nanos().min(i64::MAX as u128) as i64));
        }
        if let Ok(age) = humantime::parse_duration(raw) {
            let age = age.min(Duration::from_secs(100 * 365 * 86_400));
            return Ok(Some(now_ns() - age.as_nanos() as i64));
        }
        Err(ApiError::bad(
            name,
            format!("{raw:?} is not Unix milliseconds, an RFC 3339 time or an age like 1h"),
        ))
    }

    /// A duration in milliseconds, as nanoseconds.
    pub fn millis(&self, name: &'static str) -> Result<Option<i64>, ApiError> {
        Ok(self
            .int(name, 0..=i64::MAX / 1_000_000)?
            .map(|ms| ms * 1_000_000))
    }

    /// `status`: running, completed or failed.
    pub fn status(&self) -> Result<Option<TraceStatus>, ApiError> {
        let Some(raw) = self.get("status") else {
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
        let Some(raw) = self.get("cursor") else {
            return Ok(None);
        };
        Cursor::decode(raw)
            .map(Some)
            .ok_or_else(|| ApiError::bad("cursor", "malformed cursor"))
    }

    /// A span id (decimal, as the API writes them).
    pub fn span_id(&self, name: &'static str) -> Result<Option<u64>, ApiError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        raw.parse()
            .map(Some)
            .map_err(|_| ApiError::bad(name, format!("{raw:?} is not a span id")))
    }
}

/// A trace id from the path.
pub fn trace_id(raw: &str) -> Result<TraceId, ApiError> {
    TraceId::parse_hex(raw).ok_or_else(|| ApiError::bad("id", "a trace id is 32 hex digits"))
}
