//! Scheduled reports (`pathwise serve --reports FILE`): once a day, week or month has ended,
//! its report is written into a directory in the formats asked for, then POSTed as JSON to a
//! webhook and/or mailed (plain text with the HTML page as its alternative). The files are
//! the schedule's memory: a period whose file exists is done, so a restart catches up on the
//! period that ended while the server was down and never writes one twice.
//!
//! ```toml
//! dir = "reports"                      # default: <db>.reports
//! webhook = "http://hooks.example.com/pathwise"
//!
//! [email]
//! smtp = "smtp://mail.example.com:25"
//! from = "pathwise@example.com"
//! to = ["team@example.com"]
//!
//! [[report]]
//! period = "day"                       # day, week or month (UTC)
//! formats = ["html", "json", "csv"]    # default ["html"]
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use pathwise_analysis::report::{Format, Period, Report};
use pathwise_store::Backend;
use serde::Deserialize;

use crate::error::CliError;

/// How often the schedule looks whether a period has ended.
const CHECK_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportsFile {
    dir: Option<PathBuf>,
    webhook: Option<String>,
    email: Option<EmailSection>,
    #[serde(default, rename = "report")]
    reports: Vec<ReportEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailSection {
    smtp: String,
    from: String,
    to: Vec<String>,
    username: Option<String>,
    /// The environment variable holding the password (never the file).
    password_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportEntry {
    period: Period,
    #[serde(default = "html_only")]
    formats: Vec<String>,
}

fn html_only() -> Vec<String> {
    vec!["html".into()]
}

/// One report to make each period.
struct Scheduled {
    period: Period,
    formats: Vec<Format>,
}

/// Where reports go.
struct Delivery {
    dir: PathBuf,
    webhook: Option<String>,
    email: Option<pathwise_alerts::EmailConfig>,
}

/// The running schedule; it stops when dropped.
pub struct ScheduleHandle {
    stop: Option<Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ScheduleHandle {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads and checks the reports file (a mistake stops `serve` before it starts), then runs
/// the schedule on its own thread.
pub fn start(
    file: &Path,
    db: &Path,
    backend: Arc<dyn Backend>,
) -> Result<ScheduleHandle, CliError> {
    let (scheduled, delivery) = load(file, db)?;
    std::fs::create_dir_all(&delivery.dir).map_err(|e| {
        CliError::Input(format!(
            "{}: cannot use report directory {}: {e}",
            file.display(),
            delivery.dir.display()
        ))
    })?;
    let (stop, stopped) = channel();
    let thread = std::thread::Builder::new()
        .name("pathwise-reports".into())
        .spawn(move || run(&scheduled, &delivery, backend.as_ref(), &stopped))
        .map_err(|e| CliError::Failed(format!("cannot start the report schedule: {e}")))?;
    Ok(ScheduleHandle {
        stop: Some(stop),
        thread: Some(thread),
    })
}

fn load(file: &Path, db: &Path) -> Result<(Vec<Scheduled>, Delivery), CliError> {
    let bad = |reason: String| CliError::Input(format!("{}: {reason}", file.display()));
    let text = std::fs::read_to_string(file).map_err(|e| bad(e.to_string()))?;
    let parsed: ReportsFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if parsed.reports.is_empty() {
        return Err(bad("no [[report]] to make".into()));
    }
    let scheduled = parsed
        .reports
        .iter()
        .map(|entry| {
            let formats = entry
                .formats
                .iter()
                .map(|f| f.parse::<Format>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("report {}: {e}", entry.period.as_str())))?;
            if formats.is_empty() {
                return Err(bad(format!(
                    "report {}: `formats` is empty",
                    entry.period.as_str()
                )));
            }
            Ok(Scheduled {
                period: entry.period,
                formats,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(url) = &parsed.webhook
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(bad(format!("`webhook`: {url:?} is not an http(s) URL")));
    }
    let email = match &parsed.email {
        None => None,
        Some(e) => {
            let mut config = pathwise_alerts::EmailConfig::new(&e.smtp, &e.from, &e.to)
                .map_err(|err| bad(format!("[email] {err}")))?;
            if let Some(user) = &e.username {
                let variable = e
                    .password_env
                    .as_deref()
                    .unwrap_or("PATHWISE_SMTP_PASSWORD");
                let password = std::env::var(variable)
                    .map_err(|_| bad(format!("[email] `password_env`: {variable} is not set")))?;
                config = config.with_credentials(user, &password);
            }
            Some(config)
        }
    };
    let dir = parsed.dir.unwrap_or_else(|| {
        let mut dir = db.as_os_str().to_owned();
        dir.push(".reports");
        PathBuf::from(dir)
    });
    Ok((
        scheduled,
        Delivery {
            dir,
            webhook: parsed.webhook,
            email,
        },
    ))
}

fn run(scheduled: &[Scheduled], delivery: &Delivery, backend: &dyn Backend, stop: &Receiver<()>) {
    loop {
        for report in scheduled {
            if let Err(e) = make_if_due(report, delivery, backend, pathwise_alerts::now_ns()) {
                eprintln!(
                    "pathwise: the {} report could not be made: {e}",
                    report.period.as_str()
                );
            }
        }
        match stop.recv_timeout(CHECK_EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The report of the period that ended last, unless its file is already there.
fn make_if_due(
    scheduled: &Scheduled,
    delivery: &Delivery,
    backend: &dyn Backend,
    now: i64,
) -> Result<(), String> {
    let window = scheduled.period.last_whole(now);
    let day = pathwise_analysis::report::minute_text(window.since_ns);
    let stem = format!("{}-{}", scheduled.period.as_str(), &day[..10]);
    let path = |format: Format| delivery.dir.join(format!("{stem}.{}", format.extension()));
    if path(scheduled.formats[0]).exists() {
        return Ok(());
    }
    let reader = backend.reader().map_err(|e| e.to_string())?;
    let title = format!("{} {}", scheduled.period.title(), &day[..10]);
    let report =
        Report::load(reader.as_ref(), window, now, &[], &title).map_err(|e| e.to_string())?;
    // The first format's file is written last: it marks the period done.
    for format in scheduled.formats.iter().rev() {
        let target = path(*format);
        let partial = target.with_extension("partial");
        std::fs::write(&partial, report.render(*format))
            .and_then(|()| std::fs::rename(&partial, &target))
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    eprintln!(
        "pathwise: {title} written to {}",
        delivery.dir.join(&stem).display()
    );
    if let Some(url) = &delivery.webhook {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        if let Err(e) = agent
            .post(url)
            .header("content-type", "application/json")
            .send(report.render(Format::Json).as_bytes())
        {
            eprintln!("pathwise: {title} could not be posted to {url}: {e}");
        }
    }
    if let Some(email) = &delivery.email {
        let subject = format!("[Pathwise] {title}");
        let html = report.render(Format::Html);
        if let Err(e) = pathwise_alerts::send_mail_now(
            email,
            &subject,
            &report.render(Format::Text),
            Some(&html),
        ) {
            eprintln!("pathwise: {title} could not be mailed: {e}");
        }
    }
    Ok(())
}
