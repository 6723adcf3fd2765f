//! What an evaluation leaves behind: store rows and notifications.

use std::collections::BTreeMap;

use pathwise_store::alerts::AlertWrite;

use super::{ActiveAlert, Engine, Transition, TransitionKind, history_row};
use crate::history::{HistoryRow, state_row};
use crate::notify::{AlertInfo, Notification, Status};
use crate::rules::RuleSet;

impl Engine {
    /// Writes history rows for the changes and the active alerts' state, in one transaction.
    pub(super) fn persist(&mut self, changes: &[(Transition, ActiveAlert)], now_ns: i64) {
        let mut history = Vec::new();
        let mut deleted = Vec::new();
        for (t, alert) in changes {
            let actor = if t.silenced {
                "engine (silenced)"
            } else {
                "engine"
            };
            history.push(history_row(alert, t.ts_ns, t.kind.as_str(), actor));
            if !self.alerts.contains_key(&t.fingerprint) {
                deleted.push(t.fingerprint.clone());
            }
        }
        let mut failures = std::mem::take(&mut self.orphaned_failures);
        for notifier in self.notifiers() {
            failures.extend(notifier.take_failures());
        }
        for f in failures {
            for fp in &f.fingerprints {
                history.push(HistoryRow {
                    ts_ns: f.ts_ns.max(now_ns),
                    fingerprint: fp.clone(),
                    rule: String::new(),
                    state: "delivery_failed".into(),
                    severity: String::new(),
                    value: None,
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::from([("error".into(), f.error.clone())]),
                    actor: f.receiver.clone(),
                });
            }
        }
        let states: Vec<_> = self.alerts.values().map(state_row).collect();
        let writes: Vec<AlertWrite<'_>> = history
            .iter()
            .map(AlertWrite::History)
            .chain(deleted.iter().map(|fp| AlertWrite::DeleteState(fp)))
            .chain(states.iter().map(AlertWrite::SaveState))
            .collect();
        if let Err(e) = self.store.apply(&writes) {
            // The in-memory state stays right; the store catches up on the next evaluation.
            self.errors.insert("(store)".into(), e);
        }
    }

    /// Sends one notification per (group, status) for the notifying, unsilenced changes, to
    /// each notifier with only the alerts at or above its minimum severity.
    pub(super) fn notify(
        &self,
        rules: &RuleSet,
        changes: &[(Transition, ActiveAlert)],
        now_ns: i64,
    ) {
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
            let group_labels: BTreeMap<String, String> = rules
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
                condition: rules
                    .rules
                    .iter()
                    .find(|r| r.name == alert.rule)
                    .map(|r| r.condition_text()),
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
            for notifier in self.notifiers() {
                if let Some(routed) = n.at_least(notifier.min_severity()) {
                    notifier.notify(&routed);
                }
            }
        }
    }
}
