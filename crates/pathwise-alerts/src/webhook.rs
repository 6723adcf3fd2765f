//! The webhook notifier: Alertmanager-v4-style JSON POSTed from its own thread (see
//! [`crate::delivery`]: `notify` never waits, failures are recorded).

use std::time::Duration;

use serde_json::{Value, json};

use crate::delivery::{AttemptError, DeliveryQueue, with_retries};
use crate::notify::{DeliveryFailure, Notification, Notifier};
use crate::{Severity, rfc3339};

/// Where and how to deliver.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    pub url: String,
    /// The `receiver` field of the payload and the name recorded with failures.
    pub receiver: String,
    /// Whole-request time limit (connect + send + response).
    pub timeout: Duration,
    /// Attempts after the first one.
    pub retries: u32,
    /// Wait before the first retry; doubles after each.
    pub backoff: Duration,
    /// Notifications waiting for delivery before new ones are refused.
    pub queue: usize,
    /// `externalURL` in the payload (the Pathwise dashboard).
    pub external_url: String,
    /// Alerts below this severity are not sent here (default: every severity).
    pub min_severity: Severity,
}

impl WebhookConfig {
    /// Defaults: 5 s timeout, 3 retries from 500 ms, a queue of 256, every severity.
    pub fn new(url: impl Into<String>) -> Self {
        WebhookConfig {
            url: url.into(),
            receiver: "webhook".into(),
            timeout: Duration::from_secs(5),
            retries: 3,
            backoff: Duration::from_millis(500),
            queue: 256,
            external_url: String::new(),
            min_severity: Severity::Info,
        }
    }
}

/// The JSON body for `n`, modelled on Alertmanager's webhook payload version 4.
///
/// ```
/// use pathwise_alerts::{Notification, Status, webhook_payload};
/// let n = Notification { status: Status::Resolved, group_key: "{alertname=\"x\"}".into(),
///     group_labels: Default::default(), alerts: vec![], reason: "resolved".into() };
/// let body = webhook_payload(&n, "ops", "http://pathwise:7070");
/// assert_eq!(body["version"], "4");
/// assert_eq!(body["status"], "resolved");
/// ```
pub fn webhook_payload(n: &Notification, receiver: &str, external_url: &str) -> Value {
    let alerts: Vec<Value> = n
        .alerts
        .iter()
        .map(|a| {
            json!({
                "status": a.status.as_str(),
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": rfc3339(a.starts_ns),
                // Alertmanager's zero time for "not ended yet".
                "endsAt": a.ends_ns.map_or_else(|| "0001-01-01T00:00:00Z".to_string(), rfc3339),
                "fingerprint": a.fingerprint,
                "generatorURL": format!("{external_url}/alerts/{}", a.fingerprint),
                "value": a.value,
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": 0,
        "status": n.status.as_str(),
        "receiver": receiver,
        "groupLabels": n.group_labels,
        "commonLabels": n.common_labels(),
        "commonAnnotations": n.common_annotations(),
        "externalURL": external_url,
        "alerts": alerts,
    })
}

/// POSTs notifications to a URL from a background thread, with timeout and retries.
///
/// ```no_run
/// use pathwise_alerts::{Severity, WebhookConfig, WebhookNotifier};
/// // A pager that is woken only for emergencies.
/// let mut config = WebhookConfig::new("http://127.0.0.1:9093/hook");
/// config.min_severity = Severity::Emergency;
/// let hook = WebhookNotifier::new(config);
/// assert_eq!(hook.delivered(), 0);
/// ```
pub struct WebhookNotifier {
    queue: DeliveryQueue,
    min_severity: Severity,
}

impl WebhookNotifier {
    /// Starts the delivery thread; it ends when the notifier is dropped and the queue drained.
    pub fn new(config: WebhookConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .build()
            .into();
        let (receiver, min_severity) = (config.receiver.clone(), config.min_severity);
        let queue = DeliveryQueue::start(&receiver, "pathwise-webhook", config.queue, move |n| {
            let body = webhook_payload(n, &config.receiver, &config.external_url).to_string();
            with_retries(config.retries, config.backoff, || {
                agent
                    .post(&config.url)
                    .header("content-type", "application/json")
                    .send(body.as_bytes())
                    .map(drop)
                    .map_err(|e| AttemptError::Transient(e.to_string()))
            })
        });
        WebhookNotifier {
            queue,
            min_severity,
        }
    }

    /// Notifications delivered so far.
    pub fn delivered(&self) -> u64 {
        self.queue.delivered()
    }

    /// Notifications given up on (after retries, or refused by a full queue).
    pub fn failed(&self) -> u64 {
        self.queue.failed()
    }
}

impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        self.queue.receiver()
    }

    fn min_severity(&self) -> Severity {
        self.min_severity
    }

    fn notify(&self, notification: &Notification) {
        self.queue.push(notification);
    }

    fn take_failures(&self) -> Vec<DeliveryFailure> {
        self.queue.take_failures()
    }
}
