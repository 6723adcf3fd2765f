//! `api`: latency of the trace routes of the real server over HTTP, on a large database
//! (made by `generate`): the trace list (first page, a deep page, filters), the detail of a
//! 10,000-span trace, lazy loading of a collapsed subtree, and the stats.

use std::path::PathBuf;

use pathwise_model::TraceId;

use crate::BoxError;
use crate::http::LiveServer;
use crate::report::{Latencies, Report};

#[derive(clap::Args)]
pub struct Args {
    /// Database to serve (see `generate`).
    #[arg(long)]
    db: PathBuf,
    /// Timed requests per route (after 5 untimed ones).
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Pages of 50 traces to follow before timing the deep page.
    #[arg(long, default_value_t = 200)]
    depth: usize,
    /// The big trace to open (default: the trace with the most spans).
    #[arg(long)]
    trace: Option<String>,
}

/// The goal for a page of the trace list.
const LIST_GOAL_MS: f64 = 50.0;
const WARMUP: usize = 5;

fn list_row(report: &mut Report, label: &str, l: &Latencies) {
    report.latency(label, l);
    report.goal(
        format!("goal: {label} p95 <= {LIST_GOAL_MS} ms"),
        l.p95_ms() <= LIST_GOAL_MS,
    );
}

pub fn run(args: Args) -> Result<Report, BoxError> {
    let (big, traces) = {
        // Picking the largest trace is a question about this SQLite file, not an API call.
        let conn = rusqlite::Connection::open_with_flags(
            &args.db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let big = match &args.trace {
            Some(hex) => TraceId::parse_hex(hex).ok_or("--trace: a trace id is 32 hex digits")?,
            None => {
                let bytes: Vec<u8> = conn.query_row(
                    "SELECT trace_id FROM traces ORDER BY span_count DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )?;
                TraceId::from_bytes(&bytes).ok_or("malformed trace id")?
            }
        };
        let traces: i64 = conn.query_row("SELECT count(*) FROM traces", [], |r| r.get(0))?;
        (big, traces as u64)
    };
    let server = LiveServer::start(&args.db)?;
    let n = args.requests.max(1);
    let mut report = Report::new("api");
    report.int("traces in db", traces);

    // The list: first page, then follow the cursor `depth` pages down and time that page.
    let first = server.time("/api/traces?limit=50", n, WARMUP)?;
    list_row(&mut report, "list first page", &first);
    let mut cursor: Option<String> = None;
    let mut walk = Latencies::default();
    let mut pages = 0;
    for _ in 0..args.depth {
        let path = match &cursor {
            Some(c) => format!("/api/traces?limit=50&cursor={c}"),
            None => "/api/traces?limit=50".to_string(),
        };
        let page = server.get(&path)?;
        walk.push(page.elapsed);
        pages += 1;
        cursor = page.json()?["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    report.latency(&format!("list: walking {pages} pages, each page"), &walk);
    if let Some(c) = &cursor {
        let deep = server.time(&format!("/api/traces?limit=50&cursor={c}"), n, WARMUP)?;
        list_row(
            &mut report,
            &format!("list page {} (cursor)", pages + 1),
            &deep,
        );
    }
    // The filters, then two selective ones that match few or no traces (none is
    // running; one lasted 20 s or more): the worst case for a newest-first index walk.
    for filter in [
        "status=failed",
        "q=competitor",
        "since=1h",
        "status=running",
        "min_ms=20000",
    ] {
        let l = server.time(&format!("/api/traces?limit=50&{filter}"), n, WARMUP)?;
        list_row(&mut report, &format!("list {filter}"), &l);
    }
    // The list page's stat cards follow its filters: the same selective filter, counted.
    let l = server.time("/api/stats?min_ms=20000", n, WARMUP)?;
    report.latency("stats min_ms=20000", &l);

    // The detail of the big trace (default max_spans 2000) and one of its collapsed subtrees.
    let detail_path = format!("/api/traces/{}", big.to_hex());
    let detail = server.get(&detail_path)?;
    let v = detail.json()?;
    let spans = v["spans"].as_array().cloned().unwrap_or_default();
    report.text("big trace", big.to_hex());
    report.int("big trace spans", v["total_spans"].as_u64().unwrap_or(0));
    report.int("detail: spans sent", spans.len() as u64);
    report.int("detail: response bytes", detail.body.len() as u64);
    let l = server.time(&detail_path, n, WARMUP)?;
    report.latency("detail of big trace", &l);
    let loaded: std::collections::HashSet<&str> = spans
        .iter()
        .filter_map(|s| s["parent_id"].as_str())
        .collect();
    let collapsed = spans.iter().find(|s| {
        s["child_count"].as_u64().unwrap_or(0) > 0
            && s["span_id"].as_str().is_some_and(|id| !loaded.contains(id))
    });
    if let Some(span) = collapsed {
        let parent = span["span_id"].as_str().unwrap_or("0");
        let path = format!("/api/traces/{}/spans?parent={parent}", big.to_hex());
        let children = server.get(&path)?;
        let count = children.json()?["spans"].as_array().map_or(0, Vec::len);
        report.int("children: spans sent", count as u64);
        let l = server.time(&path, n, WARMUP)?;
        report.latency("children of a collapsed span", &l);
    }
    // A typical trace, the newest one, for comparison.
    let newest = server.get("/api/traces?limit=1")?.json()?;
    if let Some(id) = newest["traces"][0]["trace_id"].as_str() {
        let l = server.time(&format!("/api/traces/{id}"), n, WARMUP)?;
        report.latency("detail of the newest trace", &l);
    }
    let l = server.time("/api/stats?since=24h", n, WARMUP)?;
    report.latency("stats since=24h", &l);
    Ok(report)
}
