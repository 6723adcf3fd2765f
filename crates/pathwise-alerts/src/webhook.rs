//! The webhook notifier: Alertmanager-v4-style JSON POSTed from its own thread.
//!
//! `notify` only `try_send`s into a bounded channel, so a receiver that hangs or a full queue
//! can never stall evaluation; a full queue is a recorded failure, not a wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::notify::{DeliveryFailure, Notification, Notifier};
use crate::{now_ns, rfc3339};

/// Where and how to deliver.
#[derive(Clone, Debug)]
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
}

impl WebhookConfig {
    /// Defaults: 5 s timeout, 3 retries from 500 ms, a queue of 256.
    pub fn new(url: impl Into<String>) -> Self {
        WebhookConfig {
            url: url.into(),
            receiver: "webhook".into(),
            timeout: Duration::from_secs(5),
            retries: 3,
            backoff: Duration::from_millis(500),
            queue: 256,
            external_url: String::new(),
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

/// Delivery counters and failures shared with the delivery thread.
#[derive(Default)]
struct Shared {
    delivered: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<DeliveryFailure>>,
}

impl Shared {
    fn fail(&self, receiver: &str, n: &Notification, error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let failure = DeliveryFailure {
            receiver: receiver.to_string(),
            group_key: n.group_key.clone(),
            fingerprints: n.alerts.iter().map(|a| a.fingerprint.clone()).collect(),
            error,
            ts_ns: now_ns(),
        };
        if let Ok(mut f) = self.failures.lock() {
            f.push(failure);
        }
    }
}

/// POSTs notifications to a URL from a background thread, with timeout and retries.
///
/// ```no_run
/// use pathwise_alerts::{WebhookConfig, WebhookNotifier};
/// let hook = WebhookNotifier::new(WebhookConfig::new("http://127.0.0.1:9093/hook"));
/// assert_eq!(hook.delivered(), 0);
/// ```
pub struct WebhookNotifier {
    receiver: String,
    sender: SyncSender<Notification>,
    shared: Arc<Shared>,
}

impl WebhookNotifier {
    /// Starts the delivery thread; it ends when the notifier is dropped and the queue drained.
    pub fn new(config: WebhookConfig) -> Self {
        let (sender, rx) = sync_channel(config.queue.max(1));
        let shared = Arc::new(Shared::default());
        let thread_shared = shared.clone();
        let receiver = config.receiver.clone();
        std::thread::Builder::new()
            .name("pathwise-webhook".into())
            .spawn(move || deliver_loop(config, rx, thread_shared))
            .expect("spawn webhook thread");
        WebhookNotifier {
            receiver,
            sender,
            shared,
        }
    }

    /// Notifications delivered so far.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    /// Notifications given up on (after retries, or refused by a full queue).
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }
}

fn deliver_loop(config: WebhookConfig, rx: Receiver<Notification>, shared: Arc<Shared>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(config.timeout))
        .build()
        .into();
    for n in rx {
        let body = webhook_payload(&n, &config.receiver, &config.external_url).to_string();
        let mut wait = config.backoff;
        let mut last_error = String::new();
        let mut ok = false;
        for attempt in 0..=config.retries {
            if attempt > 0 {
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
            }
            match agent
                .post(&config.url)
                .header("content-type", "application/json")
                .send(body.as_bytes())
            {
                Ok(_) => {
                    ok = true;
                    break;
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        if ok {
            shared.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            let attempts = config.retries + 1;
            shared.fail(
                &config.receiver,
                &n,
                format!("{attempts} attempts failed: {last_error}"),
            );
        }
    }
}

impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        &self.receiver
    }

    fn notify(&self, notification: &Notification) {
        match self.sender.try_send(notification.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(n)) => {
                self.shared
                    .fail(&self.receiver, &n, "delivery queue full".into())
            }
            Err(TrySendError::Disconnected(n)) => {
                self.shared
                    .fail(&self.receiver, &n, "delivery thread stopped".into())
            }
        }
    }

    fn take_failures(&self) -> Vec<DeliveryFailure> {
        self.shared
            .failures
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default()
    }
}
