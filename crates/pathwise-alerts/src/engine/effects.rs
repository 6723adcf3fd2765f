//! What an evaluation leaves behind: store rows and notifications.

use std::collections::BTreeMap;

use super::{ActiveAlert, Engine, Transition, TransitionKind};
use crate::history::HistoryRow;
use crate::notify::{AlertInfo, Notification, Status};

impl Engine {
    /// Writes history rows for the changes and the active alerts' state, in one transaction.
    pub(super) fn persist(&mut self, changes: &[(Transition, ActiveAlert)], now_ns: i64) {
        let result = (|| -> Result<(), String> {
            let tx = self.store.begin()?;
            for (t, alert) in changes {
                let actor = if t.silenced {
                    "engine (silenced)"
                } else {
                    "engine"
                };
                self.history_row(alert, t.ts_ns, t.kind.as_str(), actor)?;
                if !self.alerts.contains_key(&t.fingerprint) {
                    self.store
                        .delete_state(&t.fingerprint)
                        .map_err(|e| e.to_string())?;
                }
            }
            for alert in self.alerts.values() {
                self.store.save_state(alert).map_err(|e| e.to_string())?;
            }
            for notifier in &self.notifiers {
                for f in notifier.take_failures() {
                    for fp in &f.fingerprints {
                        self.store
                            .record(&HistoryRow {
                                ts_ns: f.ts_ns.max(now_ns),
                                fingerprint: fp.clone(),
                                rule: String::new(),
                                state: "delivery_failed".into(),
                                severity: String::new(),
                                value: None,
                                labels: BTreeMap::new(),
                                annotations: BTreeMap::from([("error".into(), f.error.clone())]),
                                actor: f.receiver.clone(),
                            })
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
            tx.commit().map_err(|e| e.to_string())
        })();
        if let Err(e) = result {
            // The in-memory state stays right; the store catches up on the next evaluation.
            self.errors.insert("(store)".into(), e);
        }
    }

    /// Sends one notification per (group, status) for the notifying, unsilenced changes.
    pub(super) fn notify(&self, changes: &[(Transition, ActiveAlert)], now_ns: i64) {
        let mut groups: BTreeMap<(String, Status), Notification> = BTreeMap::new();
        for (t, alert) in changes {
            let status = match t.kind {
                TransitionKind::Firing | TransitionKind::Escalated | TransitionKind::Repeat => {
                    Status::Firing
                }
                TransitionKind::Resolved => Status::Resolved,
                TransitionKind::Pending | TransitionKind::Inactive => continue,
            };
            if t.silenced {
                continue;
            }
            let mut labels = alert.labels.clone();
            labels.insert("severity".into(), alert.severity.as_str().into());
            let group_labels: BTreeMap<String, String> = self
                .rules
                .group_by
                .iter()
                .map(|name| if name == "rule" { "alertname" } else { name })
                .filter_map(|k| labels.get(k).map(|v| (k.to_string(), v.clone())))
                .collect();
            let key = format!(
                "{{{}}}",
                group_labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v:?}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let info = AlertInfo {
                fingerprint: alert.fingerprint.clone(),
                rule: alert.rule.clone(),
                status,
                severity: alert.severity,
                labels,
                annotations: alert.annotations.clone(),
                value: alert.value,
                starts_ns: alert.fired_ns.unwrap_or(alert.since_ns),
                ends_ns: (status == Status::Resolved).then_some(now_ns),
            };
            groups
                .entry((key.clone(), status))
                .or_insert_with(|| Notification {
                    status,
                    group_key: key,
                    group_labels,
                    alerts: Vec::new(),
                    reason: t.kind.as_str().into(),
                })
                .alerts
                .push(info);
        }
        for n in groups.values() {
            for notifier in &self.notifiers {
                notifier.notify(n);
            }
        }
    }
}
