//! The state machine end to end: a real webhook receiver, explicit evaluation times.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Knob, Receiver, SEC, T0};
use pathwise_alerts::{
    CallbackNotifier, Engine, HistoryFilter, Matcher, Notification, Notifier, RuleSet, Severity,
    TransitionKind, WebhookConfig, WebhookNotifier,
};

fn rules(extra_top: &str, extra_rule: &str) -> RuleSet {
    RuleSet::parse(&format!(
        r#"{extra_top}
[[rule]]
name = "errors"
kind = "threshold"
severity = "warning"
signal = "error_rate"
op = ">"
threshold = 0.05
labels = {{ team = "pay" }}
annotations = {{ summary = "error rate is {{{{ value }}}}" }}
{extra_rule}
"#
    ))
    .unwrap()
}

type Seen = Arc<Mutex<Vec<Notification>>>;

fn callback() -> (Box<dyn Notifier>, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let n = CallbackNotifier::new(move |n| sink.lock().unwrap().push(n.clone()));
    (Box::new(n), seen)
}

#[test]
fn holds_then_clears_gives_one_firing_and_one_resolved_webhook() {
    let receiver = Receiver::start(false);
    let dir = tempfile::tempdir().unwrap();
    let knob = Knob::default();
    let hook = WebhookNotifier::new(WebhookConfig::new(&receiver.url));
    let mut engine = Engine::new(
        rules("", "for = \"1m\""),
        Box::new(knob.clone()),
        common::alert_store(&dir.path().join("p.db")),
        vec![Box::new(hook)],
    )
    .unwrap();
    knob.set(0.01);
    assert!(engine.evaluate(T0).is_empty());
    knob.set(0.2);
    let kinds =
        |t: Vec<pathwise_alerts::Transition>| t.into_iter().map(|t| t.kind).collect::<Vec<_>>();
    assert_eq!(
        kinds(engine.evaluate(T0 + 15 * SEC)),
        [TransitionKind::Pending]
    );
    assert!(engine.evaluate(T0 + 30 * SEC).is_empty());
    assert_eq!(
        kinds(engine.evaluate(T0 + 75 * SEC)),
        [TransitionKind::Firing]
    );
    assert_eq!(engine.active().len(), 1);
    assert!(engine.evaluate(T0 + 90 * SEC).is_empty());
    knob.set(0.0);
    assert_eq!(
        kinds(engine.evaluate(T0 + 105 * SEC)),
        [TransitionKind::Resolved]
    );
    assert!(engine.evaluate(T0 + 120 * SEC).is_empty());
    assert_eq!(receiver.wait_for(2, Duration::from_secs(5)), 2);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(receiver.statuses(), ["firing", "resolved"]);
    let bodies = receiver.bodies.lock().unwrap();
    let fired = &bodies[0];
    assert_eq!(fired["version"], "4");
    assert_eq!(fired["groupKey"], "{alertname=\"errors\"}");
    assert_eq!(fired["commonLabels"]["team"], "pay");
    assert_eq!(
        fired["alerts"][0]["annotations"]["summary"],
        "error rate is 0.2"
    );
    assert_eq!(fired["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    assert!(
        fired["alerts"][0]["startsAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_ne!(bodies[1]["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    let states: Vec<String> = engine
        .history(&HistoryFilter::default())
        .unwrap()
        .into_iter()
        .map(|h| h.state)
        .collect();
    assert_eq!(states, ["resolved", "firing", "pending"]);
}

#[test]
fn flapping_around_the_threshold_does_not_storm() {
    let dir = tempfile::tempdir().unwrap();
    let knob = Knob::default();
    let (notifier, seen) = callback();
    let mut engine = Engine::new(
        rules("", "for = \"30s\"\nrecovery = 0.045"),
        Box::new(knob.clone()),
        common::alert_store(&dir.path().join("p.db")),
        vec![notifier],
    )
    .unwrap();
    for i in 0..40 {
        // ±1 % around 0.05.
        knob.set(if i % 2 == 0 { 0.0505 } else { 0.0495 });
        engine.evaluate(T0 + i * 15 * SEC);
    }
    let n = seen.lock().unwrap().len();
    assert!(n <= 2, "{n} notifications");
    assert_eq!(
        n, 1,
        "fires once and stays firing inside the hysteresis band"
    );
}

#[test]
fn escalates_one_level_per_escalate_after() {
    let dir = tempfile::tempdir().unwrap();
    let knob = Knob::default();
    let (notifier, seen) = callback();
    let mut engine = Engine::new(
        rules("escalate_after = \"10m\"", ""),
        Box::new(knob.clone()),
        common::alert_store(&dir.path().join("p.db")),
        vec![notifier],
    )
    .unwrap();
    knob.set(0.5);
    let mut severities = Vec::new();
    for minute in 0..=21 {
        for t in engine.evaluate(T0 + minute * 60 * SEC) {
            severities.push((minute, t.kind, t.severity));
        }
    }
    assert_eq!(
        severities,
        [
            (0, TransitionKind::Firing, Severity::Warning),
            (10, TransitionKind::Escalated, Severity::Error),
            (20, TransitionKind::Escalated, Severity::Critical),
        ]
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].alerts[0].labels["severity"], "error");
    assert_eq!(seen[1].reason, "escalated");
}

#[test]
fn repeats_after_repeat_interval_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let knob = Knob::default();
    let (notifier, seen) = callback();
    let mut engine = Engine::new(
        rules("repeat_interval = \"1h\"", ""),
        Box::new(knob.clone()),
        common::alert_store(&dir.path().join("p.db")),
        vec![notifier],
    )
    .unwrap();
    knob.set(0.5);
    for minute in (0..=120).step_by(5) {
        engine.evaluate(T0 + minute * 60 * SEC);
    }
    let reasons: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|n| n.reason.clone())
        .collect();
    assert_eq!(reasons, ["firing", "repeat", "repeat"]);
    let fp = engine.active()[0].fingerprint.clone();
    assert!(engine.acknowledge(&fp, "alice").unwrap());
    for minute in (125..=300).step_by(5) {
        engine.evaluate(T0 + minute * 60 * SEC);
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "no repeats after acknowledge"
    );
    let acked = engine
        .history(&HistoryFilter {
            fingerprint: Some(fp),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .find(|h| h.state == "acknowledged")
        .unwrap();
    assert_eq!(acked.actor, "alice");
    assert_eq!(engine.active()[0].acked_by.as_deref(), Some("alice"));
}

#[test]
fn silences_mute_notifications_but_history_records() {
    let dir = tempfile::tempdir().unwrap();
    let knob = Knob::default();
    let (notifier, seen) = callback();
    let mut engine = Engine::new(
        rules("", ""),
        Box::new(knob.clone()),
        common::alert_store(&dir.path().join("p.db")),
        vec![notifier],
    )
    .unwrap();
    let id = engine
        .silence(
            Matcher::Rule("errors".into()),
            T0 + 3600 * SEC,
            "maintenance",
        )
        .unwrap();
    assert_eq!(engine.silences(T0).unwrap()[0].id, id);
    knob.set(0.5);
    let t = engine.evaluate(T0);
    assert!(t[0].silenced);
    knob.set(0.0);
    engine.evaluate(T0 + 60 * SEC);
    assert!(seen.lock().unwrap().is_empty());
    let history = engine.history(&HistoryFilter::default()).unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|h| h.actor == "engine (silenced)"));
    // After the silence ends, notifications flow again.
    knob.set(0.5);
    engine.evaluate(T0 + 2 * 3600 * SEC);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn ending_a_silence_lifts_it_and_a_second_end_finds_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = Engine::new(
        rules("", ""),
        Box::new(Knob::default()),
        common::alert_store(&dir.path().join("p.db")),
        vec![],
    )
    .unwrap();
    let now = pathwise_alerts::now_ns();
    let id = engine
        .silence(Matcher::Rule("errors".into()), now + 3600 * SEC, "deploy")
        .unwrap();
    assert_eq!(engine.unsilence(id), Ok(true));
    assert!(
        engine
            .silences(pathwise_alerts::now_ns())
            .unwrap()
            .is_empty()
    );
    assert_eq!(engine.unsilence(id), Ok(false), "already ended");
    assert_eq!(engine.unsilence(id + 1), Ok(false), "never made");
}

#[test]
fn restart_resumes_active_alerts_without_renotifying() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let knob = Knob::default();
    knob.set(0.5);
    let (notifier, seen) = callback();
    let mut engine = Engine::new(
        rules("", ""),
        Box::new(knob.clone()),
        common::alert_store(&db),
        vec![notifier],
    )
    .unwrap();
    engine.evaluate(T0);
    let before = engine.active();
    drop(engine);
    let (notifier, seen2) = callback();
    let mut engine = Engine::new(
        rules("", ""),
        Box::new(knob.clone()),
        common::alert_store(&db),
        vec![notifier],
    )
    .unwrap();
    assert_eq!(engine.active(), before);
    assert!(
        engine.evaluate(T0 + 60 * SEC).is_empty(),
        "still firing, not fired again"
    );
    knob.set(0.0);
    let t = engine.evaluate(T0 + 120 * SEC);
    assert_eq!(t[0].kind, TransitionKind::Resolved);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(seen2.lock().unwrap()[0].alerts[0].starts_ns, T0);
}

#[test]
fn evaluation_keeps_its_pace_while_the_webhook_hangs() {
    let receiver = Receiver::start(true);
    let dir = tempfile::tempdir().unwrap();
    let knob = Knob::default();
    let mut config = WebhookConfig::new(&receiver.url);
    config.timeout = Duration::from_millis(300);
    config.retries = 1;
    config.backoff = Duration::from_millis(50);
    config.queue = 2;
    let hook = WebhookNotifier::new(config);
    let mut engine = Engine::new(
        rules("", ""),
        Box::new(knob.clone()),
        common::alert_store(&dir.path().join("p.db")),
        vec![Box::new(hook)],
    )
    .unwrap();
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..30 {
        knob.set(if i % 2 == 0 { 0.5 } else { 0.0 });
        let t0 = Instant::now();
        let t = engine.evaluate(T0 + i * 15 * SEC);
        slowest = slowest.max(t0.elapsed());
        assert_eq!(t.len(), 1, "a transition every evaluation");
    }
    assert!(
        slowest < Duration::from_millis(250),
        "slowest evaluation took {slowest:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let history = engine
        .history(&HistoryFilter {
            limit: Some(10_000),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(history.iter().filter(|h| h.state == "firing").count(), 15);
    // The full queue refused notifications; the engine recorded them as failed deliveries.
    engine.evaluate(T0 + 3600 * SEC);
    let history = engine
        .history(&HistoryFilter {
            limit: Some(10_000),
            ..Default::default()
        })
        .unwrap();
    let failed: Vec<_> = history
        .iter()
        .filter(|h| h.state == "delivery_failed")
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .any(|h| h.annotations["error"].contains("queue full"))
    );
}

#[test]
fn spawn_runs_on_its_own_and_stops_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let knob = Knob::default();
    knob.set(0.5);
    let (notifier, seen) = callback();
    let engine = Engine::new(
        rules("", ""),
        Box::new(knob),
        common::alert_store(&dir.path().join("p.db")),
        vec![notifier],
    )
    .unwrap();
    let handle = engine.spawn(Some(Duration::from_millis(20)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while handle.evaluations() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(handle.engine().active().len(), 1);
    drop(handle);
    assert_eq!(seen.lock().unwrap().len(), 1);
}
