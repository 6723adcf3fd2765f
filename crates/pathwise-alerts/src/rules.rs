//! The rules file (`alerts.toml`): parsing, validation with line numbers, and hot reload.
//!
//! Syntax errors come from `toml` with a byte span, turned into a line. Semantic errors (a bad
//! duration, a missing threshold) are found after deserialising, when spans are gone, so the
//! offending key is located again in the source text inside the rule's own `[[rule]]` table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::Severity;

mod durations;
mod notify;
mod terms;

use durations::{Bounds, CHECK_INTERVAL, HOLD, RENOTIFY, SQL_TIMEOUT, WINDOW, duration};
pub use notify::NotifySettings;
pub use terms::{Op, Signal, Trigger, ValueUnit};

/// A rules file that could not be used: where and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RulesError {
    /// 1-based line in the rules file (0 when the file could not be read at all).
    pub line: usize,
    pub reason: String,
}

/// What a rule checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Threshold {
        signal: Signal,
        /// A node (span name), a component (span group) or `overall`.
        scope: String,
        window: Duration,
    },
    Baseline {
        trigger: Trigger,
        scope: String,
    },
    Sql {
        query: String,
        timeout: Duration,
    },
}

/// One validated rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: String,
    pub severity: Severity,
    /// How long the condition must hold before the alert fires.
    pub for_: Duration,
    /// How long a firing alert stays firing after the condition clears.
    pub keep_firing_for: Duration,
    pub labels: BTreeMap<String, String>,
    /// `summary`, `description`, …; `{{ value }}` is replaced by the measured value.
    pub annotations: BTreeMap<String, String>,
    pub condition: Condition,
    pub op: Op,
    pub threshold: f64,
    /// Hysteresis: an active alert clears only once the value crosses this (default threshold).
    pub recovery: f64,
    /// Line of the rule's `[[rule]]` header, for messages.
    pub line: usize,
}

impl Rule {
    /// Whether `value` starts the condition (`active = false`) or keeps it (`active = true`,
    /// judged against the recovery threshold, so values hovering at the threshold don't flap).
    ///
    /// ```
    /// let rules = pathwise_alerts::RuleSet::parse(r#"
    /// [[rule]]
    /// name = "errors"
    /// kind = "threshold"
    /// signal = "error_rate"
    /// op = ">"
    /// threshold = 0.05
    /// recovery = 0.03
    /// "#).unwrap();
    /// let rule = &rules.rules[0];
    /// assert!(!rule.holds(0.04, false));
    /// assert!(rule.holds(0.04, true));
    /// assert!(!rule.holds(0.03, true));
    /// ```
    pub fn holds(&self, value: f64, active: bool) -> bool {
        let bound = if active {
            self.recovery
        } else {
            self.threshold
        };
        self.op.holds(value, bound)
    }

    /// What the rule checks, with its threshold, as messages show it.
    ///
    /// ```
    /// let rules = pathwise_alerts::RuleSet::parse(r#"
    /// [[rule]]
    /// name = "errors"
    /// kind = "threshold"
    /// signal = "error_rate"
    /// scope = "checkout"
    /// op = ">"
    /// threshold = 0.05
    /// "#).unwrap();
    /// assert_eq!(rules.rules[0].condition_text(), "error_rate > 0.05 (checkout, over 5m)");
    /// ```
    pub fn condition_text(&self) -> String {
        let test = format!("{} {}", self.op.as_str(), self.threshold);
        match &self.condition {
            Condition::Threshold {
                signal,
                scope,
                window,
            } => format!(
                "{} {test} ({scope}, over {})",
                signal.as_str(),
                humantime::format_duration(*window)
            ),
            Condition::Baseline { trigger, scope } => {
                format!("{} {test} ({scope})", trigger.as_str())
            }
            Condition::Sql { .. } => format!("SQL value {test}"),
        }
    }

    /// The unit of the rule's value and threshold: its signal's for a threshold rule, a count
    /// (of violating calls or regressed operations) for a baseline rule, none for a SQL rule.
    ///
    /// ```
    /// use pathwise_alerts::{RuleSet, ValueUnit};
    /// let rules = RuleSet::parse(r#"
    /// [[rule]]
    /// name = "big"
    /// kind = "threshold"
    /// signal = "db_size_bytes"
    /// op = ">"
    /// threshold = 1e9
    /// "#).unwrap();
    /// assert_eq!(rules.rules[0].unit(), ValueUnit::Bytes);
    /// ```
    pub fn unit(&self) -> ValueUnit {
        match &self.condition {
            Condition::Threshold { signal, .. } => signal.unit(),
            Condition::Baseline { .. } => ValueUnit::Count,
            Condition::Sql { .. } => ValueUnit::Number,
        }
    }
}

/// Engine settings plus the rules.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    pub check_interval: Duration,
    pub repeat_interval: Duration,
    /// A firing alert moves up one severity level per `escalate_after` (never when `None`).
    pub escalate_after: Option<Duration>,
    /// Label names alerts are grouped by in notifications; `rule` means the rule name.
    pub group_by: Vec<String>,
    /// Receivers the file's `[notify]` section configures.
    pub notify: NotifySettings,
    pub rules: Vec<Rule>,
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet {
            check_interval: Duration::from_secs(15),
            repeat_interval: Duration::from_secs(4 * 3600),
            escalate_after: None,
            group_by: vec!["rule".into()],
            notify: NotifySettings::default(),
            rules: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    check_interval: Option<String>,
    repeat_interval: Option<String>,
    escalate_after: Option<String>,
    group_by: Option<Vec<String>>,
    notify: Option<notify::RawNotify>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Threshold,
    Baseline,
    Sql,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    kind: Kind,
    severity: Option<Severity>,
    #[serde(rename = "for")]
    for_: Option<String>,
    keep_firing_for: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    signal: Option<Signal>,
    scope: Option<String>,
    window: Option<String>,
    op: Option<Op>,
    threshold: Option<f64>,
    recovery: Option<f64>,
    trigger: Option<Trigger>,
    query: Option<String>,
    timeout: Option<String>,
}

/// 1-based line of byte `offset` in `src`.
fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].matches('\n').count() + 1
}

/// Lines (1-based) of every `header` (`[[rule]]`, `[notify.email]`), in order.
fn table_headers(src: &str, header: &str) -> Vec<usize> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(header))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Line of `key = …` inside table `index` of `headers`, else its header, else line 1.
fn key_line(src: &str, headers: &[usize], index: usize, key: Option<&str>) -> usize {
    let Some(&start) = headers.get(index) else {
        return 1;
    };
    let end = headers.get(index + 1).copied().unwrap_or(usize::MAX);
    if let Some(key) = key {
        for (i, line) in src.lines().enumerate().skip(start) {
            if i + 1 >= end || line.trim_start().starts_with('[') {
                break;
            }
            if let Some(rest) = line.trim_start().strip_prefix(key)
                && rest.trim_start().starts_with('=')
            {
                return i + 1;
            }
        }
    }
    start
}

impl RuleSet {
    /// Parses and validates a rules file's text.
    ///
    /// ```
    /// use pathwise_alerts::RuleSet;
    /// let err = RuleSet::parse("[[rule]]\nname = \"x\"\nkind = \"threshold\"\nsignal = \"p95_ms\"\nop = \">\"\n")
    ///     .unwrap_err();
    /// assert_eq!(err.line, 1);
    /// assert!(err.reason.contains("missing `threshold`"));
    /// ```
    pub fn parse(src: &str) -> Result<RuleSet, RulesError> {
        let raw: RawFile = toml::from_str(src).map_err(|e| RulesError {
            line: e.span().map_or(1, |s| line_of(src, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        let headers = table_headers(src, "[[rule]]");
        let top = |key: &str| {
            src.lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(1, |i| i + 1)
        };
        let top_duration = |value: &Option<String>,
                            key: &str,
                            default: Option<Duration>,
                            limits: Bounds| match value {
            None => Ok(default),
            Some(v) => duration(v, key, limits)
                .map(Some)
                .map_err(|reason| RulesError {
                    line: top(key),
                    reason,
                }),
        };
        let defaults = RuleSet::default();
        let mut set = RuleSet {
            check_interval: top_duration(
                &raw.check_interval,
                "check_interval",
                Some(defaults.check_interval),
                CHECK_INTERVAL,
            )?
            .unwrap_or(defaults.check_interval),
            repeat_interval: top_duration(
                &raw.repeat_interval,
                "repeat_interval",
                Some(defaults.repeat_interval),
                RENOTIFY,
            )?
            .unwrap_or(defaults.repeat_interval),
            escalate_after: top_duration(&raw.escalate_after, "escalate_after", None, RENOTIFY)?,
            group_by: raw.group_by.unwrap_or(defaults.group_by),
            notify: notify::settings(raw.notify, src)?,
            rules: Vec::new(),
        };
        for (index, r) in raw.rule.into_iter().enumerate() {
            let at = |key: Option<&str>, reason: String| RulesError {
                line: key_line(src, &headers, index, key),
                reason: format!("rule {:?}: {reason}", r.name),
            };
            if set.rules.iter().any(|x: &Rule| x.name == r.name) {
                return Err(at(Some("name"), "duplicate rule name".into()));
            }
            let dur = |value: &Option<String>, key: &str, default: Duration, limits| match value {
                None => Ok(default),
                Some(v) => duration(v, key, limits).map_err(|e| at(Some(key), e)),
            };
            let for_ = dur(&r.for_, "for", Duration::ZERO, HOLD)?;
            let keep_firing_for = dur(&r.keep_firing_for, "keep_firing_for", Duration::ZERO, HOLD)?;
            let need = |present: bool, key: &str, kind: &str| {
                if present {
                    Ok(())
                } else {
                    Err(at(
                        None,
                        format!("missing `{key}` (required for {kind} rules)"),
                    ))
                }
            };
            let scope = r.scope.clone().unwrap_or_else(|| "overall".into());
            let (condition, op, threshold) = match r.kind {
                Kind::Threshold => {
                    need(r.signal.is_some(), "signal", "threshold")?;
                    need(r.op.is_some(), "op", "threshold")?;
                    need(r.threshold.is_some(), "threshold", "threshold")?;
                    let window = dur(&r.window, "window", Duration::from_secs(300), WINDOW)?;
                    let condition = Condition::Threshold {
                        signal: r.signal.unwrap(),
                        scope,
                        window,
                    };
                    (condition, r.op.unwrap(), r.threshold.unwrap())
                }
                Kind::Baseline => {
                    need(r.trigger.is_some(), "trigger", "baseline")?;
                    let condition = Condition::Baseline {
                        trigger: r.trigger.unwrap(),
                        scope,
                    };
                    // Baseline signals are counts of violating calls / regressed operations.
                    (
                        condition,
                        r.op.unwrap_or(Op::Gt),
                        r.threshold.unwrap_or(0.0),
                    )
                }
                Kind::Sql => {
                    need(r.query.is_some(), "query", "sql")?;
                    need(r.op.is_some(), "op", "sql")?;
                    need(r.threshold.is_some(), "threshold", "sql")?;
                    let timeout = dur(&r.timeout, "timeout", Duration::from_secs(1), SQL_TIMEOUT)?;
                    let condition = Condition::Sql {
                        query: r.query.clone().unwrap(),
                        timeout,
                    };
                    (condition, r.op.unwrap(), r.threshold.unwrap())
                }
            };
            if !threshold.is_finite() {
                return Err(at(Some("threshold"), "`threshold` must be finite".into()));
            }
            let recovery = r.recovery.unwrap_or(threshold);
            // The recovery line must lie on the healthy side, or an alert could never clear.
            let wrong_side = if op.upward() {
                recovery > threshold
            } else {
                recovery < threshold
            };
            if wrong_side || !recovery.is_finite() {
                return Err(at(
                    Some("recovery"),
                    format!(
                        "`recovery` {recovery} must be on the healthy side of `threshold` {threshold}"
                    ),
                ));
            }
            set.rules.push(Rule {
                name: r.name.clone(),
                severity: r.severity.unwrap_or(Severity::Warning),
                for_,
                keep_firing_for,
                labels: r.labels.clone(),
                annotations: r.annotations.clone(),
                condition,
                op,
                threshold,
                recovery,
                line: key_line(src, &headers, index, None),
            });
        }
        Ok(set)
    }

    /// Reads and parses a rules file.
    pub fn load(path: &Path) -> Result<RuleSet, RulesError> {
        let src = std::fs::read_to_string(path).map_err(|e| RulesError {
            line: 0,
            reason: format!("cannot read {}: {e}", path.display()),
        })?;
        RuleSet::parse(&src)
    }
}

/// A rules file watched by modification time.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("alerts.toml");
/// std::fs::write(&path, "check_interval = \"5s\"\n").unwrap();
/// let mut file = pathwise_alerts::RulesFile::open(&path).unwrap();
/// assert_eq!(file.rules().check_interval.as_secs(), 5);
/// assert_eq!(file.reload_if_changed(), Ok(false));
/// ```
#[derive(Debug)]
pub struct RulesFile {
    path: PathBuf,
    modified: Option<SystemTime>,
    rules: RuleSet,
}

impl RulesFile {
    /// Loads the file; fails if it is unreadable or invalid.
    pub fn open(path: impl Into<PathBuf>) -> Result<RulesFile, RulesError> {
        let path = path.into();
        let modified = mtime(&path);
        let rules = RuleSet::load(&path)?;
        Ok(RulesFile {
            path,
            modified,
            rules,
        })
    }

    /// The rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Re-reads the file if its mtime changed. `Ok(true)` when new rules were loaded; on an
    /// error the previous rules stay in force (a typo must not disable alerting).
    pub fn reload_if_changed(&mut self) -> Result<bool, RulesError> {
        let now = mtime(&self.path);
        if now == self.modified {
            return Ok(false);
        }
        // Remember the mtime even on failure so a broken file is reported once, not every tick.
        self.modified = now;
        self.rules = RuleSet::load(&self.path)?;
        Ok(true)
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
