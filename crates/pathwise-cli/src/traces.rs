//! `pathwise traces`: the most recent traces as an aligned table (or JSON).

use pathwise_model::TraceStatus;
use pathwise_store::query::Query;
use pathwise_store::{TraceFilter, TraceOrder, TraceSummary};

use crate::error::{CliError, open_reader};
use crate::format::{cell, emit, ms, utc_iso};
use crate::{SortArg, StatusArg, TracesArgs};

impl From<StatusArg> for TraceStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Running => TraceStatus::Running,
            StatusArg::Completed => TraceStatus::Completed,
            StatusArg::Failed => TraceStatus::Failed,
        }
    }
}

impl From<SortArg> for TraceOrder {
    fn from(sort: SortArg) -> Self {
        match sort {
            SortArg::Newest => TraceOrder::Newest,
            SortArg::Oldest => TraceOrder::Oldest,
            SortArg::Slowest => TraceOrder::Slowest,
            SortArg::Fastest => TraceOrder::Fastest,
        }
    }
}

/// Runs `pathwise traces`.
pub fn run(args: &TracesArgs) -> Result<(), CliError> {
    let db = &args.db.db;
    let query = match &args.where_query {
        Some(text) => Some(
            Query::parse(text, crate::perf::now_ns())
                .map_err(|e| CliError::Input(format!("--where: {e}\n{}", e.caret(text))))?,
        ),
        None => None,
    };
    let reader = open_reader(db)?;
    let filter = TraceFilter {
        status: args.status.map(Into::into),
        name_contains: args.q.clone().filter(|q| !q.is_empty()),
        query,
        limit: args.limit as usize,
        order: args.sort.into(),
        ..TraceFilter::default()
    };
    let page = reader
        .list_traces(&filter)
        .map_err(|e| CliError::store(db, e))?;
    if args.json {
        let text = serde_json::to_string_pretty(&page)
            .map_err(|e| CliError::Failed(format!("cannot encode JSON: {e}")))?;
        return emit(&format!("{text}\n"));
    }
    if page.traces.is_empty() {
        eprintln!("no traces match");
        return Ok(());
    }
    emit(&table(&page.traces))
}

/// Width of the name column.
const NAME_WIDTH: usize = 28;

/// The header line and one line per trace, columns aligned.
fn table(traces: &[TraceSummary]) -> String {
    let rows: Vec<[String; 7]> = traces
        .iter()
        .map(|t| {
            [
                t.trace_id.to_hex(),
                cell(&t.name, NAME_WIDTH),
                utc_iso(t.start_ns),
                t.duration_ns.map_or_else(|| "-".to_string(), ms),
                t.status.as_str().to_string(),
                t.span_count.to_string(),
                t.error_count.to_string(),
            ]
        })
        .collect();
    let header = [
        "ID",
        "NAME",
        "START (UTC)",
        "DURATION MS",
        "STATUS",
        "SPANS",
        "ERRORS",
    ];
    // Numbers are right-aligned, text left-aligned.
    let right = [false, false, false, true, false, true, true];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, value) in widths.iter_mut().zip(row) {
            *w = (*w).max(value.chars().count());
        }
    }
    let line = |values: &[String]| {
        let cells: Vec<String> = values
            .iter()
            .zip(&widths)
            .zip(right)
            .map(|((v, &w), r)| {
                if r {
                    format!("{v:>w$}")
                } else {
                    format!("{v:<w$}")
                }
            })
            .collect();
        format!("{}\n", cells.join("  ").trim_end())
    };
    let mut out = line(&header.map(String::from));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::TraceId;

    #[test]
    fn columns_line_up() {
        let trace = |name: &str, duration: Option<i64>| TraceSummary {
            trace_id: TraceId(7),
            name: name.into(),
            start_ns: 0,
            end_ns: None,
            duration_ns: duration,
            status: TraceStatus::Completed,
            span_count: 12,
            error_count: 0,
            metadata: None,
        };
        let text = table(&[
            trace("a", Some(1_000_000)),
            trace("SearchService.search", None),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let status_at = lines[0].find("STATUS").unwrap();
        assert!(
            lines[1..]
                .iter()
                .all(|l| l[status_at..].starts_with("completed"))
        );
    }
}
