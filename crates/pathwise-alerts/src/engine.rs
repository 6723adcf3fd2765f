//! The state machine: per alert (fingerprint) inactive → pending (condition true, waiting
//! `for`) → firing → resolved (condition false, judged against the recovery threshold, for
//! longer than `keep_firing_for`). One notification per change; repeats after
//! `repeat_interval` unless acknowledged; escalation one level per `escalate_after`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

mod effects;
mod follow;

use crate::history::{AlertStore, HistoryFilter, HistoryRow, Matcher, Silence, state_row};
use crate::notify::{DeliveryFailure, Notifier};
use crate::rules::{Rule, RuleSet, RulesFile};
use crate::signals::SignalSource;
use crate::{Severity, fingerprint};
use pathwise_store::alerts::{AlertStateStore, AlertWrite};

/// Where an active alert stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition holds; waiting for `for` to pass.
    Pending,
    Firing,
}

impl AlertState {
    /// `"pending"` or `"firing"`, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// What happened to an alert in one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransitionKind {
    Pending,
    Firing,
    /// Moved up a severity level while firing.
    Escalated,
    /// Re-notified after `repeat_interval`.
    Repeat,
    Resolved,
    /// A pending alert whose condition cleared before `for` passed (never notified).
    Inactive,
}

impl TransitionKind {
    /// The name used in history rows.
    pub fn as_str(self) -> &'static str {
        match self {
            TransitionKind::Pending => "pending",
            TransitionKind::Firing => "firing",
            TransitionKind::Escalated => "escalated",
            TransitionKind::Repeat => "repeat",
            TransitionKind::Resolved => "resolved",
            TransitionKind::Inactive => "inactive",
        }
    }
}

/// One change, as returned by [`Engine::evaluate`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    pub ts_ns: i64,
    pub fingerprint: String,
    pub rule: String,
    pub kind: TransitionKind,
    pub severity: Severity,
    pub value: Option<f64>,
    /// A silence covered the alert: recorded, not notified.
    pub silenced: bool,
}

/// An active (pending or firing) alert, as [`Engine::active`] lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ActiveAlert {
    pub fingerprint: String,
    pub rule: String,
    pub state: AlertState,
    pub severity: Severity,
    pub value: Option<f64>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// When the condition started holding.
    pub since_ns: i64,
    pub fired_ns: Option<i64>,
    pub last_notified_ns: Option<i64>,
    /// When the condition cleared (firing alerts inside `keep_firing_for`).
    pub clear_since_ns: Option<i64>,
    pub acked_by: Option<String>,
}

/// Evaluates rules, keeps alert state and history, and notifies.
pub struct Engine {
    rules: RuleSet,
    rules_file: Option<RulesFile>,
    /// Shared so that [`Engine::spawn`] can read signals without holding the engine.
    source: Arc<dyn SignalSource>,
    store: AlertStore,
    /// The notifiers the caller passed.
    notifiers: Vec<Box<dyn Notifier>>,
    /// The notifiers the rules' `[notify]` section configures, rebuilt when it changes.
    configured: Vec<Box<dyn Notifier>>,
    /// Failures taken from replaced configured notifiers, recorded at the next evaluation.
    orphaned_failures: Vec<DeliveryFailure>,
    alerts: BTreeMap<String, ActiveAlert>,
    errors: BTreeMap<String, String>,
}

/// The history row of a change of `a`.
fn history_row(a: &ActiveAlert, ts_ns: i64, state: &str, actor: &str) -> HistoryRow {
    HistoryRow {
        ts_ns,
        fingerprint: a.fingerprint.clone(),
        rule: a.rule.clone(),
        state: state.into(),
        severity: a.severity.as_str().into(),
        value: a.value,
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        actor: actor.into(),
    }
}

/// A measured value as people read it: rounded to 4 decimals (integers print without a
/// fraction), `n/a` when there is none.
pub(crate) fn value_text(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| ((v * 1e4).round() / 1e4).to_string())
}

/// `{{ value }}` → [`value_text`].
fn render(template: &str, value: Option<f64>) -> String {
    let text = value_text(value);
    template
        .replace("{{ value }}", &text)
        .replace("{{value}}", &text)
}

fn ns(d: std::time::Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

/// Every rule's signal value at one instant: the slow half of an evaluation (SQL rules may run
/// for their whole timeout), which touches no alert state and so needs no lock.
pub(crate) struct Readings {
    now_ns: i64,
    /// The rules as they were read, so that publishing judges them by the same rules.
    rules: RuleSet,
    values: Vec<Result<Option<f64>, String>>,
}

impl Readings {
    /// Reads each of `rules` from `source` as of `now_ns`.
    pub(crate) fn take(rules: RuleSet, source: &dyn SignalSource, now_ns: i64) -> Readings {
        let values = rules
            .rules
            .iter()
            .map(|rule| source.value(rule, now_ns))
            .collect();
        Readings {
            now_ns,
            rules,
            values,
        }
    }
}

impl Engine {
    /// An engine keeping its state in `store`; resumes the active alerts saved there, so a
    /// restart neither forgets nor re-announces them. Notifications go to `notifiers` and to
    /// the receivers the rules' `[notify]` section configures.
    pub fn new(
        rules: RuleSet,
        source: Box<dyn SignalSource>,
        store: Box<dyn AlertStateStore>,
        notifiers: Vec<Box<dyn Notifier>>,
    ) -> Result<Engine, String> {
        let store = AlertStore::new(store);
        let alerts = store
            .load_states()?
            .into_iter()
            .map(|alert| (alert.fingerprint.clone(), alert))
            .collect();
        Ok(Engine {
            configured: rules.notify.notifiers(),
            rules,
            rules_file: None,
            source: Arc::from(source),
            store,
            notifiers,
            orphaned_failures: Vec::new(),
            alerts,
            errors: BTreeMap::new(),
        })
    }

    /// Follows a rules file: [`Engine::reload`] (called every tick by [`Engine::spawn`])
    /// picks up changes.
    pub fn with_rules_file(mut self, file: RulesFile) -> Self {
        self.use_rules(file.rules().clone());
        self.rules_file = Some(file);
        self
    }

    /// Puts `rules` in force, replacing the configured notifiers if `[notify]` changed (an
    /// unchanged section keeps them, with their queues).
    fn use_rules(&mut self, rules: RuleSet) {
        if rules.notify != self.rules.notify {
            for old in std::mem::replace(&mut self.configured, rules.notify.notifiers()) {
                self.orphaned_failures.extend(old.take_failures());
            }
        }
        self.rules = rules;
    }

    /// Every notifier: the caller's, then the configured ones.
    pub(crate) fn notifiers(&self) -> impl Iterator<Item = &dyn Notifier> {
        self.notifiers
            .iter()
            .chain(&self.configured)
            .map(|n| n.as_ref())
    }

    /// Re-reads the rules file if it changed; on an error the old rules stay in force.
    pub fn reload(&mut self) -> Result<bool, crate::RulesError> {
        let Some(file) = self.rules_file.as_mut() else {
            return Ok(false);
        };
        let changed = file.reload_if_changed()?;
        if changed {
            let rules = file.rules().clone();
            self.use_rules(rules);
        }
        Ok(changed)
    }

    /// The rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Replaces the rules (alerts of removed rules resolve on the next evaluation).
    pub fn set_rules(&mut self, rules: RuleSet) {
        self.use_rules(rules);
    }

    /// Pending and firing alerts.
    pub fn active(&self) -> Vec<ActiveAlert> {
        self.alerts.values().cloned().collect()
    }

    /// The last error per rule whose signal could not be read (cleared when it reads again).
    pub fn rule_errors(&self) -> &BTreeMap<String, String> {
        &self.errors
    }

    /// Stored history, newest first.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRow>, String> {
        self.store.history(filter)
    }

    /// Mutes matching alerts until `until_ns` (transitions are still recorded); returns its id.
    pub fn silence(
        &mut self,
        matcher: Matcher,
        until_ns: i64,
        comment: &str,
    ) -> Result<i64, String> {
        self.store
            .add_silence(&matcher, until_ns, crate::now_ns(), comment)
    }

    /// Ends a silence now. `Ok(false)` when no silence `id` is in force (unknown, or already
    /// ended or expired), so that ending one twice is told apart from ending it.
    pub fn unsilence(&mut self, id: i64) -> Result<bool, String> {
        let now = crate::now_ns();
        if !self.store.silences(now)?.iter().any(|s| s.id == id) {
            return Ok(false);
        }
        self.store.expire_silence(id, now)
    }

    /// Silences in force at `now_ns`.
    pub fn silences(&self, now_ns: i64) -> Result<Vec<Silence>, String> {
        self.store.silences(now_ns)
    }

    /// Stops repeat notifications of an active alert until it resolves; recorded in history.
    /// `Ok(false)` when no such alert is active.
    pub fn acknowledge(&mut self, fingerprint: &str, who: &str) -> Result<bool, String> {
        let Some(alert) = self.alerts.get_mut(fingerprint) else {
            return Ok(false);
        };
        alert.acked_by = Some(who.to_string());
        let alert = alert.clone();
        let row = history_row(&alert, crate::now_ns(), "acknowledged", who);
        let state = state_row(&alert);
        self.store
            .apply(&[AlertWrite::History(&row), AlertWrite::SaveState(&state)])?;
        Ok(true)
    }

    /// Evaluates every rule as of `now_ns`, records and notifies the changes.
    pub fn evaluate(&mut self, now_ns: i64) -> Vec<Transition> {
        let readings = Readings::take(self.rules.clone(), self.source.as_ref(), now_ns);
        self.publish(readings)
    }

    /// What [`Readings::take`] needs, cloned so the slow half runs without the engine.
    pub(crate) fn reading_parts(&self) -> (RuleSet, Arc<dyn SignalSource>) {
        (self.rules.clone(), self.source.clone())
    }

    /// The fast half of an evaluation: advances the alerts as they stand now (acknowledgements
    /// and silences made while the signals were read included) by `readings`, then records
    /// and notifies the changes.
    pub(crate) fn publish(&mut self, readings: Readings) -> Vec<Transition> {
        let Readings {
            now_ns,
            rules,
            values,
        } = readings;
        let silences = self.store.silences(now_ns).unwrap_or_default();
        let mut changes: Vec<(Transition, ActiveAlert)> = Vec::new();
        for (rule, value) in rules.rules.iter().zip(values) {
            let mut labels = rule.labels.clone();
            labels.insert("alertname".into(), rule.name.clone());
            let fp = fingerprint(&rule.name, &labels);
            let value = match value {
                Ok(v) => {
                    self.errors.remove(&rule.name);
                    v
                }
                Err(e) => {
                    // Unknown is not "fine": keep the alert's state until the signal reads again.
                    self.errors.insert(rule.name.clone(), e);
                    continue;
                }
            };
            for (kind, alert) in self.step(&rules, rule, &fp, labels, value, now_ns) {
                let silenced = silences
                    .iter()
                    .any(|s| s.matcher.matches(&alert.fingerprint, &alert.rule));
                let t = Transition {
                    ts_ns: now_ns,
                    fingerprint: alert.fingerprint.clone(),
                    rule: alert.rule.clone(),
                    kind,
                    severity: alert.severity,
                    value: alert.value,
                    silenced,
                };
                changes.push((t, alert));
            }
        }
        // Alerts whose rule was removed (hot reload) resolve rather than linger forever.
        let orphans: Vec<String> = self
            .alerts
            .values()
            .filter(|a| !rules.rules.iter().any(|r| r.name == a.rule))
            .map(|a| a.fingerprint.clone())
            .collect();
        for fp in orphans {
            let alert = self.alerts.remove(&fp).expect("listed");
            let kind = match alert.state {
                AlertState::Firing => TransitionKind::Resolved,
                AlertState::Pending => TransitionKind::Inactive,
            };
            let t = Transition {
                ts_ns: now_ns,
                fingerprint: fp,
                rule: alert.rule.clone(),
                kind,
                severity: alert.severity,
                value: alert.value,
                silenced: false,
            };
            changes.push((t, alert));
        }
        self.persist(&changes, now_ns);
        self.notify(&rules, &changes, now_ns);
        changes.into_iter().map(|(t, _)| t).collect()
    }

    /// Advances one alert; returns its transitions with the alert as it stands after each.
    fn step(
        &mut self,
        rules: &RuleSet,
        rule: &Rule,
        fp: &str,
        labels: BTreeMap<String, String>,
        value: Option<f64>,
        now_ns: i64,
    ) -> Vec<(TransitionKind, ActiveAlert)> {
        let annotations: BTreeMap<String, String> = rule
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), render(v, value)))
            .collect();
        let active = self.alerts.contains_key(fp);
        let holds = value.is_some_and(|v| rule.holds(v, active));
        let mut out = Vec::new();
        if !active {
            if !holds {
                return out;
            }
            let alert = ActiveAlert {
                fingerprint: fp.to_string(),
                rule: rule.name.clone(),
                state: AlertState::Pending,
                severity: rule.severity,
                value,
                labels,
                annotations: annotations.clone(),
                since_ns: now_ns,
                fired_ns: None,
                last_notified_ns: None,
                clear_since_ns: None,
                acked_by: None,
            };
            out.push((TransitionKind::Pending, alert.clone()));
            self.alerts.insert(fp.to_string(), alert);
        }
        let alert = self.alerts.get_mut(fp).expect("active");
        alert.value = value;
        alert.annotations = annotations;
        match (alert.state, holds) {
            (AlertState::Pending, true) => {
                if now_ns - alert.since_ns >= ns(rule.for_) {
                    alert.state = AlertState::Firing;
                    alert.fired_ns = Some(now_ns);
                    alert.last_notified_ns = Some(now_ns);
                    // `for = 0` fires at once: report only the firing, not a pending blip.
                    out.retain(|(k, _)| *k != TransitionKind::Pending);
                    out.push((TransitionKind::Firing, alert.clone()));
                }
            }
            (AlertState::Pending, false) => {
                let alert = self.alerts.remove(fp).expect("active");
                out.push((TransitionKind::Inactive, alert));
            }
            (AlertState::Firing, true) => {
                alert.clear_since_ns = None;
                let fired = alert.fired_ns.unwrap_or(alert.since_ns);
                let escalated = rules.escalate_after.filter(|d| !d.is_zero()).map(|d| {
                    let steps = ((now_ns - fired) / ns(d)).max(0) as u32;
                    rule.severity.raised(steps)
                });
                if let Some(level) = escalated.filter(|&l| l > alert.severity) {
                    alert.severity = level;
                    alert.last_notified_ns = Some(now_ns);
                    out.push((TransitionKind::Escalated, alert.clone()));
                } else if alert.acked_by.is_none()
                    && now_ns - alert.last_notified_ns.unwrap_or(fired) >= ns(rules.repeat_interval)
                {
                    alert.last_notified_ns = Some(now_ns);
                    out.push((TransitionKind::Repeat, alert.clone()));
                }
            }
            (AlertState::Firing, false) => {
                let since = *alert.clear_since_ns.get_or_insert(now_ns);
                if now_ns - since >= ns(rule.keep_firing_for) {
                    let alert = self.alerts.remove(fp).expect("active");
                    out.push((TransitionKind::Resolved, alert));
                }
            }
        }
        out
    }
}
