//! `analytics`: how long each analytics question takes over a large database, for a 1-hour
//! and a 7-day window: in-process (`Analysis::load` plus the question, as every API route
//! does it) and through the HTTP routes of the real server.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pathwise_analysis::{Analysis, Window};
use pathwise_store_sqlite::SqliteReader;

use crate::BoxError;
use crate::http::{LiveServer, adapt_runs};
use crate::report::{Latencies, Report};

#[derive(clap::Args)]
pub struct Args {
    /// Database to analyse (see `generate`).
    #[arg(long)]
    db: PathBuf,
    /// Timed runs per question and window (after one untimed run).
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Span attribute for the error-patterns question.
    #[arg(long, default_value = "host")]
    attr: String,
    /// In-process only.
    #[arg(long)]
    no_http: bool,
}

/// The goal for one analytics question.
const GOAL_MS: f64 = 100.0;
const WINDOWS: [(&str, u64); 2] = [("1h", 3_600), ("7d", 7 * 86_400)];

type Question = (&'static str, fn(&Analysis) -> usize);

/// The questions answered from a loaded window (the result's size is returned so that the
/// work cannot be optimised away).
const QUESTIONS: [Question; 8] = [
    ("hot_paths", |a| a.hot_paths(20).len()),
    ("slow_paths", |a| a.slow_paths(20, 1).len()),
    ("error_paths", |a| a.error_paths(20).len()),
    ("time_consumers", |a| a.time_consumers(20).len()),
    ("never_executed", |a| a.never_executed().len()),
    ("opportunities", |a| a.opportunities().len()),
    ("dependency_graph", |a| {
        pathwise_analysis::dependency_graph(a).len()
    }),
    ("window_flamegraph_svg", |a| {
        pathwise_analysis::window_flamegraph_svg(a).map_or(0, |svg| svg.len())
    }),
];

/// The HTTP routes, each with a `since=` appended.
const ROUTES: [&str; 9] = [
    "/api/nodes?",
    "/api/paths/hot?",
    "/api/paths/slow?",
    "/api/paths/errors?",
    "/api/consumers?",
    "/api/unused?",
    "/api/graph?",
    "/api/flamegraph.svg?",
    "/api/error-patterns?attr={attr}&",
];

/// `label: p50 / p95 / max` with the goal verdict; returns whether the goal was met.
fn row(report: &mut Report, label: &str, l: &Latencies, extra: &str) -> bool {
    let met = l.p95_ms() <= GOAL_MS;
    report.text(
        format!("{label}: p50 / p95 / max ms"),
        format!(
            "{:.1} / {:.1} / {:.1} (n={}){extra}{}",
            l.p50_ms(),
            l.p95_ms(),
            l.max_ms(),
            l.len(),
            if met { "" } else { "  > goal" }
        ),
    );
    met
}

fn in_process(
    report: &mut Report,
    reader: &SqliteReader,
    label: &str,
    span: Duration,
    runs: usize,
    attr: &str,
) -> Result<(), BoxError> {
    let conn = reader;
    let warm = Instant::now();
    let a = Analysis::load(conn, Window::last(span))?;
    let runs = adapt_runs(runs, warm.elapsed());
    report.int(format!("{label}: paths in window"), a.paths.len() as u64);
    report.int(format!("{label}: requests (root calls)"), a.requests as u64);
    let mut loads = Latencies::default();
    let mut questions = vec![(Latencies::default(), Latencies::default()); QUESTIONS.len()];
    for _ in 0..runs {
        let start = Instant::now();
        let a = Analysis::load(conn, Window::last(span))?;
        let load = start.elapsed();
        loads.push(load);
        for ((_, question), (total, alone)) in QUESTIONS.iter().zip(&mut questions) {
            let start = Instant::now();
            black_box(question(black_box(&a)));
            let q = start.elapsed();
            total.push(load + q);
            alone.push(q);
        }
    }
    let mut all_met = row(report, &format!("{label} Analysis::load"), &loads, "");
    for ((name, _), (total, alone)) in QUESTIONS.iter().zip(&questions) {
        let extra = format!(", question alone p50 {:.2}", alone.p50_ms());
        all_met &= row(report, &format!("{label} load + {name}"), total, &extra);
    }
    let warm = Instant::now();
    pathwise_analysis::error_patterns(conn, Window::last(span), attr)?;
    let mut patterns = Latencies::default();
    for _ in 0..adapt_runs(runs, warm.elapsed()) {
        let start = Instant::now();
        let p = pathwise_analysis::error_patterns(conn, Window::last(span), attr)?;
        patterns.push(start.elapsed());
        black_box(p);
    }
    let met = row(
        report,
        &format!("{label} error_patterns({attr})"),
        &patterns,
        "",
    );
    all_met &= met;
    report.goal(
        format!("goal: every question p95 <= {GOAL_MS} ms ({label}, in-process)"),
        all_met,
    );
    Ok(())
}

pub fn run(args: Args) -> Result<Report, BoxError> {
    let mut report = Report::new("analytics");
    let reader = SqliteReader::open(&args.db)?;
    report.int("runs per question", args.runs as u64);
    for (label, secs) in WINDOWS {
        let span = Duration::from_secs(secs);
        in_process(&mut report, &reader, label, span, args.runs, &args.attr)?;
    }
    drop(reader);
    if args.no_http {
        return Ok(report);
    }
    let server = LiveServer::start(&args.db)?;
    for (label, _) in WINDOWS {
        let mut all_met = true;
        for route in ROUTES {
            let path = format!("{}since={label}", route.replace("{attr}", &args.attr));
            let l = server.time(&path, args.runs, 1)?;
            let name = path.split('?').next().unwrap_or(&path);
            all_met &= row(&mut report, &format!("http {label} {name}"), &l, "");
        }
        report.goal(
            format!("goal: every route p95 <= {GOAL_MS} ms ({label}, HTTP)"),
            all_met,
        );
    }
    Ok(report)
}
