//! The report printed after a demo run: what the database now holds for this run, the
//! pipeline's counters, and the commands to try next.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use pathwise::PipelineStats;
use pathwise_model::{TraceId, TraceStatus};
use rusqlite::{OptionalExtension, params};

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

/// Reads the counts of traces whose id is at or after `since_ms` (ids start with the trace's
/// start time).
pub fn collect(db: &Path, since_ms: u64) -> Result<RunCounts, CliError> {
    let reader = open_reader(db)?;
    let conn = reader.connection();
    let bound = TraceId::lower_bound(since_ms).to_bytes();
    let sql_error = |e: rusqlite::Error| CliError::Failed(format!("reading {}: {e}", db.display()));
    let mut counts = RunCounts::default();

    let mut stmt = conn
        .prepare(
            "SELECT n.name, t.status, count(*) FROM traces t JOIN names n ON n.id = t.name_id
             WHERE t.trace_id >= ?1 GROUP BY n.name, t.status",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map(params![bound], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u8>(1)?,
                row.get::<_, i64>(2)? as u64,
            ))
        })
        .map_err(sql_error)?;
    for row in rows {
        let (name, status, n) = row.map_err(sql_error)?;
        let status = TraceStatus::from_code(status).unwrap_or(TraceStatus::Running);
        match status {
            TraceStatus::Completed => counts.completed += n,
            TraceStatus::Failed => counts.failed += n,
            TraceStatus::Running => counts.running += n,
        }
        if name == "competitor-selection" {
            counts.decisions += n;
            counts.failed_decisions += if status == TraceStatus::Failed { n } else { 0 };
        }
    }

    counts.spans = conn
        .query_row(
            "SELECT count(*) FROM spans WHERE trace_id >= ?1",
            params![bound],
            |row| row.get::<_, i64>(0),
        )
        .map_err(sql_error)? as u64;

    let mut stmt = conn
        .prepare(
            "SELECT e.name, count(*) FROM spans s JOIN names e ON e.id = s.error_type_id
             WHERE s.trace_id >= ?1 GROUP BY e.name ORDER BY count(*) DESC, e.name",
        )
        .map_err(sql_error)?;
    let rows = stmt
        .query_map(params![bound], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
        })
        .map_err(sql_error)?;
    for row in rows {
        let (name, n) = row.map_err(sql_error)?;
        let short = name.rsplit("::").next().unwrap_or(&name).to_string();
        counts.errors.push((short, n));
    }

    counts.example = conn
        .query_row(
            "SELECT lower(hex(t.trace_id)) FROM traces t JOIN names n ON n.id = t.name_id
             WHERE t.trace_id >= ?1
             ORDER BY (n.name = 'competitor-selection' AND t.status = 2) DESC, t.status = 2 DESC,
                      t.start_ns DESC
             LIMIT 1",
            params![bound],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error)?;
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
