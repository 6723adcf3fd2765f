//! The cheap clock of the hot path: raw TSC ticks via `quanta` (calibrated, with a monotonic
//! fallback where the TSC is unusable), converted to nanoseconds and wall time only when a span
//! ends.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calibrated tick source anchored to the wall clock once, at first use.
///
/// ```
/// let clock = pathwise_pipeline::clock();
/// let start = clock.now();
/// let end = clock.now();
/// assert!(clock.nanos_between(start, end) < 1_000_000_000);
/// assert!(clock.wall_ns(start) > 1_600_000_000_000_000_000);
/// ```
pub struct Clock {
    inner: quanta::Clock,
    anchor_raw: u64,
    anchor_wall_ns: i64,
}

/// The process-wide clock.
pub fn clock() -> &'static Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    CLOCK.get_or_init(|| {
        let inner = quanta::Clock::new();
        let anchor_raw = inner.raw();
        let anchor_wall_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        Clock {
            inner,
            anchor_raw,
            anchor_wall_ns,
        }
    })
}

impl Clock {
    /// Raw ticks; only meaningful to this clock's other methods.
    #[inline]
    pub fn now(&self) -> u64 {
        self.inner.raw()
    }

    /// Nanoseconds from `start` to `end` (0 if `end` is earlier).
    #[inline]
    pub fn nanos_between(&self, start: u64, end: u64) -> u64 {
        if end <= start {
            return 0;
        }
        self.inner.delta_as_nanos(start, end)
    }

    /// Wall-clock nanoseconds since the Unix epoch at tick `raw`.
    #[inline]
    pub fn wall_ns(&self, raw: u64) -> i64 {
        if raw >= self.anchor_raw {
            self.anchor_wall_ns + self.nanos_between(self.anchor_raw, raw) as i64
        } else {
            self.anchor_wall_ns - self.nanos_between(raw, self.anchor_raw) as i64
        }
    }

    /// Wall-clock nanoseconds now.
    pub fn wall_now_ns(&self) -> i64 {
        self.wall_ns(self.now())
    }
}
