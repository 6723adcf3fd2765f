//! Invalid rule files are rejected with the line and the reason.

use pathwise_alerts::{Condition, RuleSet, RulesFile, Severity, Signal};

const GOOD: &str = r#"
check_interval = "10s"
repeat_interval = "1h"
escalate_after = "15m"

[[rule]]
name = "checkout errors"
kind = "threshold"
severity = "error"
for = "2m"
keep_firing_for = "1m"
signal = "error_rate"
scope = "checkout"
window = "5m"
op = ">"
threshold = 0.05
recovery = 0.03
labels = { team = "payments" }
annotations = { summary = "error rate {{ value }}" }

[[rule]]
name = "slow"
kind = "baseline"
trigger = "violation_critical"
"#;

#[test]
fn a_good_file_parses() {
    let set = RuleSet::parse(GOOD).unwrap();
    assert_eq!(set.check_interval.as_secs(), 10);
    assert_eq!(set.escalate_after.unwrap().as_secs(), 900);
    let r = &set.rules[0];
    assert_eq!(r.severity, Severity::Error);
    assert_eq!(r.for_.as_secs(), 120);
    assert_eq!(r.recovery, 0.03);
    assert_eq!(r.line, 6);
    assert!(
        matches!(&r.condition, Condition::Threshold { signal: Signal::ErrorRate, scope, .. } if scope == "checkout")
    );
    assert_eq!(set.rules[1].line, 21);
}

fn error(src: &str) -> (usize, String) {
    let e = RuleSet::parse(src).unwrap_err();
    (e.line, e.reason)
}

#[test]
fn unknown_signal_names_the_line() {
    let src = GOOD.replace("signal = \"error_rate\"", "signal = \"errors\"");
    let (line, reason) = error(&src);
    assert_eq!(line, 12);
    assert!(reason.contains("unknown variant `errors`"), "{reason}");
}

#[test]
fn bad_duration_names_the_line() {
    let src = GOOD.replace("for = \"2m\"", "for = \"two minutes\"");
    let (line, reason) = error(&src);
    assert_eq!(line, 10);
    assert!(reason.contains("`for`: bad duration"), "{reason}");
    assert!(reason.contains("checkout errors"), "{reason}");
}

#[test]
fn missing_threshold_names_the_rule() {
    let src = GOOD.replace("threshold = 0.05\n", "");
    let (line, reason) = error(&src);
    assert_eq!(line, 6);
    assert!(reason.contains("missing `threshold`"), "{reason}");
}

#[test]
fn toml_syntax_error_names_the_line() {
    let src = GOOD.replace("op = \">\"", "op = >");
    let (line, reason) = error(&src);
    assert_eq!(line, 15);
    assert!(!reason.is_empty());
}

#[test]
fn recovery_on_the_wrong_side_and_unknown_keys_are_refused() {
    let (line, reason) = error(&GOOD.replace("recovery = 0.03", "recovery = 0.08"));
    assert_eq!(line, 17);
    assert!(reason.contains("healthy side"), "{reason}");
    let (line, reason) = error(&GOOD.replace("window = \"5m\"", "windw = \"5m\""));
    assert_eq!(line, 14);
    assert!(reason.contains("windw"), "{reason}");
}

#[test]
fn hot_reload_keeps_old_rules_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.toml");
    std::fs::write(&path, GOOD).unwrap();
    let mut file = RulesFile::open(&path).unwrap();
    assert_eq!(file.rules().rules.len(), 2);
    let bump = |path: &std::path::Path, text: &str, secs: u64| {
        std::fs::write(path, text).unwrap();
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .unwrap();
    };
    bump(&path, "[[rule]]\nname = 1\n", 1_000);
    let e = file.reload_if_changed().unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(file.rules().rules.len(), 2, "old rules kept");
    bump(
        &path,
        &GOOD.replace("[[rule]]\nname = \"slow\"", "[[rule]]\nname = \"slower\""),
        2_000,
    );
    assert_eq!(file.reload_if_changed(), Ok(true));
    assert_eq!(file.rules().rules[1].name, "slower");
}
