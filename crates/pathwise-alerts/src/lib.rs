//! The Pathwise alert engine, modelled on Prometheus alerting rules and Alertmanager, all
//! in-process: rules from `alerts.toml` ([`RuleSet`]), signals from the store
//! ([`StoreSource`]), a pending → firing → resolved state machine with `for`,
//! `keep_firing_for`, hysteresis, escalation, repeats, silences and acknowledgements
//! ([`Engine`]), history in the store, and notifications ([`LogNotifier`],
//! [`WebhookNotifier`], [`EmailNotifier`], [`CallbackNotifier`]) routed by severity: each
//! notifier is sent only the alerts at or above its [`Notifier::min_severity`] (the log every
//! alert, e-mail critical and above by default, a webhook what its configuration says).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use pathwise_alerts::{CallbackNotifier, Engine, Rule, RuleSet, SignalSource};
//!
//! struct Fixed(f64);
//! impl SignalSource for Fixed {
//!     fn value(&self, _rule: &Rule, _now_ns: i64) -> Result<Option<f64>, String> {
//!         Ok(Some(self.0))
//!     }
//! }
//! let rules = RuleSet::parse(r#"
//! [[rule]]
//! name = "slow"
//! kind = "threshold"
//! signal = "p95_ms"
//! op = ">"
//! threshold = 100
//! annotations = { summary = "p95 is {{ value }} ms" }
//! "#).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let sink = seen.clone();
//! let notifier = CallbackNotifier::new(move |n| sink.lock().unwrap().push(n.alerts[0].annotations["summary"].clone()));
//! let store = pathwise_store_sqlite::SqliteAlertStore::open(&dir.path().join("p.db")).unwrap();
//! let mut engine = Engine::new(rules, Box::new(Fixed(250.0)), Box::new(store), vec![Box::new(notifier)]).unwrap();
//! engine.evaluate(1_000_000_000);
//! assert_eq!(seen.lock().unwrap().as_slice(), ["p95 is 250 ms"]);
//! ```

mod delivery;
mod email;
mod engine;
mod handle;
mod history;
mod lease;
mod mail;
mod notify;
mod rules;
mod signals;
mod status;
mod webhook;

pub use email::{EmailConfig, EmailConfigError, EmailContent, EmailNotifier, email_content};
pub use engine::{ActiveAlert, AlertState, Engine, Transition, TransitionKind};
pub use handle::EngineHandle;
pub use history::{HistoryFilter, HistoryRow, Matcher, Silence, StoredAlerts, read_stored};
pub use lease::{Lease, LeaseConfig, LeaseHandle, LeaseStatus};
pub use mail::send_mail_now;
pub use notify::{
    AlertInfo, CallbackNotifier, DeliveryFailure, LogNotifier, Notification, Notifier, Status,
};
pub use pathwise_store::alerts::SqlGuardError;
pub use rules::{
    Condition, NotifySettings, Op, Rule, RuleSet, RulesError, RulesFile, Signal, Trigger, ValueUnit,
};
pub use signals::{SignalSource, StoreSource};
pub use status::{ListedAlert, RuleState, RuleStatus, listed_alerts, rule_states};
pub use webhook::{WebhookConfig, WebhookNotifier, webhook_payload};

use serde::{Deserialize, Serialize};

/// Alert severity, lowest first; escalation moves one step up.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Error,
    Critical,
    Emergency,
}

impl Severity {
    /// The lowercase name used in files, labels and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
            Severity::Emergency => "emergency",
        }
    }

    /// Parses [`Severity::as_str`] output.
    pub fn parse(text: &str) -> Option<Severity> {
        [
            Severity::Info,
            Severity::Warning,
            Severity::Error,
            Severity::Critical,
            Severity::Emergency,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// `steps` levels higher, capped at emergency.
    ///
    /// ```
    /// use pathwise_alerts::Severity;
    /// assert_eq!(Severity::Warning.raised(1), Severity::Error);
    /// assert_eq!(Severity::Critical.raised(9), Severity::Emergency);
    /// ```
    pub fn raised(self, steps: u32) -> Severity {
        const LEVELS: [Severity; 5] = [
            Severity::Info,
            Severity::Warning,
            Severity::Error,
            Severity::Critical,
            Severity::Emergency,
        ];
        LEVELS[(self as usize).saturating_add(steps as usize).min(4)]
    }
}

/// A stable fingerprint of an alert's identity (rule name + labels): FNV-1a 64 over the
/// sorted pairs, so it survives restarts and Rust versions (unlike `DefaultHasher`).
///
/// ```
/// use std::collections::BTreeMap;
/// let labels = BTreeMap::from([("team".to_string(), "pay".to_string())]);
/// let a = pathwise_alerts::fingerprint("errors", &labels);
/// assert_eq!(a, pathwise_alerts::fingerprint("errors", &labels.clone()));
/// assert_eq!(a.len(), 16);
/// ```
pub fn fingerprint(rule: &str, labels: &std::collections::BTreeMap<String, String>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= b as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator byte that cannot occur in UTF-8 keeps ("ab","c") apart from ("a","bc").
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    feed(rule.as_bytes());
    for (k, v) in labels {
        feed(k.as_bytes());
        feed(v.as_bytes());
    }
    format!("{hash:016x}")
}

/// Now in Unix nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// RFC 3339 (UTC, milliseconds) of Unix nanoseconds.
///
/// ```
/// assert_eq!(pathwise_alerts::rfc3339(0), "1970-01-01T00:00:00.000Z");
/// ```
pub fn rfc3339(ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}
