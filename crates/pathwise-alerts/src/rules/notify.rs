//! The rules file's `[notify]` section: receivers besides the ones the server is started with,
//! each with the lowest severity it is sent.
//!
//! ```toml
//! [notify]
//! dashboard_url = "http://pathwise.internal:7070"   # linked from messages
//!
//! [notify.email]                                    # critical and above by default
//! smtp = "smtp://mail.internal:587?tls=required"
//! from = "Pathwise <pathwise@example.com>"
//! to = ["oncall@example.com"]
//! username = "pathwise"                             # optional, with password_env
//! password_env = "PATHWISE_SMTP_PASSWORD"
//!
//! [[notify.webhook]]                                # every severity by default
//! name = "pager"
//! url = "http://pager.internal/hook"
//! min_severity = "emergency"
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::durations::{Bounds, DELIVERY_BACKOFF, DELIVERY_TIMEOUT, duration};
use super::{RulesError, key_line, table_headers};
use crate::email::{EmailConfig, EmailNotifier};
use crate::notify::Notifier;
use crate::webhook::{WebhookConfig, WebhookNotifier};
use crate::{LogNotifier, Severity};

/// The most retries a receiver may be given: past it a dead receiver holds its queue for hours.
const MAX_RETRIES: u32 = 10;

/// Receivers the rules file configures; [`crate::Engine`] starts them next to the notifiers it
/// is given, and replaces them when a reload changes the section.
///
/// ```
/// let rules = pathwise_alerts::RuleSet::parse(r#"
/// [notify.email]
/// smtp = "smtp://127.0.0.1:2525"
/// from = "pathwise@example.com"
/// to = ["oncall@example.com"]
/// "#).unwrap();
/// let email = rules.notify.email.as_ref().unwrap();
/// assert_eq!(email.min_severity, pathwise_alerts::Severity::Critical);
/// assert!(rules.notify.webhooks.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NotifySettings {
    pub email: Option<EmailConfig>,
    pub webhooks: Vec<WebhookConfig>,
}

impl NotifySettings {
    /// A running notifier for each configured receiver.
    pub fn notifiers(&self) -> Vec<Box<dyn Notifier>> {
        let mut out: Vec<Box<dyn Notifier>> = Vec::new();
        if let Some(email) = &self.email {
            out.push(Box::new(EmailNotifier::new(email.clone())));
        }
        for hook in &self.webhooks {
            out.push(Box::new(WebhookNotifier::new(hook.clone())));
        }
        out
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    dashboard_url: Option<String>,
    email: Option<RawEmail>,
    #[serde(default)]
    webhook: Vec<RawWebhook>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    smtp: String,
    from: String,
    to: Vec<String>,
    min_severity: Option<Severity>,
    username: Option<String>,
    password_env: Option<String>,
    name: Option<String>,
    timeout: Option<String>,
    retries: Option<u32>,
    backoff: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: String,
    name: Option<String>,
    min_severity: Option<Severity>,
    timeout: Option<String>,
    retries: Option<u32>,
    backoff: Option<String>,
}

/// Where a setting of one `[notify…]` table is, for messages.
struct Table<'a> {
    src: &'a str,
    headers: Vec<usize>,
    index: usize,
    name: &'static str,
}

impl Table<'_> {
    fn error(&self, key: &str, reason: String) -> RulesError {
        RulesError {
            line: key_line(self.src, &self.headers, self.index, Some(key)),
            reason: format!("{}: {reason}", self.name),
        }
    }

    fn duration(
        &self,
        value: &Option<String>,
        key: &str,
        limits: Bounds,
    ) -> Result<Option<Duration>, RulesError> {
        value
            .as_deref()
            .map(|v| duration(v, key, limits).map_err(|e| self.error(key, e)))
            .transpose()
    }

    fn retries(&self, value: Option<u32>) -> Result<Option<u32>, RulesError> {
        match value {
            Some(n) if n > MAX_RETRIES => Err(self.error(
                "retries",
                format!("`retries` must be at most {MAX_RETRIES} (got {n})"),
            )),
            other => Ok(other),
        }
    }
}

/// `http://` or `https://` followed by a host.
fn check_http_url(url: &str) -> Result<(), String> {
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(format!("{url:?} is not an http:// or https:// address"));
    }
    match ureq::http::Uri::try_from(url) {
        Ok(uri) if uri.host().is_some_and(|h| !h.is_empty()) => Ok(()),
        Ok(_) => Err(format!("{url:?} has no host")),
        Err(e) => Err(format!("{url:?} is not a valid address: {e}")),
    }
}

/// Validates the section of `src` read into `raw`.
pub(super) fn settings(raw: Option<RawNotify>, src: &str) -> Result<NotifySettings, RulesError> {
    let Some(raw) = raw else {
        return Ok(NotifySettings::default());
    };
    let table = |header: &str, index: usize, name: &'static str| Table {
        src,
        headers: table_headers(src, header),
        index,
        name,
    };
    let dashboard_url = match raw.dashboard_url {
        Some(url) => {
            check_http_url(&url).map_err(|e| {
                table("[notify]", 0, "notify")
                    .error("dashboard_url", format!("`dashboard_url`: {e}"))
            })?;
            Some(url.trim_end_matches('/').to_string())
        }
        None => None,
    };
    let mut settings = NotifySettings::default();
    if let Some(raw) = raw.email {
        let at = table("[notify.email]", 0, "notify.email");
        let mut email = EmailConfig::new(&raw.smtp, &raw.from, &raw.to)
            .map_err(|e| at.error(e.key(), e.to_string()))?;
        match (raw.username, raw.password_env) {
            (Some(user), Some(var)) => {
                let password = std::env::var(&var).map_err(|_| {
                    at.error(
                        "password_env",
                        format!("`password_env`: the environment variable {var} is not set"),
                    )
                })?;
                email = email.with_credentials(&user, &password);
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(at.error("username", "`username` needs `password_env`".into()));
            }
            (None, Some(_)) => {
                return Err(at.error("password_env", "`password_env` needs `username`".into()));
            }
        }
        email.min_severity = raw.min_severity.unwrap_or(email.min_severity);
        email.dashboard_url = dashboard_url.clone();
        email.receiver = raw.name.unwrap_or(email.receiver);
        if email.receiver == LogNotifier.name() {
            return Err(at.error("name", "the name \"log\" is the log's".into()));
        }
        email.timeout = at
            .duration(&raw.timeout, "timeout", DELIVERY_TIMEOUT)?
            .unwrap_or(email.timeout);
        email.backoff = at
            .duration(&raw.backoff, "backoff", DELIVERY_BACKOFF)?
            .unwrap_or(email.backoff);
        email.retries = at.retries(raw.retries)?.unwrap_or(email.retries);
        settings.email = Some(email);
    }
    for (index, raw) in raw.webhook.into_iter().enumerate() {
        let at = table("[[notify.webhook]]", index, "notify.webhook");
        check_http_url(&raw.url).map_err(|e| at.error("url", format!("`url`: {e}")))?;
        let mut hook = WebhookConfig::new(raw.url);
        hook.min_severity = raw.min_severity.unwrap_or(hook.min_severity);
        hook.receiver = raw.name.unwrap_or(hook.receiver);
        hook.external_url = dashboard_url.clone().unwrap_or_default();
        hook.timeout = at
            .duration(&raw.timeout, "timeout", DELIVERY_TIMEOUT)?
            .unwrap_or(hook.timeout);
        hook.backoff = at
            .duration(&raw.backoff, "backoff", DELIVERY_BACKOFF)?
            .unwrap_or(hook.backoff);
        hook.retries = at.retries(raw.retries)?.unwrap_or(hook.retries);
        settings.webhooks.push(hook);
    }
    // Two receivers of one name could not be told apart in the failure history.
    let mut names = vec![LogNotifier.name().to_string()];
    names.extend(settings.email.iter().map(|e| e.receiver.clone()));
    for (index, hook) in settings.webhooks.iter().enumerate() {
        if names.contains(&hook.receiver) {
            let at = table("[[notify.webhook]]", index, "notify.webhook");
            return Err(at.error(
                "name",
                format!(
                    "receiver name {:?} is used twice: give each webhook a `name`",
                    hook.receiver
                ),
            ));
        }
        names.push(hook.receiver.clone());
    }
    Ok(settings)
}
