//! The time window every windowed question is asked over.

/// A time window `[since_ns, until_ns)` in Unix nanoseconds; rollups resolve it to whole
/// minutes (the edges are widened to the enclosing minutes).
///
/// ```
/// use pathwise_store::Window;
/// let w = Window::last(std::time::Duration::from_secs(60));
/// assert_eq!(w.until_ns - w.since_ns, 60_000_000_000);
/// assert!(Window::all().since_ns < w.since_ns);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub since_ns: i64,
    pub until_ns: i64,
}

impl Window {
    /// Everything ever recorded.
    pub fn all() -> Self {
        Window {
            since_ns: 0,
            until_ns: i64::MAX,
        }
    }

    /// The last `duration` up to now.
    pub fn last(duration: std::time::Duration) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        Window {
            since_ns: now.saturating_sub(duration.as_nanos() as i64),
            until_ns: now,
        }
    }
}
