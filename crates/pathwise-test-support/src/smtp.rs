//! A real SMTP server on loopback for tests of e-mail delivery: Debian's `python3-aiosmtpd`
//! run by `/usr/bin/python3` (a pyenv `python3` on `PATH` would not see the Debian package),
//! keeping each accepted message as JSON in a directory of its own.
//!
//! ```no_run
//! let sink = pathwise_test_support::smtp::SmtpSink::start();
//! // ... send to sink.url() ...
//! let mails = sink.wait_for(1, std::time::Duration::from_secs(5));
//! assert_eq!(mails[0].rcpt_tos, ["oncall@example.com"]);
//! ```

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The sink's script (aiosmtpd's `Controller` with a handler that writes `<n>.json`).
const SCRIPT: &str = include_str!("smtp_sink.py");
/// The interpreter Debian's `python3-aiosmtpd` is installed for.
const PYTHON: &str = "/usr/bin/python3";

/// One message as the sink received it: the envelope, decoded headers and the plain text.
#[derive(Clone, Debug, Deserialize)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), in order.
    pub rcpt_tos: Vec<String>,
    /// The `Subject` header, decoded.
    pub subject: String,
    pub from: String,
    pub to: String,
    /// The plain-text body, with its transfer encoding undone.
    pub text: String,
    /// The whole message as sent.
    pub raw: String,
}

/// A running SMTP sink; stopped when dropped.
pub struct SmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpSink {
    /// Starts the sink on a free port of 127.0.0.1 and waits until it accepts connections.
    /// Panics, saying what to install, when aiosmtpd is missing.
    pub fn start() -> SmtpSink {
        let dir = tempfile::tempdir().expect("a directory for the received mail");
        let script = dir.path().join("smtp_sink.py");
        std::fs::write(&script, SCRIPT).expect("write the sink script");
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).expect("create the inbox");
        let mut last_error = String::new();
        // A port found free can be taken before the sink binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            match spawn(&script, port, &inbox) {
                Ok(child) => return SmtpSink { port, dir, child },
                Err(e) => last_error = e,
            }
        }
        if last_error.contains("No module named") {
            panic!(
                "the SMTP sink needs Debian's python3-aiosmtpd (apt-get install python3-aiosmtpd): \
                 {last_error}"
            );
        }
        panic!("the SMTP sink did not start: {last_error}");
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message received so far, in the order received.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let inbox = self.dir.path().join("inbox");
        let mut files: Vec<_> = std::fs::read_dir(&inbox)
            .expect("read the inbox")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path).expect("read a received message");
                serde_json::from_str(&text).expect("a message the sink wrote")
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived or `timeout` passed; returns all received.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts the script on `port`; returns once it printed `ready`, or its error output.
fn spawn(script: &Path, port: u16, inbox: &Path) -> Result<Child, String> {
    let mut child = Command::new(PYTHON)
        .arg(script)
        .arg("127.0.0.1")
        .arg(port.to_string())
        .arg(inbox)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {PYTHON}: {e}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped stdout");
    let _ = BufReader::new(stdout).read_line(&mut line);
    if line.trim() == "ready" {
        return Ok(child);
    }
    let _ = child.kill();
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let _ = child.wait();
    Err(stderr.trim().to_string())
}
