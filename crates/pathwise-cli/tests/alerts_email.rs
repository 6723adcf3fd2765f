//! `pathwise serve --alerts FILE` mails what the file's `[notify.email]` section asks for, to a
//! real SMTP server on loopback (aiosmtpd), routed by severity; a bad address in the section
//! stops the server before it serves.

mod remote_support;

use std::ffi::OsStr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pathwise_test_support::smtp::SmtpSink;
use remote_support::{free_port, http, spawn_serving, stop};

/// Two rules that hold at once on any store (`SELECT 1`), one critical and one warning, and an
/// e-mail receiver at its default (critical and above).
fn rules(smtp: &str, from: &str) -> String {
    format!(
        r#"check_interval = "1s"

[notify]
dashboard_url = "http://127.0.0.1:7070"

[notify.email]
smtp = "{smtp}"
from = "{from}"
to = ["oncall@example.com"]

[[rule]]
name = "store answers"
kind = "sql"
severity = "critical"
query = "SELECT 1"
op = ">"
threshold = 0

[[rule]]
name = "store still answers"
kind = "sql"
severity = "warning"
query = "SELECT 1"
op = ">"
threshold = 0
"#
    )
}

#[test]
fn serve_mails_the_critical_alert_and_not_the_warning() {
    let sink = SmtpSink::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.toml");
    std::fs::write(&file, rules(&sink.url(), "pathwise@example.com")).unwrap();
    let db = dir.path().join("p.db");
    let spool = dir.path().join("spool");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let args: [&OsStr; 9] = [
        "serve".as_ref(),
        "--listen".as_ref(),
        listen.as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
        "--alerts".as_ref(),
        file.as_os_str(),
        "--spool".as_ref(),
        spool.as_os_str(),
    ];
    let server = spawn_serving(&args, None);

    let mails = sink.wait_for(1, Duration::from_secs(30));
    assert_eq!(mails.len(), 1, "the critical alert is mailed");
    // Several more evaluations: neither the warning nor a second message arrives.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut both_active = false;
    while Instant::now() < deadline {
        let (code, _, body) = http(port, "GET", "/api/alerts", &[], b"");
        assert_eq!(code, 200, "{body}");
        let alerts: serde_json::Value = serde_json::from_str(&body).unwrap();
        both_active |= alerts["active"].as_array().map_or(0, Vec::len) == 2;
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(both_active, "the dashboard shows both alerts");
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.subject, "[Pathwise] CRITICAL: store answers firing");
    assert_eq!(mail.rcpt_tos, ["oncall@example.com"]);
    assert_eq!(mail.mail_from, "pathwise@example.com");
    for expected in [
        "[critical] store answers is firing",
        "value:      1",
        "condition:  SQL value > 0",
        "dashboard:  http://127.0.0.1:7070/#/alerts?rule=store%20answers",
    ] {
        assert!(
            mail.text.contains(expected),
            "{expected:?} in\n{}",
            mail.text
        );
    }
    stop(server);
}

#[test]
fn serve_refuses_a_bad_sender_address_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.toml");
    std::fs::write(&file, rules("smtp://127.0.0.1:25", "pathwise at example")).unwrap();
    let db = dir.path().join("p.db");
    let mut child = Command::new(remote_support::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .arg("--alerts")
        .arg(&file)
        .arg("--spool")
        .arg(dir.path().join("spool"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "refused: {stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("dashboard: http://"),
        "never served"
    );
    let expected = "alerts.toml: line 8: notify.email: `from`: \"pathwise at example\" is not an e-mail address";
    assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
