//! Trace volume control: at most so many traces per hour for each root name, on top of
//! sampling. A trace over the limit is started unsampled, so the pipeline's sampling filter
//! keeps it only if one of its spans fails — error traces are always kept — and counts the
//! rest as sampled out. What was left out is counted per root name ([`traces_left_out`]).
//!
//! The limit is a GCRA rate limiter (`governor`) per root name: the hour's allowance is spread
//! over the hour, with a minute's worth allowed at once, so a burst at the top of the hour
//! cannot use up the whole hour.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use rustc_hash::FxHashMap;

/// Whether any limit is configured: the one load a root span pays when none is.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static LIMITS: Mutex<Option<Limits>> = Mutex::new(None);

/// The most traces per hour for each root name.
///
/// ```
/// let limit = pathwise::TraceLimit::per_hour(1_000).with_name("health_check", 60);
/// let config = pathwise::Config { trace_limit: Some(limit), ..pathwise::Config::default() };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLimit {
    /// Traces per hour for a root name not listed in `names`; `None`: unlimited.
    pub per_hour: Option<u32>,
    /// Root names with a limit of their own (exact names, as recorded).
    pub names: Vec<(String, u32)>,
}

impl TraceLimit {
    /// The same limit for every root name.
    pub fn per_hour(traces: u32) -> TraceLimit {
        TraceLimit {
            per_hour: Some(traces),
            names: Vec::new(),
        }
    }

    /// Only the root names given with [`TraceLimit::with_name`] are limited.
    pub fn none() -> TraceLimit {
        TraceLimit {
            per_hour: None,
            names: Vec::new(),
        }
    }

    /// A limit of its own for traces whose root is named `name`.
    pub fn with_name(mut self, name: impl Into<String>, per_hour: u32) -> TraceLimit {
        self.names.push((name.into(), per_hour));
        self
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.per_hour == Some(0) {
            return Err("trace_limit.per_hour must be at least 1 (None for no limit)".into());
        }
        if let Some((name, _)) = self.names.iter().find(|(_, n)| *n == 0) {
            return Err(format!(
                "trace_limit for {name:?} must be at least 1 trace per hour"
            ));
        }
        Ok(())
    }

    fn quota_for(&self, name: &str) -> Option<Quota> {
        let per_hour = self
            .names
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, per_hour)| *per_hour)
            .or(self.per_hour)?;
        let per_hour = NonZeroU32::new(per_hour)?;
        let burst = NonZeroU32::new((per_hour.get() / 60).max(1))?;
        Some(Quota::per_hour(per_hour).allow_burst(burst))
    }
}

/// The limiters, one per root name met (a root name is a root path id).
struct Limits {
    config: TraceLimit,
    by_root: FxHashMap<u32, Option<DefaultDirectRateLimiter>>,
    left_out: FxHashMap<u32, (String, u64)>,
}

/// Installs `limit` (or removes any), forgetting what was counted before.
pub(crate) fn configure(limit: Option<TraceLimit>) {
    let mut limits = LIMITS.lock();
    ACTIVE.store(limit.is_some(), Ordering::Relaxed);
    *limits = limit.map(|config| Limits {
        config,
        by_root: FxHashMap::default(),
        left_out: FxHashMap::default(),
    });
}

/// Whether a trace whose root (path `root`, named `name`) starts now is within its limit.
#[inline]
pub(crate) fn admit(root: u32, name: &str) -> bool {
    if !ACTIVE.load(Ordering::Relaxed) {
        return true;
    }
    admit_slow(root, name)
}

#[cold]
fn admit_slow(root: u32, name: &str) -> bool {
    let mut guard = LIMITS.lock();
    let Some(limits) = guard.as_mut() else {
        return true;
    };
    let config = &limits.config;
    let limiter = limits
        .by_root
        .entry(root)
        .or_insert_with(|| config.quota_for(name).map(RateLimiter::direct));
    let Some(limiter) = limiter else {
        return true;
    };
    if limiter.check().is_ok() {
        return true;
    }
    limits
        .left_out
        .entry(root)
        .or_insert_with(|| (name.to_string(), 0))
        .1 += 1;
    false
}

/// Traces started over the volume limit since `init`, per root name, most first. Those of them
/// that turned out to hold an error were stored anyway (sampling keeps every error trace); the
/// records of the rest were left out and counted as sampled out in the pipeline figures.
///
/// ```
/// assert!(pathwise::traces_left_out().is_empty()); // no limit configured
/// ```
pub fn traces_left_out() -> Vec<(String, u64)> {
    let guard = LIMITS.lock();
    let mut counts: Vec<(String, u64)> = guard
        .as_ref()
        .map(|l| l.left_out.values().cloned().collect())
        .unwrap_or_default();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_of_the_hourly_allowance_at_once_and_names_apart() {
        let limit = TraceLimit::per_hour(600).with_name("health", 60);
        // 600/h: 10 at once; 60/h: 1 at once.
        let checkout = limit.quota_for("checkout").unwrap();
        assert_eq!(checkout.burst_size().get(), 10);
        assert_eq!(
            checkout.replenish_interval(),
            std::time::Duration::from_secs(6)
        );
        let health = limit.quota_for("health").unwrap();
        assert_eq!(health.burst_size().get(), 1);
        assert_eq!(
            health.replenish_interval(),
            std::time::Duration::from_secs(60)
        );
        assert!(TraceLimit::none().quota_for("checkout").is_none());
        assert!(TraceLimit::per_hour(0).validate().is_err());
        assert!(TraceLimit::none().with_name("x", 0).validate().is_err());
    }
}
