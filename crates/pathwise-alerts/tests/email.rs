//! E-mail notifications against a real SMTP server on loopback (aiosmtpd, see
//! `pathwise_test_support::smtp`), with severity routing: the log gets every alert, e-mail
//! critical and above, a pager webhook only emergencies.

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Receiver, SEC, T0};
use pathwise_alerts::{
    CallbackNotifier, Engine, HistoryFilter, HistoryRow, Notification, Rule, RuleSet, RulesFile,
    SignalSource,
};
use pathwise_test_support::smtp::{ReceivedMail, SmtpSink};

/// A signal per rule, set by hand.
#[derive(Clone, Default)]
struct PerRule(Arc<Mutex<BTreeMap<String, f64>>>);

impl PerRule {
    fn set(&self, rule: &str, value: f64) {
        self.0.lock().unwrap().insert(rule.into(), value);
    }
}

impl SignalSource for PerRule {
    fn value(&self, rule: &Rule, _now_ns: i64) -> Result<Option<f64>, String> {
        Ok(self.0.lock().unwrap().get(&rule.name).copied())
    }
}

/// Three rules, one per severity the documents route differently.
const RULES: &str = r#"
[[rule]]
name = "checkout errors"
kind = "threshold"
severity = "critical"
signal = "error_rate"
scope = "checkout"
op = ">"
threshold = 0.05
labels = { team = "payments" }
annotations = { summary = "checkout error rate is {{ value }}" }

[[rule]]
name = "disk almost full"
kind = "threshold"
severity = "warning"
signal = "rss_bytes"
op = ">"
threshold = 1000

[[rule]]
name = "store down"
kind = "threshold"
severity = "emergency"
signal = "dropped"
op = ">"
threshold = 0
"#;

fn notify_section(smtp: &str, extra: &str) -> String {
    format!(
        r#"
[notify]
dashboard_url = "http://pathwise.test:7070/"

[notify.email]
smtp = "{smtp}"
from = "Pathwise <pathwise@example.com>"
to = ["oncall@example.com", "Payments Lead <lead@example.com>"]
{extra}
"#
    )
}

fn engine(rules: &str, source: &PerRule, dir: &tempfile::TempDir) -> Engine {
    Engine::new(
        RuleSet::parse(rules).unwrap(),
        Box::new(source.clone()),
        common::alert_store(&dir.path().join("p.db")),
        Vec::new(),
    )
    .unwrap()
}

fn subjects(mails: &[ReceivedMail]) -> Vec<&str> {
    mails.iter().map(|m| m.subject.as_str()).collect()
}

fn history(engine: &Engine) -> Vec<HistoryRow> {
    engine
        .history(&HistoryFilter {
            limit: Some(10_000),
            ..Default::default()
        })
        .unwrap()
}

#[test]
fn critical_and_emergency_alerts_are_mailed_warnings_are_not() {
    let sink = SmtpSink::start();
    let pager = Receiver::start(false);
    let dir = tempfile::tempdir().unwrap();
    let signals = PerRule::default();
    let rules = format!(
        "{RULES}{}\n[[notify.webhook]]\nname = \"pager\"\nurl = \"{}\"\nmin_severity = \"emergency\"\n",
        notify_section(&sink.url(), ""),
        pager.url
    );
    // Stands for the log: every alert, whatever its severity.
    let logged: Arc<Mutex<Vec<Notification>>> = Arc::default();
    let log = logged.clone();
    let mut engine = Engine::new(
        RuleSet::parse(&rules).unwrap(),
        Box::new(signals.clone()),
        common::alert_store(&dir.path().join("p.db")),
        vec![Box::new(CallbackNotifier::new(move |n| {
            log.lock().unwrap().push(n.clone())
        }))],
    )
    .unwrap();
    let mut evaluate = |at: i64| engine.evaluate(at);

    signals.set("checkout errors", 0.2);
    signals.set("disk almost full", 5000.0);
    signals.set("store down", 0.0);
    evaluate(T0);
    signals.set("store down", 3.0);
    evaluate(T0 + 60 * SEC);
    for rule in ["checkout errors", "disk almost full", "store down"] {
        signals.set(rule, 0.0);
    }
    evaluate(T0 + 120 * SEC);

    let mails = sink.wait_for(4, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let mails_later = sink.messages();
    assert_eq!(mails_later.len(), mails.len(), "no late extra message");
    assert_eq!(
        subjects(&mails),
        [
            "[Pathwise] CRITICAL: checkout errors firing",
            "[Pathwise] EMERGENCY: store down firing",
            "[Pathwise] CRITICAL: checkout errors resolved",
            "[Pathwise] EMERGENCY: store down resolved",
        ]
    );
    for mail in &mails {
        assert_eq!(mail.mail_from, "pathwise@example.com");
        assert_eq!(mail.rcpt_tos, ["oncall@example.com", "lead@example.com"]);
        assert_eq!(mail.from, "Pathwise <pathwise@example.com>");
        assert!(mail.to.contains("oncall@example.com") && mail.to.contains("Payments Lead"));
        assert!(!mail.text.contains("disk almost full"), "{}", mail.text);
        assert!(
            mail.raw.contains("Content-Type: text/plain"),
            "{}",
            mail.raw
        );
    }
    let fired = &mails[0].text;
    for expected in [
        "1 alert firing: checkout errors",
        "[critical] checkout errors is firing",
        "summary:    checkout error rate is 0.2",
        "value:      0.2",
        "condition:  error_rate > 0.05 (checkout, over 5m)",
        "since:      2026-",
        "labels:     team=payments",
        "dashboard:  http://pathwise.test:7070/#/alerts?rule=checkout%20errors",
    ] {
        assert!(fired.contains(expected), "{expected:?} in:\n{fired}");
    }
    assert!(!fired.contains("resolved:"), "{fired}");
    let resolved = &mails[2].text;
    assert!(
        resolved.contains("[critical] checkout errors is resolved"),
        "{resolved}"
    );
    assert!(resolved.contains("resolved:   2026-"), "{resolved}");
    assert!(resolved.contains("value:      0\n"), "{resolved}");
    assert!(mails[1].text.contains("[emergency] store down is firing"));

    // The pager hears only the emergency; the log every change of every alert.
    assert_eq!(pager.wait_for(2, Duration::from_secs(5)), 2);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(pager.statuses(), ["firing", "resolved"]);
    for body in pager.bodies.lock().unwrap().iter() {
        assert_eq!(body["receiver"], "pager");
        assert_eq!(body["commonLabels"]["alertname"], "store down");
        assert_eq!(body["externalURL"], "http://pathwise.test:7070");
    }
    let logged: Vec<(String, String)> = logged
        .lock()
        .unwrap()
        .iter()
        .map(|n| (n.alerts[0].rule.clone(), n.status.as_str().to_string()))
        .collect();
    assert_eq!(logged.len(), 6, "{logged:?}");
    assert!(logged.contains(&("disk almost full".into(), "firing".into())));
    assert!(logged.contains(&("disk almost full".into(), "resolved".into())));
}

/// An escalated warning reaches e-mail once it is critical, and says it escalated.
#[test]
fn a_warning_escalated_to_critical_is_mailed_then() {
    let sink = SmtpSink::start();
    let dir = tempfile::tempdir().unwrap();
    let signals = PerRule::default();
    let rules = format!(
        "escalate_after = \"10m\"\n{RULES}{}",
        notify_section(&sink.url(), "")
    );
    let mut engine = engine(&rules, &signals, &dir);
    signals.set("disk almost full", 5000.0);
    for minute in 0..=21 {
        engine.evaluate(T0 + minute * 60 * SEC);
    }
    let mails = sink.wait_for(1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(
        subjects(&mails),
        ["[Pathwise] CRITICAL: disk almost full firing (escalated)"]
    );
    assert!(
        mails[0]
            .text
            .contains("[critical] disk almost full is firing")
    );
}

/// `min_severity` moves the e-mail threshold; a reload of the rules file changes recipients.
#[test]
fn min_severity_and_recipients_follow_the_rules_file() {
    let sink = SmtpSink::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.toml");
    let signals = PerRule::default();
    let write = |to: &str, modified: u64| {
        let text = format!(
            "{RULES}{}",
            notify_section(&sink.url(), "min_severity = \"warning\"").replace(
                "to = [\"oncall@example.com\", \"Payments Lead <lead@example.com>\"]",
                &format!("to = [\"{to}\"]")
            )
        );
        std::fs::write(&path, text).unwrap();
        // A distinct modification time, whatever the file system's resolution.
        let at = std::time::UNIX_EPOCH + Duration::from_secs(modified);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(at)
            .unwrap();
    };
    write("first@example.com", 1_000_000);
    let mut engine = Engine::new(
        RuleSet::default(),
        Box::new(signals.clone()),
        common::alert_store(&dir.path().join("p.db")),
        Vec::new(),
    )
    .unwrap()
    .with_rules_file(RulesFile::open(&path).unwrap());
    signals.set("disk almost full", 5000.0);
    engine.evaluate(T0);
    let first = sink.wait_for(1, Duration::from_secs(10));
    assert_eq!(
        subjects(&first),
        ["[Pathwise] WARNING: disk almost full firing"]
    );
    assert_eq!(first[0].rcpt_tos, ["first@example.com"]);

    write("second@example.com", 2_000_000);
    assert_eq!(engine.reload(), Ok(true));
    signals.set("disk almost full", 0.0);
    engine.evaluate(T0 + 60 * SEC);
    let both = sink.wait_for(2, Duration::from_secs(10));
    assert_eq!(both.len(), 2);
    assert_eq!(
        both[1].subject,
        "[Pathwise] WARNING: disk almost full resolved"
    );
    assert_eq!(both[1].rcpt_tos, ["second@example.com"]);
}

/// Accepts connections and never answers: an SMTP server that hangs.
fn hanging_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (url, thread)
}

/// Evaluates (the engine records failures then) until a `delivery_failed` row appears.
fn failures_recorded(engine: &mut Engine, from_ns: i64) -> Vec<HistoryRow> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut at = from_ns;
    loop {
        at += 3600 * SEC;
        engine.evaluate(at);
        let failed: Vec<HistoryRow> = history(engine)
            .into_iter()
            .filter(|h| h.state == "delivery_failed")
            .collect();
        if !failed.is_empty() || Instant::now() > deadline {
            return failed;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_smtp_server_that_hangs_never_slows_evaluation_and_failures_are_recorded() {
    let (url, _server) = hanging_server();
    let dir = tempfile::tempdir().unwrap();
    let signals = PerRule::default();
    let rules = format!(
        "{RULES}{}",
        notify_section(
            &url,
            "timeout = \"300ms\"\nretries = 1\nbackoff = \"50ms\"\nname = \"oncall mail\""
        )
    );
    let mut engine = engine(&rules, &signals, &dir);
    let mut slowest = Duration::ZERO;
    for i in 0..30 {
        signals.set("checkout errors", if i % 2 == 0 { 0.5 } else { 0.0 });
        let started = Instant::now();
        let changes = engine.evaluate(T0 + i * 15 * SEC);
        slowest = slowest.max(started.elapsed());
        assert_eq!(changes.len(), 1, "a transition every evaluation");
    }
    assert!(
        slowest < Duration::from_millis(250),
        "slowest evaluation took {slowest:?}"
    );
    let failed = failures_recorded(&mut engine, T0 + 30 * 15 * SEC);
    assert!(!failed.is_empty());
    assert!(
        failed.iter().all(|h| h.actor == "oncall mail"),
        "{failed:?}"
    );
    // The queue has room for every notification: what failed is the first message, which
    // timed out at both attempts.
    let error = &failed[0].annotations["error"];
    assert!(
        error.starts_with("2 attempts failed: no answer within 300ms"),
        "{error}"
    );
}

#[test]
fn an_unreachable_smtp_server_is_a_recorded_failure() {
    // A port nothing listens on: connections are refused at once.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let signals = PerRule::default();
    let rules = format!(
        "{RULES}{}",
        notify_section(
            &format!("smtp://127.0.0.1:{port}"),
            "retries = 2\nbackoff = \"10ms\""
        )
    );
    let mut engine = engine(&rules, &signals, &dir);
    signals.set("store down", 1.0);
    let started = Instant::now();
    engine.evaluate(T0);
    assert!(started.elapsed() < Duration::from_millis(250));
    let failed = failures_recorded(&mut engine, T0);
    assert_eq!(failed.len(), 1, "{failed:?}");
    let error = &failed[0].annotations["error"];
    assert!(error.starts_with("3 attempts failed: "), "{error}");
    assert_eq!(failed[0].actor, "email");
    assert_eq!(failed[0].fingerprint, engine.active()[0].fingerprint);
}
