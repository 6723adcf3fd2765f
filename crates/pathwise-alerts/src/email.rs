//! The e-mail notifier: one plain-text message per notification over SMTP (`lettre`), sent
//! from its own thread (see [`crate::delivery`]: `notify` never waits, failures are recorded).
//! By default only critical and emergency alerts are mailed.

use std::fmt::Write as _;
use std::time::Duration;

use lettre::address::AddressError;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::delivery::DeliveryQueue;
use crate::engine::value_text;
use crate::notify::{DeliveryFailure, Notification, Notifier, Status};
use crate::{Severity, rfc3339};

/// An e-mail setting that cannot work; names the setting as the rules file spells it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EmailConfigError {
    #[error(
        "`smtp`: {url:?} is not an SMTP server address ({reason}); expected smtp://host[:port], \
         smtp://host:587?tls=required (STARTTLS) or smtps://host[:465]"
    )]
    Smtp { url: String, reason: String },
    #[error("`{key}`: {value:?} is not an e-mail address ({reason})")]
    Address {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error("`to`: no recipients")]
    NoRecipients,
}

impl EmailConfigError {
    /// The setting at fault: `smtp`, `from` or `to`.
    pub fn key(&self) -> &'static str {
        match self {
            EmailConfigError::Smtp { .. } => "smtp",
            EmailConfigError::Address { key, .. } => key,
            EmailConfigError::NoRecipients => "to",
        }
    }
}

/// Where and how to mail. The server and the addresses are checked by [`EmailConfig::new`];
/// the rest are plain settings.
#[derive(Clone, PartialEq)]
pub struct EmailConfig {
    pub(crate) smtp_url: String,
    pub(crate) from: Mailbox,
    pub(crate) to: Vec<Mailbox>,
    pub(crate) credentials: Option<(String, String)>,
    /// Alerts below this severity are not mailed (default: critical).
    pub min_severity: Severity,
    /// The Pathwise dashboard (`http://pathwise:7070`): each message links to the alert's page.
    pub dashboard_url: Option<String>,
    /// The name recorded with failures.
    pub receiver: String,
    /// Time limit of connecting and of each SMTP exchange.
    pub timeout: Duration,
    /// Attempts after the first one (a permanent refusal is not retried).
    pub retries: u32,
    /// Wait before the first retry; doubles after each.
    pub backoff: Duration,
    /// Messages waiting to be sent before new ones are refused.
    pub queue: usize,
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("smtp", &self.smtp_url())
            .field("from", &self.from.to_string())
            .field("to", &self.recipients())
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("min_severity", &self.min_severity)
            .field("dashboard_url", &self.dashboard_url)
            .field("receiver", &self.receiver)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("queue", &self.queue)
            .finish()
    }
}

impl EmailConfig {
    /// Mail from `from` to every address in `to` through the SMTP server at `smtp_url`
    /// (`smtp://host:25`; `smtp://host:587?tls=required` for STARTTLS, `smtps://host:465` for
    /// TLS; `smtp://user:password@host` to log in). Defaults: critical and above, 10 s
    /// timeout, 3 retries from 1 s, a queue of 256.
    ///
    /// ```
    /// use pathwise_alerts::{EmailConfig, Severity};
    /// let config = EmailConfig::new("smtp://127.0.0.1:2525", "Pathwise <pathwise@example.com>",
    ///     &["oncall@example.com"]).unwrap();
    /// assert_eq!(config.min_severity, Severity::Critical);
    /// assert_eq!(config.recipients(), ["oncall@example.com"]);
    /// let bad = EmailConfig::new("smtp://127.0.0.1:2525", "pathwise", &["oncall@example.com"]);
    /// assert_eq!(bad.unwrap_err().key(), "from");
    /// ```
    pub fn new(
        smtp_url: &str,
        from: &str,
        to: &[impl AsRef<str>],
    ) -> Result<EmailConfig, EmailConfigError> {
        let smtp_error = |reason: String| EmailConfigError::Smtp {
            url: redacted(smtp_url),
            reason,
        };
        if !smtp_url.starts_with("smtp://") && !smtp_url.starts_with("smtps://") {
            return Err(smtp_error("the scheme is not smtp or smtps".into()));
        }
        SmtpTransport::from_url(smtp_url).map_err(|e| smtp_error(e.to_string()))?;
        let mailbox = |key: &'static str, value: &str| {
            value
                .parse::<Mailbox>()
                .map_err(|e| EmailConfigError::Address {
                    key,
                    value: value.to_string(),
                    reason: match e {
                        // lettre's words for it ("Invalid input") do not say what would do.
                        AddressError::InvalidInput => {
                            "expected name@domain or \"Name <name@domain>\"".into()
                        }
                        other => other.to_string(),
                    },
                })
        };
        let from = mailbox("from", from)?;
        let to = to
            .iter()
            .map(|address| mailbox("to", address.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(EmailConfigError::NoRecipients);
        }
        Ok(EmailConfig {
            smtp_url: smtp_url.to_string(),
            from,
            to,
            credentials: None,
            min_severity: Severity::Critical,
            dashboard_url: None,
            receiver: "email".into(),
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_secs(1),
            queue: 256,
        })
    }

    /// Logs in as `user` with `password` (instead of credentials in the URL).
    pub fn with_credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some((user.to_string(), password.to_string()));
        self
    }

    /// The SMTP server's address, with any password in it masked.
    ///
    /// ```
    /// let config = pathwise_alerts::EmailConfig::new("smtp://me:secret@mail:25", "a@x.org",
    ///     &["b@x.org"]).unwrap();
    /// assert_eq!(config.smtp_url(), "smtp://me:***@mail:25");
    /// ```
    pub fn smtp_url(&self) -> String {
        redacted(&self.smtp_url)
    }

    /// The sender, as given (`Pathwise <pathwise@example.com>`).
    pub fn sender(&self) -> String {
        self.from.to_string()
    }

    /// The recipients' addresses.
    pub fn recipients(&self) -> Vec<String> {
        self.to.iter().map(ToString::to_string).collect()
    }
}

/// `url` with the password of its user part, if any, replaced by `***`.
fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &authority[..colon],
            &url[scheme_end + at..]
        ),
        _ => url.to_string(),
    }
}

/// What one message says: its subject and its plain-text body.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailContent {
    pub subject: String,
    pub text: String,
}

/// The message for `n`: the subject names the highest severity, the rules and the state; the
/// body has, per alert, its annotations, value, condition, since when, labels and a link to
/// the dashboard's alerts page when `dashboard_url` is given.
///
/// ```
/// use pathwise_alerts::{AlertInfo, Notification, Severity, Status, email_content};
/// let alert = AlertInfo { fingerprint: "0123456789abcdef".into(), rule: "errors".into(),
///     status: Status::Firing, severity: Severity::Critical, labels: Default::default(),
///     annotations: Default::default(), value: Some(0.25),
///     condition: Some("error_rate > 0.05 (overall, over 5m)".into()), starts_ns: 0,
///     ends_ns: None };
/// let n = Notification { status: Status::Firing, group_key: "{alertname=\"errors\"}".into(),
///     group_labels: Default::default(), alerts: vec![alert], reason: "firing".into() };
/// let mail = email_content(&n, Some("http://pathwise:7070"));
/// assert_eq!(mail.subject, "[Pathwise] CRITICAL: errors firing");
/// assert!(mail.text.contains("value:      0.25"));
/// assert!(mail.text.contains("http://pathwise:7070/#/alerts?rule=errors"));
/// ```
pub fn email_content(n: &Notification, dashboard_url: Option<&str>) -> EmailContent {
    let top = n
        .alerts
        .iter()
        .map(|a| a.severity)
        .max()
        .unwrap_or_default();
    let mut rules: Vec<&str> = Vec::new();
    for a in &n.alerts {
        if !rules.contains(&a.rule.as_str()) {
            rules.push(&a.rule);
        }
    }
    // Escalations and repeats are firing notifications too; the subject says which.
    let state = match (n.status, n.reason.as_str()) {
        (Status::Firing, reason) if reason != "firing" => format!("firing ({reason})"),
        (status, _) => status.as_str().to_string(),
    };
    let count = match n.alerts.len() {
        1 => String::new(),
        more => format!(" ({more} alerts)"),
    };
    let subject = format!(
        "[Pathwise] {}: {} {state}{count}",
        top.as_str().to_uppercase(),
        rules.join(", ")
    );

    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} alert{} {}: {}\n",
        n.alerts.len(),
        if n.alerts.len() == 1 { "" } else { "s" },
        state,
        rules.join(", ")
    );
    for a in &n.alerts {
        let _ = writeln!(
            text,
            "[{}] {} is {}",
            a.severity.as_str(),
            a.rule,
            a.status.as_str()
        );
        let mut field = |name: &str, value: &str| {
            let _ = writeln!(text, "  {:<11} {value}", format!("{name}:"));
        };
        // The summary and description people wrote come first; other annotations after.
        let mut annotations: Vec<(&String, &String)> = a.annotations.iter().collect();
        annotations.sort_by_key(|(k, _)| match k.as_str() {
            "summary" => 0,
            "description" => 1,
            _ => 2,
        });
        for (name, value) in annotations {
            field(name, value);
        }
        field("value", &value_text(a.value));
        if let Some(condition) = &a.condition {
            field("condition", condition);
        }
        field("since", &rfc3339(a.starts_ns));
        if let Some(ended) = a.ends_ns {
            field("resolved", &rfc3339(ended));
        }
        let labels: Vec<String> = a
            .labels
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "alertname" | "severity"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !labels.is_empty() {
            field("labels", &labels.join(", "));
        }
        field("alert", &a.fingerprint);
        if let Some(base) = dashboard_url {
            let rule = utf8_percent_encode(&a.rule, NON_ALPHANUMERIC);
            field(
                "dashboard",
                &format!("{}/#/alerts?rule={rule}", base.trim_end_matches('/')),
            );
        }
        text.push('\n');
    }
    text.push_str("-- \nSent by Pathwise alerting.\n");
    EmailContent { subject, text }
}

/// Mails notifications from a background thread, with timeout and retries.
///
/// ```no_run
/// use pathwise_alerts::{EmailConfig, EmailNotifier};
/// let config = EmailConfig::new("smtp://127.0.0.1:25", "pathwise@example.com",
///     &["oncall@example.com"]).unwrap();
/// let mail = EmailNotifier::new(config);
/// assert_eq!(mail.delivered(), 0);
/// ```
pub struct EmailNotifier {
    queue: DeliveryQueue,
    min_severity: Severity,
}

impl EmailNotifier {
    /// Starts the delivery thread; it ends when the notifier is dropped and the queue drained.
    pub fn new(config: EmailConfig) -> Self {
        let min_severity = config.min_severity;
        let receiver = config.receiver.clone();
        // Checked by `EmailConfig::new`; a failure here would repeat with every message.
        let transport = crate::mail::transport(&config);
        let queue = DeliveryQueue::start(&receiver, "pathwise-email", config.queue, move |n| {
            let transport = transport.as_ref().map_err(Clone::clone)?;
            crate::mail::send(transport, &config, &message(&config, n)?)
        });
        EmailNotifier {
            queue,
            min_severity,
        }
    }

    /// Messages sent so far.
    pub fn delivered(&self) -> u64 {
        self.queue.delivered()
    }

    /// Messages given up on (after retries, or refused by a full queue).
    pub fn failed(&self) -> u64 {
        self.queue.failed()
    }
}

/// `e` in words; a server that did not answer in time says so (a socket read timeout shows
/// as "Resource temporarily unavailable" on Linux).
pub(crate) fn error_text(e: &lettre::transport::smtp::Error, timeout: Duration) -> String {
    let io_kind = std::error::Error::source(e)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    if e.is_timeout()
        || matches!(
            io_kind,
            Some(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
        )
    {
        format!(
            "no answer within {} ({e})",
            humantime::format_duration(timeout)
        )
    } else {
        e.to_string()
    }
}

/// The message for `n` as `config` addresses it.
fn message(config: &EmailConfig, n: &Notification) -> Result<Message, String> {
    let content = email_content(n, config.dashboard_url.as_deref());
    crate::mail::builder(&config.from, &config.to)
        .subject(content.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(content.text)
        .map_err(|e| format!("cannot build the message: {e}"))
}

impl Notifier for EmailNotifier {
    fn name(&self) -> &str {
        self.queue.receiver()
    }

    fn min_severity(&self) -> Severity {
        self.min_severity
    }

    fn notify(&self, notification: &Notification) {
        self.queue.push(notification);
    }

    fn take_failures(&self) -> Vec<DeliveryFailure> {
        self.queue.take_failures()
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn only_the_password_is_masked() {
        assert_eq!(redacted("smtp://mail:25"), "smtp://mail:25");
        assert_eq!(redacted("smtp://me@mail:25"), "smtp://me@mail:25");
        assert_eq!(
            redacted("smtps://me:p@ss@mail/ehlo?tls=required"),
            "smtps://me:***@mail/ehlo?tls=required"
        );
        assert_eq!(redacted("not a url"), "not a url");
    }
}
