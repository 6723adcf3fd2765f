//! The words of a rule: what a threshold rule measures, what a baseline rule reacts to, and
//! how a value is compared; each reads back as the rules file spells it.

use serde::{Deserialize, Serialize};

/// What a threshold rule measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Errors / calls over the window, 0..1.
    ErrorRate,
    P95Ms,
    P99Ms,
    /// Calls per second over the window.
    CallRate,
    /// Cache hits / lookups over the window, 0..1.
    CacheHitRate,
    /// Latest resident set size in the window.
    RssBytes,
    /// Mean process CPU over the window.
    CpuPct,
    /// Latest pipeline queue depth.
    QueueDepth,
    /// Latest pipeline write lag in milliseconds.
    WriteLagMs,
    /// Records the pipeline dropped (could not keep even on disk) within the window.
    Dropped,
    /// Health score 0..100 (overall or per component).
    HealthScore,
    /// The store's size on disk now, in bytes ("alert if the database is over 1 GB").
    DbSizeBytes,
}

impl Signal {
    /// The unit the signal's value is measured in.
    ///
    /// ```
    /// use pathwise_alerts::{Signal, ValueUnit};
    /// assert_eq!(Signal::P95Ms.unit(), ValueUnit::Ms);
    /// assert_eq!(Signal::ErrorRate.unit(), ValueUnit::Ratio);
    /// ```
    pub fn unit(self) -> ValueUnit {
        match self {
            Signal::P95Ms | Signal::P99Ms | Signal::WriteLagMs => ValueUnit::Ms,
            Signal::ErrorRate | Signal::CacheHitRate => ValueUnit::Ratio,
            Signal::CpuPct => ValueUnit::Percent,
            Signal::CallRate => ValueUnit::PerSecond,
            Signal::QueueDepth | Signal::Dropped => ValueUnit::Count,
            Signal::RssBytes | Signal::DbSizeBytes => ValueUnit::Bytes,
            Signal::HealthScore => ValueUnit::Score,
        }
    }
}

/// The unit of a rule's value (and of its threshold), so that people read `250 ms` or `5%`
/// rather than a bare number. Serialised in snake case: `ms`, `ratio`, `percent`, ….
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueUnit {
    /// Milliseconds.
    Ms,
    /// A fraction 0..1 (an error or hit rate), read as a percentage.
    Ratio,
    /// Already a percentage (process CPU: % of one core, so up to 100 × cores).
    Percent,
    /// Calls, records or operations.
    Count,
    /// Calls per second.
    PerSecond,
    Bytes,
    /// A health score, 0..100.
    Score,
    /// No known unit: a SQL rule's value is whatever its query returns.
    Number,
}

/// What a baseline rule reacts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Recent calls slower than warning_factor × baseline p95 (criticals included).
    ViolationWarning,
    /// Recent calls slower than critical_factor × baseline p95.
    ViolationCritical,
    /// The latency distribution shifted up significantly.
    Regression,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

impl Op {
    /// `value op bound`.
    ///
    /// ```
    /// use pathwise_alerts::Op;
    /// assert!(Op::Gt.holds(2.0, 1.0));
    /// assert!(!Op::Le.holds(2.0, 1.0));
    /// ```
    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Gt => value > bound,
            Op::Ge => value >= bound,
            Op::Lt => value < bound,
            Op::Le => value <= bound,
        }
    }

    pub(super) fn upward(self) -> bool {
        matches!(self, Op::Gt | Op::Ge)
    }
}

macro_rules! spelled {
    ($type:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $type {
            /// The name as the rules file spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),*
                }
            }
        }
    };
}

spelled!(Signal {
    ErrorRate => "error_rate",
    P95Ms => "p95_ms",
    P99Ms => "p99_ms",
    CallRate => "call_rate",
    CacheHitRate => "cache_hit_rate",
    RssBytes => "rss_bytes",
    CpuPct => "cpu_pct",
    QueueDepth => "queue_depth",
    WriteLagMs => "write_lag_ms",
    Dropped => "dropped",
    HealthScore => "health_score",
    DbSizeBytes => "db_size_bytes",
});

spelled!(Trigger {
    ViolationWarning => "violation_warning",
    ViolationCritical => "violation_critical",
    Regression => "regression",
});

spelled!(Op {
    Gt => ">",
    Ge => ">=",
    Lt => "<",
    Le => "<=",
});
