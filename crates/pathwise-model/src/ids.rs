use serde::{Deserialize, Serialize};

/// A 128-bit trace id. The high 48 bits are the Unix time in milliseconds at which the trace
/// started, so ids sort by time: the store keys spans by `(trace_id, span_id)` and retention
/// becomes a range delete on the primary key.
///
/// ```
/// use pathwise_model::TraceId;
/// let id = TraceId::from_parts(1_700_000_000_000, 42);
/// assert_eq!(id.unix_ms(), 1_700_000_000_000);
/// assert_eq!(TraceId::parse_hex(&id.to_hex()), Some(id));
/// ```
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
pub struct TraceId(pub u128);

/// A span id, unique within the process that made it (random per-thread base plus a counter).
pub type SpanId = u64;

impl TraceId {
    /// Builds an id from a millisecond timestamp and 80 bits of uniqueness.
    pub fn from_parts(unix_ms: u64, unique: u128) -> Self {
        let low_mask = (1u128 << 80) - 1;
        TraceId(((unix_ms as u128 & 0xFFFF_FFFF_FFFF) << 80) | (unique & low_mask))
    }

    /// Milliseconds since the Unix epoch at which the trace started.
    pub fn unix_ms(self) -> u64 {
        (self.0 >> 80) as u64
    }

    /// The smallest id whose trace started at or after `unix_ms` (for range scans).
    pub fn lower_bound(unix_ms: u64) -> Self {
        Self::from_parts(unix_ms, 0)
    }

    /// Whether the leading 48 bits read as a time near `now_ms` (from 30 days before to one day
    /// after). Pathwise-made ids do; a random W3C id from another tracer almost never does
    /// (about 1 in 100,000), and the stores, which find traces by that prefix, must not take
    /// it at its word.
    ///
    /// ```
    /// use pathwise_model::TraceId;
    /// let now = 1_764_000_000_000;
    /// assert!(TraceId::from_parts(now - 5_000, 9).is_time_ordered(now));
    /// assert!(!TraceId(0xf31c_9a02_7741_be10_0102_0304_0506_0708).is_time_ordered(now));
    /// ```
    pub fn is_time_ordered(self, now_ms: u64) -> bool {
        const PAST_MS: u64 = 30 * 24 * 3600 * 1000;
        const FUTURE_MS: u64 = 24 * 3600 * 1000;
        let ms = self.unix_ms();
        ms + PAST_MS >= now_ms && ms <= now_ms + FUTURE_MS
    }

    /// A Pathwise id for a foreign one: `unix_ms` as its time prefix, and the foreign id's high
    /// bits folded into the low 80 (not cut off), so ids that differ only there stay apart.
    ///
    /// ```
    /// use pathwise_model::TraceId;
    /// let a = TraceId(0xf31c_9a02_7741_be10_0102_0304_0506_0708);
    /// let b = TraceId(0x0e1c_9a02_7741_be10_0102_0304_0506_0708);
    /// assert_eq!(a.retimed(1_764_000_000_000).unix_ms(), 1_764_000_000_000);
    /// assert_ne!(a.retimed(1), b.retimed(1));
    /// ```
    pub fn retimed(self, unix_ms: u64) -> TraceId {
        let folded =
            self.0 ^ (self.0 >> 80).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        TraceId::from_parts(unix_ms, folded)
    }

    /// Big-endian bytes: byte order equals numeric order, so BLOB comparison in SQL sorts by time.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// Inverse of [`TraceId::to_bytes`]; `None` unless exactly 16 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(TraceId(u128::from_be_bytes(bytes.try_into().ok()?)))
    }

    /// 32 lowercase hex digits, the form used in URLs and on the command line.
    pub fn to_hex(self) -> String {
        format!("{:032x}", self.0)
    }

    /// Parses 32 hex digits; anything else is `None`.
    pub fn parse_hex(text: &str) -> Option<Self> {
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(text, 16).ok().map(TraceId)
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_round_trip() {
        let a = TraceId::from_parts(1000, u128::MAX);
        let b = TraceId::from_parts(1001, 0);
        assert!(a < b);
        assert!(a.to_bytes() < b.to_bytes());
        assert_eq!(TraceId::from_bytes(&a.to_bytes()), Some(a));
        assert_eq!(TraceId::parse_hex("zz"), None);
        assert_eq!(TraceId::parse_hex(&"g".repeat(32)), None);
    }
}
