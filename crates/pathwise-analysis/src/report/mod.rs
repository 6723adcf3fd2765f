//! The "EXECUTION PATH ANALYSIS REPORT" of a period in text, JSON, CSV or one self-contained
//! HTML page with inline SVG charts. [`Report::load`] gathers everything a report shows once,
//! for `pathwise report` and the reports `pathwise serve` writes on a schedule alike.

mod charts;
mod html;
mod period;
mod tables;
mod text;

pub use period::Period;

use std::fmt::Write;

use pathwise_store::{AttrValueKey, Reader, Window};
use serde::Serialize;
use serde_json::{Value, json};

use crate::AnalysisError;
use crate::metrics::{Analysis, Metrics};
use crate::monitoring::{MonitorConfig, StoredBaseline};
use crate::patterns::ErrorPatterns;
use crate::snapshot::Snapshot;

/// Rows per section.
const TOP: usize = 10;
/// Columns of the requests-over-the-period chart, at most.
const TIMELINE_BUCKETS: i64 = 48;

/// Output formats of [`render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Html,
    Csv,
}

impl Format {
    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Json => "json",
            Format::Html => "html",
            Format::Csv => "csv",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown format {other:?} (text, json, html or csv)"
            )),
        }
    }
}

/// Requests (root spans) and errors (failed spans) in one stretch of the period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimelinePoint {
    pub start_ns: i64,
    pub requests: i64,
    pub errors: i64,
}

/// Language-model calls of the period: per model, and the tokens they used.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LlmUsage {
    /// `(model, calls)`, most calls first.
    pub calls_by_model: Vec<(String, i64)>,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

/// Everything one report shows.
pub struct Report {
    /// What the report is called (`"Weekly report"`, `"Execution path analysis report"`).
    pub title: String,
    pub analysis: Analysis,
    pub snapshot: Option<Snapshot>,
    pub patterns: Vec<ErrorPatterns>,
    pub timeline: Vec<TimelinePoint>,
    pub llm: LlmUsage,
}

impl Report {
    /// Gathers the report of `window` from the store: the path analysis, the monitoring state
    /// as of `now_ns` (skipped for a window that holds nothing: its shifts would only say
    /// that traffic stopped), error patterns by `attrs` (by the three attributes failed spans
    /// carry most when empty), requests and errors over the window, and model usage.
    pub fn load(
        store: &dyn Reader,
        window: Window,
        now_ns: i64,
        attrs: &[String],
        title: &str,
    ) -> Result<Report, AnalysisError> {
        let analysis = Analysis::load(store, window)?;
        let empty = analysis.paths.is_empty();
        let snapshot = if empty {
            None
        } else {
            let stored: Vec<StoredBaseline> = store
                .baselines()?
                .iter()
                .map(StoredBaseline::from)
                .collect();
            Some(crate::snapshot::snapshot(
                store,
                now_ns,
                &MonitorConfig::default(),
                &stored,
                None,
                &[],
            )?)
        };
        let patterns = match (empty, attrs.is_empty()) {
            (true, _) => Vec::new(),
            (false, true) => crate::top_error_patterns(store, window, 3)?,
            (false, false) => attrs
                .iter()
                .map(|key| crate::error_patterns(store, window, key))
                .collect::<Result<_, _>>()?,
        };
        let timeline = if empty {
            Vec::new()
        } else {
            timeline(store, &analysis, window)?
        };
        let llm = if empty {
            LlmUsage::default()
        } else {
            llm_usage(store, window)?
        };
        Ok(Report {
            title: title.to_string(),
            analysis,
            snapshot,
            patterns,
            timeline,
            llm,
        })
    }

    /// The report of an analysis alone (no store at hand): no monitoring, no charts over time.
    pub fn of(analysis: Analysis) -> Report {
        Report {
            title: "Execution path analysis report".into(),
            analysis,
            snapshot: None,
            patterns: Vec::new(),
            timeline: Vec::new(),
            llm: LlmUsage::default(),
        }
    }

    /// Whether the period holds no recorded span at all.
    pub fn is_empty(&self) -> bool {
        self.analysis.paths.is_empty()
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        let mut sections = self
            .snapshot
            .as_ref()
            .map(tables::perf_tables)
            .unwrap_or_default();
        sections.extend(tables::pattern_tables(&self.patterns));
        match format {
            Format::Text => text::report(self, &sections),
            Format::Json => serde_json::to_string_pretty(&self.json()).unwrap_or_default(),
            Format::Csv => csv(&self.analysis),
            Format::Html => html::page(self, sections),
        }
    }

    fn json(&self) -> Value {
        let mut json = to_json(&self.analysis);
        json["title"] = json!(self.title);
        json["empty"] = json!(self.is_empty());
        if let Some(snap) = &self.snapshot {
            json["health"] = json!({ "overall": snap.overall, "components": snap.components });
            json["regressions"] = json!(snap.regressions);
            json["improvements"] = json!(snap.improvements);
            json["operations"] = serde_json::to_value(&snap.operations).unwrap_or(Value::Null);
        }
        json["error_patterns"] = serde_json::to_value(&self.patterns).unwrap_or(Value::Null);
        json["timeline"] = serde_json::to_value(&self.timeline).unwrap_or(Value::Null);
        json["llm"] = serde_json::to_value(&self.llm).unwrap_or(Value::Null);
        json
    }

    /// The window in words: `2026-12-01 00:00 – 2026-12-08 00:00 UTC`, or "all recorded data".
    pub fn period_text(&self) -> String {
        let a = &self.analysis;
        if a.window_since_ns <= 0 && a.window_until_ns == i64::MAX {
            return "all recorded data".into();
        }
        format!(
            "{} – {} UTC",
            minute_text(a.window_since_ns),
            minute_text(a.window_until_ns)
        )
    }
}

/// `2026-12-07 13:05` (UTC) for a Unix time in nanoseconds.
///
/// ```
/// assert_eq!(pathwise_analysis::report::minute_text(1_796_828_400_000_000_000), "2026-12-09 15:00");
/// ```
pub fn minute_text(ns: i64) -> String {
    let minutes = ns.div_euclid(60_000_000_000);
    let days = minutes.div_euclid(1440);
    let (hour, minute) = (minutes.rem_euclid(1440) / 60, minutes.rem_euclid(60));
    let (year, month, day) = period::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}")
}

/// Requests and errors of the root nodes per stretch of the window (at most
/// [`TIMELINE_BUCKETS`], whole minutes each), from the minute rollups.
fn timeline(
    store: &dyn Reader,
    analysis: &Analysis,
    window: Window,
) -> Result<Vec<TimelinePoint>, AnalysisError> {
    let roots: std::collections::HashSet<&str> = analysis
        .paths
        .iter()
        .filter(|p| p.depth == Some(0))
        .map(|p| p.node.as_str())
        .collect();
    let minutes = store.node_minutes(window)?;
    let mut points: Vec<(i64, i64, i64)> = Vec::new();
    for (node, buckets) in &minutes {
        if !roots.contains(node.as_str()) {
            continue;
        }
        for (minute, bucket) in buckets {
            points.push((*minute, bucket.calls, bucket.errors));
        }
    }
    let (Some(first), Some(last)) = (
        points.iter().map(|p| p.0).min(),
        points.iter().map(|p| p.0).max(),
    ) else {
        return Ok(Vec::new());
    };
    // The window's own bounds where they are finite, so the chart shows quiet stretches too.
    let start = if window.since_ns > 0 {
        window.since_ns.div_euclid(60_000_000_000).min(first)
    } else {
        first
    };
    let end = if window.until_ns < i64::MAX {
        (window.until_ns.div_euclid(60_000_000_000)).max(last)
    } else {
        last
    };
    let width = ((end - start + 1) + TIMELINE_BUCKETS - 1) / TIMELINE_BUCKETS;
    let width = width.max(1);
    let count = (end - start) / width + 1;
    let mut out: Vec<TimelinePoint> = (0..count)
        .map(|i| TimelinePoint {
            start_ns: (start + i * width) * 60_000_000_000,
            requests: 0,
            errors: 0,
        })
        .collect();
    for (minute, calls, errors) in points {
        let i = ((minute - start) / width).clamp(0, count - 1) as usize;
        out[i].requests += calls;
        out[i].errors += errors;
    }
    Ok(out)
}

/// Calls per model and tokens, from the `gen_ai.*` attributes decision steps and ingested
/// model calls carry.
fn llm_usage(store: &dyn Reader, window: Window) -> Result<LlmUsage, AnalysisError> {
    let mut usage = LlmUsage::default();
    for (value, spans, _) in store.attribute_values(window, "gen_ai.request.model", 100)? {
        if let AttrValueKey::Text(model) = value {
            usage.calls_by_model.push((model, spans));
        }
    }
    let tokens = |key: &str| -> Result<i64, AnalysisError> {
        Ok(store
            .attribute_values(window, key, 10_000)?
            .into_iter()
            .map(|(value, spans, _)| match value {
                AttrValueKey::Number(n) => (n * spans as f64).round() as i64,
                AttrValueKey::Text(_) => 0,
            })
            .sum())
    };
    usage.input_tokens = tokens("gen_ai.usage.input_tokens")?;
    usage.output_tokens = tokens("gen_ai.usage.output_tokens")?;
    Ok(usage)
}

/// The report's path-analysis content, shared by every format.
pub fn to_json(a: &Analysis) -> Value {
    let rows = |items: Vec<&Metrics>| serde_json::to_value(items).unwrap_or(Value::Null);
    json!({
        "window": { "since_ns": a.window_since_ns, "until_ns": a.window_until_ns },
        "summary": {
            "requests": a.requests,
            "unique_paths": a.paths.len(),
            "nodes": a.nodes.len(),
            "spans": a.paths.iter().map(|p| p.calls).sum::<i64>(),
            "errors": a.paths.iter().map(|p| p.errors).sum::<i64>(),
            "registered_functions": a.registered.len(),
        },
        "hot_paths": rows(a.hot_paths(TOP)),
        "slow_paths": rows(a.slow_paths(TOP, 1)),
        "error_prone_paths": rows(a.error_paths(TOP)),
        "time_consumers": rows(a.time_consumers(TOP)),
        "never_executed": a.never_executed(),
        "opportunities": a.opportunities(),
    })
}

/// Renders the report of an analysis alone.
///
/// ```
/// use pathwise_analysis::report::{Format, render};
/// use pathwise_analysis::{Analysis, Window};
/// let dir = tempfile::tempdir().unwrap();
/// let db = dir.path().join("empty.db");
/// drop(pathwise_store_sqlite::SqliteStore::open(&db).unwrap());
/// let reader = pathwise_store_sqlite::SqliteReader::open(&db).unwrap();
/// let analysis = Analysis::load(&reader, Window::all()).unwrap();
/// assert!(render(&analysis, Format::Text).contains("No spans were recorded"));
/// ```
pub fn render(a: &Analysis, format: Format) -> String {
    Report::of(a.clone()).render(format)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// One row per path: the full metrics table.
fn csv(a: &Analysis) -> String {
    let mut out = String::from(
        "path,node,depth,calls,errors,error_rate,total_ms,self_ms,avg_ms,min_ms,max_ms,p50_ms,p95_ms,p99_ms,share_of_requests,share_of_time\n",
    );
    for p in &a.paths {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{:.6},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.6},{:.6}",
            csv_field(&p.key),
            csv_field(&p.node),
            p.depth.unwrap_or(0),
            p.calls,
            p.errors,
            p.error_rate,
            p.total_ms,
            p.self_ms,
            p.avg_ms,
            p.min_ms,
            p.max_ms,
            p.p50_ms,
            p.p95_ms,
            p.p99_ms,
            p.share_of_requests,
            p.share_of_time
        );
    }
    out
}
