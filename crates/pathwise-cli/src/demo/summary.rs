//! The report printed after a demo run: what the database now holds for this run, the
//! pipeline's counters, and the commands to try next.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use pathwise::PipelineStats;
use pathwise_model::TraceStatus;
use pathwise_store::{Cursor, TraceFilter, Window};

use super::workload::Tally;
use crate::DemoArgs;
use crate::error::{CliError, open_reader};

/// What the database holds for traces started during this run.
#[derive(Debug, Default)]
pub struct RunCounts {
    pub completed: u64,
    pub failed: u64,
    pub running: u64,
    pub decisions: u64,
    pub failed_decisions: u64,
    pub spans: u64,
    /// Failed spans by error type (short name), most frequent first.
    pub errors: Vec<(String, u64)>,
    /// A trace worth showing: the newest failed decision trace, else any failed, else newest.
    pub example: Option<String>,
}

/// Reads the counts of traces started at or after `since_ms`.
pub fn collect(db: &Path, since_ms: u64) -> Result<RunCounts, CliError> {
    let reader = open_reader(db)?;
    let store_error = |e: pathwise_store::StoreError| CliError::store(db, e);
    let since_ns = (since_ms as i64).saturating_mul(1_000_000);
    let mut counts = RunCounts::default();
    // Newest first, so the first match of each kind is the example to show.
    let (mut failed_decision, mut failed, mut newest) = (None, None, None);
    let mut filter = TraceFilter {
        since_ns: Some(since_ns),
        limit: 10_000,
        ..TraceFilter::default()
    };
    loop {
        let page = reader.list_traces(&filter).map_err(store_error)?;
        for t in &page.traces {
            let decision = t.name == "competitor-selection";
            match t.status {
                TraceStatus::Completed => counts.completed += 1,
                TraceStatus::Failed => counts.failed += 1,
                TraceStatus::Running => counts.running += 1,
            }
            if decision {
                counts.decisions += 1;
                counts.failed_decisions += u64::from(t.status == TraceStatus::Failed);
            }
            counts.spans += t.span_count.max(0) as u64;
            let id = t.trace_id.to_hex();
            if t.status == TraceStatus::Failed {
                if decision && failed_decision.is_none() {
                    failed_decision = Some(id.clone());
                }
                failed.get_or_insert_with(|| id.clone());
            }
            newest.get_or_insert(id);
        }
        match page.next_cursor.as_deref().and_then(Cursor::decode) {
            Some(cursor) => filter.cursor = Some(cursor),
            None => break,
        }
    }
    counts.example = failed_decision.or(failed).or(newest);

    let window = Window {
        since_ns,
        until_ns: i64::MAX,
    };
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    for path in reader.path_errors(window).map_err(store_error)? {
        for (name, n) in path.by_type {
            let short = name.rsplit("::").next().unwrap_or(&name).to_string();
            *by_type.entry(short).or_default() += n.max(0) as u64;
        }
    }
    counts.errors = by_type.into_iter().collect();
    counts
        .errors
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(counts)
}

/// The whole report.
pub fn render(
    args: &DemoArgs,
    elapsed: Duration,
    tally: &Tally,
    stats: &PipelineStats,
    counts: &RunCounts,
) -> String {
    let db = args.db.db.display().to_string();
    let mut out = String::new();
    let requests = tally.searches + tally.decisions + tally.crashed;
    let _ = writeln!(
        out,
        "Recorded {requests} requests in {:.1} s (seed {}) into {db}\n",
        elapsed.as_secs_f64(),
        args.seed
    );
    let traces = counts.completed + counts.failed + counts.running;
    let _ = writeln!(
        out,
        "  traces     {traces:>7}  {} completed, {} failed, {} running",
        counts.completed, counts.failed, counts.running
    );
    let _ = writeln!(
        out,
        "  searches   {:>7}  {} failed (empty query or a crashed source task)",
        tally.searches, tally.failed_searches
    );
    let _ = writeln!(
        out,
        "  decisions  {:>7}  competitor-selection, {} failed",
        counts.decisions, counts.failed_decisions
    );
    let _ = writeln!(out, "  spans      {:>7}  written", counts.spans);
    let error_total: u64 = counts.errors.iter().map(|(_, n)| n).sum();
    let by_type: Vec<String> = counts
        .errors
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let _ = writeln!(out, "  errors     {error_total:>7}  {}", by_type.join(", "));
    let _ = writeln!(
        out,
        "  pipeline            recorded {}, written {}, spilled {}, dropped {}, sampled out {}",
        stats.recorded, stats.written, stats.spilled, stats.dropped, stats.sampled_out
    );
    if tally.crashed > 0 {
        let _ = writeln!(
            out,
            "  warning: {} requests crashed outside any span",
            tally.crashed
        );
    }

    let db_flag = if args.db.db == Path::new("pathwise.db") {
        String::new()
    } else if db.contains(|c: char| c.is_whitespace() || c == '\'') {
        format!(" --db \"{}\"", db.replace('"', "\\\""))
    } else {
        format!(" --db {db}")
    };
    let _ = writeln!(out, "\nTry next:");
    let _ = writeln!(out, "  pathwise traces{db_flag}");
    let _ = writeln!(
        out,
        "  pathwise traces --status failed --q competitor{db_flag}"
    );
    match &counts.example {
        Some(id) => {
            let _ = writeln!(out, "  pathwise show {id}{db_flag}");
        }
        None => {
            let _ = writeln!(out, "  pathwise show <id>{db_flag}");
        }
    }
    out
}
