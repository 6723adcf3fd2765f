//! The rules file's `[notify]` section: what it configures, and every mistake refused with
//! its line and the setting's name before anything is sent.

use std::time::Duration;

use pathwise_alerts::{RuleSet, Severity};

const GOOD: &str = r#"
[notify]
dashboard_url = "http://pathwise.internal:7070/"

[notify.email]
smtp = "smtp://mail.internal:587?tls=required"
from = "Pathwise <pathwise@example.com>"
to = ["oncall@example.com", "lead@example.com"]
timeout = "3s"
retries = 5
backoff = "200ms"

[[notify.webhook]]
name = "pager"
url = "http://pager.internal/hook"
min_severity = "emergency"

[[notify.webhook]]
name = "chat"
url = "https://chat.internal/hook"

[[rule]]
name = "errors"
kind = "threshold"
signal = "error_rate"
op = ">"
threshold = 0.05
"#;

#[test]
fn a_full_section_configures_email_and_webhooks_with_their_severities() {
    let set = RuleSet::parse(GOOD).unwrap();
    let email = set.notify.email.as_ref().unwrap();
    assert_eq!(
        email.min_severity,
        Severity::Critical,
        "the documents' default"
    );
    assert_eq!(
        email.recipients(),
        ["oncall@example.com", "lead@example.com"]
    );
    assert_eq!(email.sender(), "Pathwise <pathwise@example.com>");
    assert_eq!(email.smtp_url(), "smtp://mail.internal:587?tls=required");
    assert_eq!(
        email.dashboard_url.as_deref(),
        Some("http://pathwise.internal:7070")
    );
    assert_eq!(email.receiver, "email");
    assert_eq!(email.timeout, Duration::from_secs(3));
    assert_eq!(email.retries, 5);
    assert_eq!(email.backoff, Duration::from_millis(200));
    let hooks: Vec<(&str, Severity, &str)> = set
        .notify
        .webhooks
        .iter()
        .map(|h| (h.receiver.as_str(), h.min_severity, h.external_url.as_str()))
        .collect();
    assert_eq!(
        hooks,
        [
            (
                "pager",
                Severity::Emergency,
                "http://pathwise.internal:7070"
            ),
            ("chat", Severity::Info, "http://pathwise.internal:7070"),
        ]
    );
    assert_eq!(set.rules.len(), 1);
}

#[test]
fn files_without_the_section_stay_valid_and_notify_nobody_extra() {
    let set =
        RuleSet::parse("[[rule]]\nname = \"x\"\nkind = \"baseline\"\ntrigger = \"regression\"\n")
            .unwrap();
    assert_eq!(set.notify, Default::default());
    assert!(set.notify.notifiers().is_empty());
}

#[test]
fn credentials_come_from_the_environment_and_never_show() {
    // A variable every `cargo test` run sets, standing in for the password: setting one here
    // would race with the other tests' threads reading the environment.
    let secret = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let src = GOOD.replace(
        "retries = 5",
        "retries = 5\nusername = \"pathwise\"\npassword_env = \"CARGO_MANIFEST_DIR\"",
    );
    let set = RuleSet::parse(&src).unwrap();
    let shown = format!("{set:?}");
    assert!(shown.contains("pathwise"), "{shown}");
    assert!(!shown.contains(&secret), "{shown}");
    let in_url = RuleSet::parse(&GOOD.replace(
        "smtp://mail.internal",
        "smtp://pathwise:hunter2@mail.internal",
    ))
    .unwrap();
    let shown = format!("{in_url:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("smtp://pathwise:***@mail.internal"),
        "{shown}"
    );
}

/// The 1-based line of the first line of `src` containing `needle`.
fn line_of(src: &str, needle: &str) -> usize {
    src.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in the file"))
        + 1
}

/// Replaces `from` in the good file, parses, and checks the error's line and words.
fn refused(from: &str, to: &str, line_of_text: &str, words: &[&str]) {
    assert!(GOOD.contains(from), "{from:?}");
    let src = GOOD.replacen(from, to, 1);
    let error = RuleSet::parse(&src).unwrap_err();
    assert_eq!(error.line, line_of(&src, line_of_text), "{to:?}: {error}");
    for word in words {
        assert!(error.reason.contains(word), "{to:?}: {word:?} in {error}");
    }
}

#[test]
fn bad_addresses_and_servers_name_their_line_and_setting() {
    refused(
        "from = \"Pathwise <pathwise@example.com>\"",
        "from = \"pathwise\"",
        "from =",
        &[
            "notify.email",
            "`from`",
            "\"pathwise\" is not an e-mail address",
        ],
    );
    refused(
        "\"lead@example.com\"",
        "\"lead at example.com\"",
        "to =",
        &["`to`", "\"lead at example.com\" is not an e-mail address"],
    );
    refused(
        "to = [\"oncall@example.com\", \"lead@example.com\"]",
        "to = []",
        "to =",
        &["`to`: no recipients"],
    );
    refused(
        "smtp = \"smtp://mail.internal:587?tls=required\"",
        "smtp = \"http://mail.internal:25\"",
        "smtp =",
        &["`smtp`", "not an SMTP server address", "smtps://"],
    );
    refused(
        "smtp = \"smtp://mail.internal:587?tls=required\"",
        "smtp = \"mail.internal\"",
        "smtp =",
        &["`smtp`"],
    );
}

#[test]
fn other_mistakes_name_their_line_too() {
    // Type and name mistakes come from the TOML reader, with its words.
    refused(
        "min_severity = \"emergency\"",
        "min_severity = \"urgent\"",
        "min_severity",
        &["unknown variant `urgent`"],
    );
    refused(
        "retries = 5",
        "retries = 5\ncc = [\"boss@example.com\"]",
        "cc =",
        &["unknown field `cc`"],
    );
    refused(
        "timeout = \"3s\"",
        "timeout = \"1h\"",
        "timeout =",
        &["`timeout` must be from 100ms to 5m"],
    );
    refused("retries = 5", "retries = 50", "retries =", &["at most 10"]);
    refused(
        "retries = 5",
        "retries = 5\nusername = \"u\"\npassword_env = \"PATHWISE_TEST_UNSET_VARIABLE\"",
        "password_env",
        &["PATHWISE_TEST_UNSET_VARIABLE is not set"],
    );
    refused(
        "retries = 5",
        "retries = 5\nusername = \"u\"",
        "username",
        &["`username` needs `password_env`"],
    );
    refused(
        "url = \"http://pager.internal/hook\"",
        "url = \"ftp://pager.internal/hook\"",
        "ftp://",
        &["notify.webhook", "not an http:// or https:// address"],
    );
    refused(
        "name = \"chat\"",
        "name = \"pager\" # again",
        "# again",
        &["\"pager\" is used twice"],
    );
    refused(
        "dashboard_url = \"http://pathwise.internal:7070/\"",
        "dashboard_url = \"pathwise.internal:7070\"",
        "dashboard_url",
        &["notify", "`dashboard_url`"],
    );
}
