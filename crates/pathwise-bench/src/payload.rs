//! `payload`: the planning documents' search service with its arguments and results captured
//! on every call — a request struct of ten fields and a 100-character query in, a struct out —
//! recorded by Pathwise into SQLite and, in the same run, by `tracing` + `tracing-opentelemetry`
//! (the arguments as `Debug` fields, the result with `ret`).
//!
//! What it reports, per contender, against the same workload with no instrumentation:
//! - CPU added to the application thread per monitored call;
//! - CPU of everything else in the process per span (Pathwise's writer and its other threads;
//!   the OpenTelemetry SDK's batch processor), from `getrusage` over the whole block including
//!   the final flush, minus the application thread's own;
//! - for Pathwise, the file's bytes per request, and whether every span was stored.

use pathwise_store::PipelineStats;
use pathwise_test_support::payload::{SearchRequest, request};
use std::hint::black_box;

use crate::BoxError;
use crate::report::{Report, median};
use crate::shared::{inspect_db, pipeline_rows, thread_sched_ns, while_recording};

#[derive(clap::Args)]
pub struct Args {
    /// Requests per timed block.
    #[arg(long, default_value_t = 20_000)]
    requests: u64,
    /// Rounds of (off, pathwise, tracing-otel) blocks; medians are reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

/// The service, generated once per contender with its instrumentation on each function.
macro_rules! service {
    ($module:ident $(, #[$attr:meta])?) => {
        pub mod $module {
            use pathwise_test_support::payload::{SearchRequest, SearchResponse, source_results};

            /// One request: three sources, then a ranking of what they found; four calls with
            /// captured values.
            $(#[$attr])?
            pub fn search(request: &SearchRequest, query: &str) -> SearchResponse {
                let mut all = geo(request, query);
                all.datasets.extend(pubmed(request, query).datasets);
                all.datasets.extend(arrayexpress(request, query).datasets);
                all.datasets.sort_by(|a, b| b.score.total_cmp(&a.score));
                all.datasets.truncate(request.limit as usize);
                all
            }

            $(#[$attr])?
            fn geo(request: &SearchRequest, query: &str) -> SearchResponse {
                source_results("GEO", request, query)
            }

            $(#[$attr])?
            fn pubmed(request: &SearchRequest, query: &str) -> SearchResponse {
                source_results("PubMed", request, query)
            }

            $(#[$attr])?
            fn arrayexpress(request: &SearchRequest, query: &str) -> SearchResponse {
                source_results("ArrayExpress", request, query)
            }
        }
    };
}

service!(plain);
service!(monitored, #[pathwise::monitor(group = "search")]);
service!(
    traced,
    #[tracing::instrument(level = "info", skip_all, fields(request = ?request, query = %query), ret(Debug))]
);

const CALLS_PER_REQUEST: u64 = 4;

#[derive(Clone, Copy, PartialEq)]
enum Contender {
    Off,
    Pathwise,
    TracingOtel,
}

/// CPU of a timed block: the application thread's while serving, and the rest of the
/// process's over the whole block (the recorder's background side, final flush included).
#[derive(Default, Clone, Copy)]
struct Block {
    app_ns: f64,
    background_ns: f64,
}

fn process_cpu_ns() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
    (us(usage.ru_utime) + us(usage.ru_stime)) * 1e3
}

fn serve(contender: Contender, requests: &[(SearchRequest, String)]) -> f64 {
    let (cpu0, _) = thread_sched_ns();
    for (request, query) in requests {
        let response = match contender {
            Contender::Off => plain::search(request, query),
            Contender::Pathwise => monitored::search(request, query),
            Contender::TracingOtel => traced::search(request, query),
        };
        black_box(response);
    }
    (thread_sched_ns().0 - cpu0) as f64
}

pub fn run(args: Args) -> Result<Report, BoxError> {
    let dir = tempfile::Builder::new()
        .prefix("pathwise-payload-")
        .tempdir()?;
    let db = dir.path().join("payload.db");
    let requests: Vec<_> = (0..args.requests).map(request).collect();
    let otel = pathwise_test_support::TracingOtel::new();
    let mut totals = PipelineStats::default();
    let mut blocks: [Vec<Block>; 3] = Default::default();
    serve(Contender::Off, &requests[..requests.len() / 4]); // warm-up
    for _ in 0..args.rounds.max(1) {
        for (slot, contender) in [Contender::Off, Contender::Pathwise, Contender::TracingOtel]
            .into_iter()
            .enumerate()
        {
            let (main0, _) = thread_sched_ns();
            let process0 = process_cpu_ns();
            let app_ns = match contender {
                Contender::Off => serve(contender, &requests),
                Contender::Pathwise => {
                    while_recording(&db, &[], &mut totals, || serve(contender, &requests))?.0
                }
                Contender::TracingOtel => {
                    let app = tracing::dispatcher::with_default(&otel.dispatch, || {
                        serve(contender, &requests)
                    });
                    otel.flush();
                    app
                }
            };
            let main_ns = (thread_sched_ns().0 - main0) as f64;
            blocks[slot].push(Block {
                app_ns,
                background_ns: (process_cpu_ns() - process0 - main_ns).max(0.0),
            });
        }
    }
    let calls = (args.requests * CALLS_PER_REQUEST) as f64;
    let made = args.requests * CALLS_PER_REQUEST * args.rounds.max(1) as u64;
    let off_app = median(blocks[0].iter().map(|b| b.app_ns));
    let off_background = median(blocks[0].iter().map(|b| b.background_ns));

    let mut report = Report::new("payload");
    report.int("requests per block", args.requests);
    report.int("rounds", args.rounds.max(1) as u64);
    report.int("captured calls per request", CALLS_PER_REQUEST);
    report.float(
        "off: µs/request app CPU (median)",
        off_app / 1e3 / args.requests as f64,
        2,
    );
    let mut per_call = [0.0; 2];
    for (i, (label, slot)) in [("pathwise", 1), ("tracing-otel", 2)]
        .into_iter()
        .enumerate()
    {
        let app = median(blocks[slot].iter().map(|b| b.app_ns));
        let background = median(blocks[slot].iter().map(|b| b.background_ns));
        per_call[i] = (app - off_app) / calls;
        report.float(
            format!("{label}: added app CPU ns per call"),
            per_call[i],
            0,
        );
        report.float(
            format!("{label}: background CPU ns per span"),
            (background - off_background) / calls,
            0,
        );
    }
    report.float(
        "pathwise / tracing-otel app CPU per call",
        per_call[0] / per_call[1],
        3,
    );
    pipeline_rows(&mut report, &totals);
    let facts = inspect_db(&db)?;
    report.int("span rows", facts.spans);
    report.check("every span stored", facts.spans == made);
    report.float(
        "database bytes per request",
        facts.file_bytes as f64 / (args.requests * args.rounds.max(1) as u64) as f64,
        0,
    );
    report.int("tracing-otel spans exported", otel.exported());
    report.int("tracing-otel spans made", made);
    report.goal("pathwise app CPU <= 1 µs per call", per_call[0] <= 1000.0);
    Ok(report)
}
