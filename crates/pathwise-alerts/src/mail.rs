//! SMTP delivery shared by the alert e-mail notifier and anything else Pathwise mails (the
//! scheduled reports of `pathwise serve`): the transport an [`EmailConfig`] describes, and one
//! message sent now with the config's retries.

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

use crate::EmailConfig;
use crate::delivery::{AttemptError, with_retries};

/// The SMTP transport `config` describes: its server, time limit and credentials.
pub(crate) fn transport(config: &EmailConfig) -> Result<SmtpTransport, String> {
    let builder = SmtpTransport::from_url(&config.smtp_url)
        .map_err(|e| e.to_string())?
        .timeout(Some(config.timeout));
    Ok(match &config.credentials {
        Some((user, password)) => {
            builder.credentials(Credentials::new(user.clone(), password.clone()))
        }
        None => builder,
    }
    .build())
}

/// Sends `message` through `transport`, retrying as `config` says (a permanent refusal is
/// not retried).
pub(crate) fn send(
    transport: &SmtpTransport,
    config: &EmailConfig,
    message: &Message,
) -> Result<(), String> {
    with_retries(config.retries, config.backoff, || {
        transport.send(message).map(drop).map_err(|e| {
            if e.is_permanent() {
                AttemptError::Permanent(e.to_string())
            } else {
                AttemptError::Transient(crate::email::error_text(&e, config.timeout))
            }
        })
    })
}

/// Mails one message now, blocking until it is accepted or the retries are spent: `text`,
/// with `html` as the alternative a mail reader shows instead when given. For scheduled
/// reports; alerts go through [`crate::EmailNotifier`], which never blocks.
///
/// ```no_run
/// let config = pathwise_alerts::EmailConfig::new(
///     "smtp://127.0.0.1:2525", "pathwise@example.com", &["team@example.com"]).unwrap();
/// pathwise_alerts::send_mail_now(&config, "Daily report", "12 requests", Some("<p>12 requests</p>"))
///     .unwrap();
/// ```
pub fn send_mail_now(
    config: &EmailConfig,
    subject: &str,
    text: &str,
    html: Option<&str>,
) -> Result<(), String> {
    let message = builder(&config.from, &config.to)
        .subject(subject)
        .multipart(match html {
            Some(html) => MultiPart::alternative_plain_html(text.to_string(), html.to_string()),
            None => {
                MultiPart::mixed().singlepart(lettre::message::SinglePart::plain(text.to_string()))
            }
        })
        .map_err(|e| format!("cannot build the message: {e}"))?;
    send(&transport(config)?, config, &message)
}

/// A message from `from` to every address of `to`.
pub(crate) fn builder(from: &Mailbox, to: &[Mailbox]) -> lettre::message::MessageBuilder {
    let mut builder = Message::builder().from(from.clone()).message_id(None);
    for address in to {
        builder = builder.to(address.clone());
    }
    builder
}
