//! Duration settings of a rules file and the range each must fall in.

use std::time::Duration;

/// The range a duration setting must fall in: past it a setting is a typo (`100y`) or would
/// make the engine useless (a zero check interval spins, a timeout of hours stalls every rule
/// behind it).
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    min: Duration,
    max: Duration,
}

const fn bounds(min_ms: u64, max_s: u64) -> Bounds {
    Bounds {
        min: Duration::from_millis(min_ms),
        max: Duration::from_secs(max_s),
    }
}

const HOUR: u64 = 3_600;
const DAY: u64 = 24 * HOUR;
/// How often rules are evaluated.
pub(super) const CHECK_INTERVAL: Bounds = bounds(1_000, HOUR);
/// `repeat_interval` and `escalate_after`.
pub(super) const RENOTIFY: Bounds = bounds(1_000, 30 * DAY);
/// `for` and `keep_firing_for`.
pub(super) const HOLD: Bounds = bounds(0, 30 * DAY);
/// A threshold rule's window: at most the longest history a baseline is learned from.
pub(super) const WINDOW: Bounds = bounds(1_000, 90 * DAY);
/// A SQL rule's time limit.
pub(super) const SQL_TIMEOUT: Bounds = bounds(1, 60);
/// A receiver's time limit per attempt (webhook request, SMTP exchange).
pub(super) const DELIVERY_TIMEOUT: Bounds = bounds(100, 300);
/// A receiver's wait before its first retry.
pub(super) const DELIVERY_BACKOFF: Bounds = bounds(10, 600);

/// `text` as a duration within `limits`; the message names `key`.
pub(super) fn duration(text: &str, key: &str, limits: Bounds) -> Result<Duration, String> {
    let value = humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{key}`: bad duration {text:?}: {e}"))?;
    if value < limits.min || value > limits.max {
        return Err(format!(
            "`{key}` must be from {} to {} (got {text:?})",
            humantime::format_duration(limits.min),
            humantime::format_duration(limits.max)
        ));
    }
    Ok(value)
}
