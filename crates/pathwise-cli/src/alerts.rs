//! `pathwise alerts check|list`.

use pathwise_alerts::{Engine, HistoryFilter, Rule, RuleSet, SignalSource};

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
        AlertsAction::Check { file } => {
            let rules = RuleSet::load(file)
                .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))?;
            emit(&format!(
                "{}: {} rules, checked every {}\\n",
                file.display(),
                rules.rules.len(),
                humantime::format_duration(rules.check_interval)
            ))?;
            for rule in &rules.rules {
                emit(&format!("- {} ({})\\n", rule.name, rule.severity.as_str()))?;
            }
            Ok(())
        }
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
                emit("no active alerts\\n")?;
            }
            for a in &active {
                emit(&format!(
                    "{:<9} {:<8} {} = {} {}\\n",
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
                emit("\\nhistory (newest first):\\n")?;
            }
            for h in history {
                let secs = h.ts_ns / 1_000_000_000;
                emit(&format!(
                    "{} {:<13} {:<9} {} = {} by {}\\n",
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
