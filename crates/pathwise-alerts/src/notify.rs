//! Notifications and the simple notifiers. A [`Notifier`] must return at once: the engine calls
//! it during evaluation, so anything slow (HTTP, SMTP) belongs on the notifier's own thread.
//!
//! Severity routing: each notifier has a [`Notifier::min_severity`]; the engine hands it only
//! the alerts at or above it ([`Notification::at_least`]), and nothing when none are.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::Severity;

/// `firing` or `resolved`, as in Alertmanager payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Firing,
    Resolved,
}

impl Status {
    /// `"firing"` or `"resolved"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// One alert inside a notification.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertInfo {
    pub fingerprint: String,
    pub rule: String,
    pub status: Status,
    pub severity: Severity,
    /// The rule's labels plus `alertname` and `severity`.
    pub labels: BTreeMap<String, String>,
    /// Annotations with `{{ value }}` substituted.
    pub annotations: BTreeMap<String, String>,
    pub value: Option<f64>,
    /// What the rule checks, with its threshold (`error_rate > 0.05 (overall, over 5m)`);
    /// `None` once the rule is gone from the rules file.
    pub condition: Option<String>,
    /// When the alert started firing.
    pub starts_ns: i64,
    /// When it resolved (`None` while firing).
    pub ends_ns: Option<i64>,
}

/// One message to receivers: the alerts of one group that changed in one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    pub status: Status,
    /// Identifies the group (`{alertname="x"}` with the default `group_by`).
    pub group_key: String,
    pub group_labels: BTreeMap<String, String>,
    pub alerts: Vec<AlertInfo>,
    /// Why it is sent: `firing`, `resolved`, `escalated` or `repeat`.
    pub reason: String,
}

impl Notification {
    /// Labels every alert shares.
    pub fn common_labels(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.labels))
    }

    /// Annotations every alert shares.
    pub fn common_annotations(&self) -> BTreeMap<String, String> {
        common(self.alerts.iter().map(|a| &a.annotations))
    }

    /// Only the alerts at `min` or above: the whole notification when all are, `None` when
    /// none are.
    ///
    /// ```
    /// use pathwise_alerts::{AlertInfo, Notification, Severity, Status};
    /// let alert = |severity| AlertInfo { fingerprint: String::new(), rule: "disk".into(),
    ///     status: Status::Firing, severity, labels: Default::default(),
    ///     annotations: Default::default(), value: None, condition: None, starts_ns: 0,
    ///     ends_ns: None };
    /// let n = Notification { status: Status::Firing, group_key: "{}".into(),
    ///     group_labels: Default::default(), reason: "firing".into(),
    ///     alerts: vec![alert(Severity::Warning), alert(Severity::Critical)] };
    /// assert_eq!(n.at_least(Severity::Info).unwrap().alerts.len(), 2);
    /// assert_eq!(n.at_least(Severity::Critical).unwrap().alerts.len(), 1);
    /// assert!(n.at_least(Severity::Emergency).is_none());
    /// ```
    pub fn at_least(&self, min: Severity) -> Option<Cow<'_, Notification>> {
        if self.alerts.iter().all(|a| a.severity >= min) {
            return (!self.alerts.is_empty()).then_some(Cow::Borrowed(self));
        }
        let alerts: Vec<AlertInfo> = self
            .alerts
            .iter()
            .filter(|a| a.severity >= min)
            .cloned()
            .collect();
        if alerts.is_empty() {
            return None;
        }
        Some(Cow::Owned(Notification {
            status: self.status,
            group_key: self.group_key.clone(),
            group_labels: self.group_labels.clone(),
            alerts,
            reason: self.reason.clone(),
        }))
    }

    /// A one-line summary for logs.
    ///
    /// ```
    /// use pathwise_alerts::{Notification, Status};
    /// let n = Notification { status: Status::Firing, group_key: "{}".into(),
    ///     group_labels: Default::default(), alerts: vec![], reason: "firing".into() };
    /// assert_eq!(n.summary(), "[firing] {} (0 alerts)");
    /// ```
    pub fn summary(&self) -> String {
        let names: Vec<String> = self
            .alerts
            .iter()
            .map(|a| {
                let value = a.value.map(|v| format!(" = {v}")).unwrap_or_default();
                format!("{} {}{value}", a.severity.as_str(), a.rule)
            })
            .collect();
        let mut line = format!(
            "[{}] {} ({} alerts)",
            self.reason,
            self.group_key,
            self.alerts.len()
        );
        if !names.is_empty() {
            line.push_str(": ");
            line.push_str(&names.join(", "));
        }
        line
    }
}

fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut out = first.clone();
    for m in maps {
        out.retain(|k, v| m.get(k) == Some(v));
    }
    out
}

/// A notification that could not be delivered.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryFailure {
    pub receiver: String,
    pub group_key: String,
    pub fingerprints: Vec<String>,
    pub error: String,
    pub ts_ns: i64,
}

/// Receives notifications. `notify` must not block: queue and return.
pub trait Notifier: Send {
    /// The receiver's name, recorded with failures.
    fn name(&self) -> &str;
    /// The lowest severity this receiver is sent (default: every severity). The engine
    /// filters before calling [`Notifier::notify`].
    fn min_severity(&self) -> Severity {
        Severity::Info
    }
    /// Hands over one notification.
    fn notify(&self, notification: &Notification);
    /// Failures since the last call; the engine records them as `delivery_failed` history.
    fn take_failures(&self) -> Vec<DeliveryFailure> {
        Vec::new()
    }
}

/// Writes a one-line summary per notification to stderr, whatever the severity.
///
/// ```
/// use pathwise_alerts::{LogNotifier, Notifier};
/// assert_eq!(LogNotifier.name(), "log");
/// ```
pub struct LogNotifier;

impl Notifier for LogNotifier {
    fn name(&self) -> &str {
        "log"
    }

    fn notify(&self, notification: &Notification) {
        eprintln!("pathwise alert: {}", notification.summary());
    }
}

type Callback = Box<dyn Fn(&Notification) + Send + Sync>;

/// Calls a closure with each notification, in the evaluating thread (keep it quick).
///
/// ```
/// use pathwise_alerts::{CallbackNotifier, Notifier};
/// let n = CallbackNotifier::new(|n| println!("{}", n.summary()));
/// assert_eq!(n.name(), "callback");
/// ```
pub struct CallbackNotifier {
    callback: Callback,
}

impl CallbackNotifier {
    /// Wraps `callback`.
    pub fn new(callback: impl Fn(&Notification) + Send + Sync + 'static) -> Self {
        CallbackNotifier {
            callback: Box::new(callback),
        }
    }
}

impl Notifier for CallbackNotifier {
    fn name(&self) -> &str {
        "callback"
    }

    fn notify(&self, notification: &Notification) {
        (self.callback)(notification);
    }
}
