//! Where each rule stands right now, for the Alerts page: ok, pending, firing or silenced,
//! worked out from the rules, the engine's active alerts and the silences in force. Pure
//! functions, so that a server can answer from any engine's (or a store's) state.

use serde::Serialize;

use crate::history::{Matcher, Silence};
use crate::rules::{Condition, Rule, ValueUnit};
use crate::{ActiveAlert, AlertState, Severity};

/// A rule's state as people read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleState {
    /// No alert of the rule is active and no silence covers it.
    Ok,
    /// An alert of the rule waits for `for` to pass.
    Pending,
    /// An alert of the rule fires.
    Firing,
    /// A silence in force covers the rule or one of its active alerts: whatever it does is
    /// recorded but not notified (its alert state stays in [`RuleStatus::alert_state`]).
    Silenced,
}

/// One rule as the Alerts page lists it: what the rules file says, and its state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleStatus {
    pub name: String,
    pub severity: Severity,
    /// `threshold`, `baseline` or `sql`, as the rules file's `kind`.
    pub kind: &'static str,
    /// What a threshold rule measures (`p95_ms`, …); `None` for other kinds.
    pub signal: Option<&'static str>,
    /// What a baseline rule reacts to (`regression`, …); `None` for other kinds.
    pub trigger: Option<&'static str>,
    /// The node, component or `overall` a threshold or baseline rule watches.
    pub scope: Option<String>,
    /// `>`, `>=`, `<` or `<=`.
    pub op: &'static str,
    pub threshold: f64,
    /// Where an active alert clears (the threshold unless the file sets `recovery`).
    pub recovery: f64,
    /// The unit of `threshold`, `recovery` and `value`.
    pub unit: ValueUnit,
    /// How long the condition must hold before the alert fires, in seconds.
    pub for_s: f64,
    /// The window a threshold rule measures over, in seconds; `None` for other kinds.
    pub window_s: Option<f64>,
    /// The condition in words, as notifications show it.
    pub condition: String,
    pub state: RuleState,
    /// Firing when any active alert of the rule fires, pending when one waits, `None` when
    /// none is active; kept when the rule reads `silenced`.
    pub alert_state: Option<AlertState>,
    /// The value the rule's active alert (the firing one first) last measured.
    pub value: Option<f64>,
    /// Ids of the silences in force that cover the rule or one of its active alerts.
    pub silenced_by: Vec<i64>,
}

/// An active alert as the Alerts page lists it: the alert and whether a silence covers it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListedAlert {
    #[serde(flatten)]
    pub alert: ActiveAlert,
    pub silenced: bool,
}

/// Whether a silence in `silences` covers `alert` (by its rule or its fingerprint).
fn covers(silence: &Silence, alert: &ActiveAlert) -> bool {
    silence.matcher.matches(&alert.fingerprint, &alert.rule)
}

/// Each of `active`, marked silenced when a silence in `silences` covers it.
///
/// ```
/// use pathwise_alerts::{ActiveAlert, AlertState, Matcher, Severity, Silence, listed_alerts};
/// let alert = ActiveAlert {
///     fingerprint: "00aa".into(), rule: "slow".into(), state: AlertState::Firing,
///     severity: Severity::Warning, value: Some(250.0), labels: Default::default(),
///     annotations: Default::default(), since_ns: 0, fired_ns: Some(0),
///     last_notified_ns: None, clear_since_ns: None, acked_by: None,
/// };
/// let silence = Silence {
///     id: 1, matcher: Matcher::Rule("slow".into()), until_ns: 10, created_ns: 0, comment: String::new(),
/// };
/// assert!(listed_alerts(vec![alert.clone()], &[silence])[0].silenced);
/// assert!(!listed_alerts(vec![alert], &[])[0].silenced);
/// ```
pub fn listed_alerts(active: Vec<ActiveAlert>, silences: &[Silence]) -> Vec<ListedAlert> {
    active
        .into_iter()
        .map(|alert| ListedAlert {
            silenced: silences.iter().any(|s| covers(s, &alert)),
            alert,
        })
        .collect()
}

/// Every rule of `rules`, in file order, with its state: `silenced` when a silence in force
/// names the rule or the fingerprint of one of its active alerts; else `firing` or `pending`
/// from its active alerts; else `ok`. `silences` should be those in force now.
///
/// ```
/// use pathwise_alerts::{RuleSet, RuleState, rule_states};
/// let rules = RuleSet::parse(r#"
/// [[rule]]
/// name = "slow"
/// kind = "threshold"
/// signal = "p95_ms"
/// op = ">"
/// threshold = 100
/// "#).unwrap();
/// let states = rule_states(&rules.rules, &[], &[]);
/// assert_eq!(states[0].state, RuleState::Ok);
/// assert_eq!(states[0].unit, pathwise_alerts::ValueUnit::Ms);
/// ```
pub fn rule_states(
    rules: &[Rule],
    active: &[ActiveAlert],
    silences: &[Silence],
) -> Vec<RuleStatus> {
    rules
        .iter()
        .map(|rule| rule_status(rule, active, silences))
        .collect()
}

fn rule_status(rule: &Rule, active: &[ActiveAlert], silences: &[Silence]) -> RuleStatus {
    let alerts: Vec<&ActiveAlert> = active.iter().filter(|a| a.rule == rule.name).collect();
    let firing = alerts.iter().find(|a| a.state == AlertState::Firing);
    let shown = firing.or_else(|| alerts.first());
    let alert_state = shown.map(|a| a.state);
    let silenced_by: Vec<i64> = silences
        .iter()
        .filter(|s| {
            matches!(&s.matcher, Matcher::Rule(name) if *name == rule.name)
                || alerts.iter().any(|a| covers(s, a))
        })
        .map(|s| s.id)
        .collect();
    let state = match (silenced_by.is_empty(), alert_state) {
        (false, _) => RuleState::Silenced,
        (true, Some(AlertState::Firing)) => RuleState::Firing,
        (true, Some(AlertState::Pending)) => RuleState::Pending,
        (true, None) => RuleState::Ok,
    };
    let (kind, signal, trigger, scope, window_s) = match &rule.condition {
        Condition::Threshold {
            signal,
            scope,
            window,
        } => (
            "threshold",
            Some(signal.as_str()),
            None,
            Some(scope.clone()),
            Some(window.as_secs_f64()),
        ),
        Condition::Baseline { trigger, scope } => (
            "baseline",
            None,
            Some(trigger.as_str()),
            Some(scope.clone()),
            None,
        ),
        Condition::Sql { .. } => ("sql", None, None, None, None),
    };
    RuleStatus {
        name: rule.name.clone(),
        severity: rule.severity,
        kind,
        signal,
        trigger,
        scope,
        op: rule.op.as_str(),
        threshold: rule.threshold,
        recovery: rule.recovery,
        unit: rule.unit(),
        for_s: rule.for_.as_secs_f64(),
        window_s,
        condition: rule.condition_text(),
        state,
        alert_state,
        value: shown.and_then(|a| a.value),
        silenced_by,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{RuleSet, fingerprint};

    /// Four rules: `slow` (p95 in ms), `errors` (a ratio), `big` (bytes) and `custom` (SQL).
    /// The SQL rule's text is a user's rule file, never run here (nothing is evaluated).
    fn rules() -> Vec<Rule> {
        RuleSet::parse(
            r#"
[[rule]]
name = "slow"
kind = "threshold"
signal = "p95_ms"
op = ">"
threshold = 100
severity = "critical"

[[rule]]
name = "errors"
kind = "threshold"
signal = "error_rate"
scope = "checkout"
op = ">="
threshold = 0.05
recovery = 0.03
for = "2m"

[[rule]]
name = "big"
kind = "threshold"
signal = "db_size_bytes"
op = ">"
threshold = 1e9

[[rule]]
name = "custom"
kind = "sql"
query = 'SELECT 1'
op = "<"
threshold = 2
"#,
        )
        .unwrap()
        .rules
    }

    /// An alert of `rule` as the engine makes it (fingerprint of the rule and `alertname`).
    fn alert(rule: &str, state: AlertState, value: f64) -> ActiveAlert {
        let labels = BTreeMap::from([("alertname".to_string(), rule.to_string())]);
        ActiveAlert {
            fingerprint: fingerprint(rule, &labels),
            rule: rule.into(),
            state,
            severity: Severity::Warning,
            value: Some(value),
            labels,
            annotations: BTreeMap::new(),
            since_ns: 1,
            fired_ns: (state == AlertState::Firing).then_some(2),
            last_notified_ns: None,
            clear_since_ns: None,
            acked_by: None,
        }
    }

    fn silence(id: i64, matcher: Matcher) -> Silence {
        Silence {
            id,
            matcher,
            until_ns: 100,
            created_ns: 0,
            comment: String::new(),
        }
    }

    fn state_of(states: &[RuleStatus], name: &str) -> RuleState {
        states.iter().find(|s| s.name == name).unwrap().state
    }

    #[test]
    fn without_alerts_or_silences_every_rule_is_ok_in_file_order() {
        let states = rule_states(&rules(), &[], &[]);
        let names: Vec<&str> = states.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["slow", "errors", "big", "custom"]);
        assert!(states.iter().all(|s| s.state == RuleState::Ok));
        assert!(
            states
                .iter()
                .all(|s| s.value.is_none() && s.alert_state.is_none())
        );
    }

    #[test]
    fn an_active_alert_makes_its_rule_firing_or_pending_with_its_value() {
        let active = [
            alert("slow", AlertState::Firing, 250.0),
            alert("errors", AlertState::Pending, 0.07),
        ];
        let states = rule_states(&rules(), &active, &[]);
        assert_eq!(state_of(&states, "slow"), RuleState::Firing);
        assert_eq!(states[0].value, Some(250.0));
        assert_eq!(states[0].alert_state, Some(AlertState::Firing));
        assert_eq!(state_of(&states, "errors"), RuleState::Pending);
        assert_eq!(states[1].value, Some(0.07));
        assert_eq!(state_of(&states, "big"), RuleState::Ok);
        assert_eq!(state_of(&states, "custom"), RuleState::Ok);
    }

    #[test]
    fn a_rule_silence_turns_a_firing_rule_silenced_and_keeps_its_alert_state() {
        let active = [alert("slow", AlertState::Firing, 250.0)];
        let states = rule_states(
            &rules(),
            &active,
            &[silence(7, Matcher::Rule("slow".into()))],
        );
        assert_eq!(state_of(&states, "slow"), RuleState::Silenced);
        assert_eq!(states[0].alert_state, Some(AlertState::Firing));
        assert_eq!(states[0].value, Some(250.0));
        assert_eq!(states[0].silenced_by, [7]);
        assert_eq!(state_of(&states, "errors"), RuleState::Ok);
    }

    #[test]
    fn a_rule_silence_covers_a_quiet_rule_too() {
        let states = rule_states(&rules(), &[], &[silence(3, Matcher::Rule("big".into()))]);
        assert_eq!(state_of(&states, "big"), RuleState::Silenced);
        assert_eq!(states[2].alert_state, None);
        assert_eq!(state_of(&states, "slow"), RuleState::Ok);
    }

    #[test]
    fn a_fingerprint_silence_silences_only_the_rule_of_that_alert() {
        let active = [
            alert("slow", AlertState::Firing, 250.0),
            alert("errors", AlertState::Firing, 0.2),
        ];
        let slow = active[0].fingerprint.clone();
        let silences = [silence(9, Matcher::Fingerprint(slow))];
        let states = rule_states(&rules(), &active, &silences);
        assert_eq!(state_of(&states, "slow"), RuleState::Silenced);
        assert_eq!(state_of(&states, "errors"), RuleState::Firing);
        assert_eq!(state_of(&states, "big"), RuleState::Ok);
        let listed = listed_alerts(active.to_vec(), &silences);
        let flags: Vec<(&str, bool)> = listed
            .iter()
            .map(|l| (l.alert.rule.as_str(), l.silenced))
            .collect();
        assert_eq!(flags, [("slow", true), ("errors", false)]);
    }

    #[test]
    fn a_fingerprint_silence_without_its_alert_silences_nothing() {
        let labels = BTreeMap::from([("alertname".to_string(), "slow".to_string())]);
        let silences = [silence(
            2,
            Matcher::Fingerprint(fingerprint("slow", &labels)),
        )];
        let states = rule_states(&rules(), &[], &silences);
        assert!(states.iter().all(|s| s.state == RuleState::Ok));
    }

    #[test]
    fn a_rule_reads_back_as_its_file_says_with_the_unit_of_its_signal() {
        let states = rule_states(&rules(), &[], &[]);
        let errors = &states[1];
        assert_eq!(
            (errors.kind, errors.signal, errors.trigger),
            ("threshold", Some("error_rate"), None)
        );
        assert_eq!(errors.scope.as_deref(), Some("checkout"));
        assert_eq!(
            (errors.op, errors.threshold, errors.recovery),
            (">=", 0.05, 0.03)
        );
        assert_eq!(errors.for_s, 120.0);
        assert_eq!(errors.unit, ValueUnit::Ratio);
        assert_eq!(states[0].unit, ValueUnit::Ms);
        assert_eq!(states[0].severity, Severity::Critical);
        assert_eq!(states[2].unit, ValueUnit::Bytes);
        let custom = &states[3];
        assert_eq!(
            (
                custom.kind,
                custom.signal,
                custom.scope.as_deref(),
                custom.unit
            ),
            ("sql", None, None, ValueUnit::Number)
        );
    }

    #[test]
    fn the_state_serialises_in_lowercase_and_the_unit_in_snake_case() {
        let active = [alert("slow", AlertState::Pending, 120.0)];
        let json = serde_json::to_value(rule_states(&rules(), &active, &[])).unwrap();
        assert_eq!(json[0]["state"], "pending");
        assert_eq!(json[0]["alert_state"], "pending");
        assert_eq!(json[0]["unit"], "ms");
        assert_eq!(json[1]["state"], "ok");
        assert_eq!(json[1]["alert_state"], serde_json::Value::Null);
        let listed = serde_json::to_value(listed_alerts(active.to_vec(), &[])).unwrap();
        assert_eq!(listed[0]["rule"], "slow");
        assert_eq!(listed[0]["silenced"], false);
    }
}
