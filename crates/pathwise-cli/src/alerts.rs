//! `pathwise alerts check|list`.

use std::path::Path;

use pathwise_alerts::{Condition, Engine, HistoryFilter, Rule, RuleSet, SignalSource, StoreSource};

use crate::error::{CliError, open_backend};
use crate::format::emit;
use crate::{AlertsAction, AlertsArgs};

/// Reads nothing: `list` only looks at what the engine stored.
struct NoSignals;

impl SignalSource for NoSignals {
    fn value(&self, _rule: &Rule, _now_ns: i64) -> Result<Option<f64>, String> {
        Ok(None)
    }
}

/// Runs `pathwise alerts`.
pub fn run(args: &AlertsArgs) -> Result<(), CliError> {
    match &args.action {
        AlertsAction::Check { file } => check(file, &args.db.db),
        AlertsAction::List { limit } => {
            let backend = open_backend(&args.db.db)?;
            let store = backend
                .alert_store()
                .map_err(|e| CliError::store(&args.db.db, e))?;
            // An engine without rules and signals: it loads the saved state and history only.
            let rules = RuleSet::parse("").map_err(|e| CliError::Failed(e.to_string()))?;
            let engine = Engine::new(rules, Box::new(NoSignals), store, Vec::new())
                .map_err(CliError::Failed)?;
            let active = engine.active();
            if active.is_empty() {
                emit("no active alerts\n")?;
            }
            for a in &active {
                emit(&format!(
                    "{:<9} {:<8} {} = {} {}\n",
                    a.severity.as_str(),
                    a.state.as_str(),
                    a.rule,
                    a.value.map_or("n/a".into(), |v| v.to_string()),
                    a.acked_by
                        .as_ref()
                        .map_or(String::new(), |by| format!("(acknowledged by {by})"))
                ))?;
            }
            let history = engine
                .history(&HistoryFilter {
                    limit: Some(*limit),
                    ..HistoryFilter::default()
                })
                .map_err(CliError::Failed)?;
            if !history.is_empty() {
                emit("\nhistory (newest first):\n")?;
            }
            for h in history {
                let secs = h.ts_ns / 1_000_000_000;
                emit(&format!(
                    "{} {:<13} {:<9} {} = {} by {}\n",
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64)
                    ),
                    h.state,
                    h.severity,
                    h.rule,
                    h.value.map_or("n/a".into(), |v| v.to_string()),
                    h.actor
                ))?;
            }
            Ok(())
        }
    }
}

/// What a rule watches, in words: `threshold p95_ms of overall over 5m`.
fn describe(rule: &Rule) -> String {
    match &rule.condition {
        Condition::Threshold {
            signal,
            scope,
            window,
        } => format!(
            "threshold {} of {scope} over {}",
            signal.as_str(),
            humantime::format_duration(*window)
        ),
        Condition::Baseline { trigger, scope } => {
            format!("baseline {} of {scope}", trigger.as_str())
        }
        Condition::Sql { timeout, .. } => {
            format!("sql, at most {}", humantime::format_duration(*timeout))
        }
    }
}

/// `pathwise alerts check FILE`: parses the file (durations within their bounds), then reads
/// every rule's signal once from the store, as an evaluation does, so a query the store's SQL
/// guard refuses or a signal that cannot be read is reported here rather than at run time.
/// One line per rule; exit code 2 when any rule has a problem.
fn check(file: &Path, db: &Path) -> Result<(), CliError> {
    let rules = RuleSet::load(file)
        .map_err(|e| CliError::Input(format!("{}:{}: {}", file.display(), e.line, e.reason)))?;
    emit(&format!(
        "{}: {} rules, checked every {}\n",
        file.display(),
        rules.rules.len(),
        humantime::format_duration(rules.check_interval)
    ))?;
    let backend = open_backend(db)
        .map_err(|e| CliError::Input(format!("cannot read the rules' signals: {e}")))?;
    let source = StoreSource::new(backend);
    let now = pathwise_alerts::now_ns();
    let mut problems = 0;
    for rule in &rules.rules {
        let read = source.value(rule, now);
        let what = format!(
            "{} ({}, {})",
            rule.name,
            rule.severity.as_str(),
            describe(rule)
        );
        match read {
            Ok(value) => emit(&format!(
                "ok       {what}: now {}, fires when {} {}\n",
                value.map_or("no data".into(), |v| v.to_string()),
                rule.op.as_str(),
                rule.threshold
            ))?,
            Err(reason) => {
                problems += 1;
                emit(&format!(
                    "problem  {what}: {}:{}: {}\n",
                    file.display(),
                    rule.line,
                    reason.replace('\n', " ")
                ))?;
            }
        }
    }
    if problems > 0 {
        return Err(CliError::Input(format!(
            "{problems} of {} rules cannot be evaluated",
            rules.rules.len()
        )));
    }
    Ok(())
}
