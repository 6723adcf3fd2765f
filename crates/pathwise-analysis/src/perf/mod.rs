//! The statistical core of performance monitoring: pure functions over numbers the caller
//! collected (no SQL, no I/O), so they can be tested against hand-computed values.
//!
//! * [`baseline`]: learn p50/p95/p99 of an operation after outlier removal, and classify a
//!   single duration as normal, warning or critical against the p95.
//! * [`regression`]: did latency, error rate or throughput shift between a baseline window and
//!   a recent one? Significance tests plus a minimum effect size.
//! * [`trend`]: least-squares trends over time and time-to-limit forecasts.
//! * [`forecast`]: whether a trend may be extrapolated (enough data, source still sending) and
//!   the confidence band of its slope.
//! * [`health`]: a documented 0–100 health score from success rate, speed, cache and
//!   resource headroom, minus active alerts.
//! * [`scaling`]: how cost grows with input size — a log-log power-law fit whose exponent,
//!   with its Student-t interval, is the growth order (`≈ O(n^1.9)`).
//! * [`stats`]: the shared numeric pieces (type-7 quantiles, Cody's `erfc`, normal CDF,
//!   Student's t quantiles).
//!
//! ```
//! use pathwise_analysis::perf::{baseline, regression};
//! let base: Vec<f64> = (0..500).map(|i| 20.0 + f64::from(i % 25) * 0.4).collect();
//! let learned = baseline::learn(&base, baseline::OutlierMethod::tukey(), 100).unwrap();
//! assert_eq!(baseline::classify(200.0, &learned, 2.0, 5.0), baseline::Severity::Critical);
//! let slower: Vec<f64> = base.iter().map(|x| x * 1.3).collect();
//! let shift = regression::latency_shift(&base, &slower, 0.01, 0.10).unwrap();
//! assert_eq!(shift.kind, regression::ShiftKind::Regression);
//! ```

pub mod baseline;
pub mod forecast;
pub mod health;
pub mod regression;
pub mod scaling;
pub mod stats;
pub mod trend;
