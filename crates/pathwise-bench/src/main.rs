//! Long-running measurements of Pathwise (see `BENCHMARKS.md`).
//!
//! - `throughput`: producers create bare spans flat out into a real SQLite file; persisted
//!   spans per second (including the final flush) and bytes per span on disk.
//! - `overload`: producers outrun the writer with a tiny in-memory queue for a long time; every
//!   record must still be stored (nothing dropped) and memory must stay bounded.
//! - `overhead`: a CPU-bound workload of nested `#[monitor]`ed calls, timed with recording off
//!   and with recording into SQLite.
//! - `generate`: a large, realistic database written straight through the store.
//! - `api`: latency of the trace-list and trace-detail routes of the real server over HTTP.
//! - `analytics`: latency of the analytics questions, in-process and over HTTP.
//! - `ingest`: OTLP/HTTP protobuf into a server process (Pathwise or another receiver).
//!
//! Each prints a small table and one JSON line (prefixed `json: `) for scripts.

mod analytics;
mod api;
mod clickhouse;
mod generate;
mod http;
mod ingest;
mod overhead;
mod overload;
mod payload;
mod report;
mod shared;
mod synth;
mod throughput;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pathwise-bench",
    about = "Long-running measurements of Pathwise"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Spans flat out into SQLite: persisted spans/s and bytes per span on disk.
    Throughput(throughput::Args),
    /// Producers outrun the writer for a long time: nothing may be lost, memory must stay bounded.
    Overload(overload::Args),
    /// A CPU-bound workload of nested monitored calls, recording off vs recording into SQLite.
    Overhead(overhead::Args),
    /// Writes a large, realistic database (deterministic for a seed) straight through the store.
    Generate(generate::Args),
    /// Trace list / detail / stats latency of the real server, over HTTP.
    Api(api::Args),
    /// Analytics latency for a 1 h and a 7 d window, in-process and over HTTP.
    Analytics(analytics::Args),
    /// OTLP/HTTP protobuf export into a receiver process: sustained and persisted spans/s,
    /// request latency, the receiver's peak RSS.
    Ingest(ingest::Args),
    /// The search service with captured arguments and results (a 10-field struct and a
    /// 100-character query in, a struct out): app-thread and background CPU per call against
    /// `tracing` + `tracing-opentelemetry` in the same run, and the file's bytes per request.
    Payload(payload::Args),
}

type BoxError = Box<dyn std::error::Error>;

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Throughput(args) => throughput::run(args),
        Command::Overload(args) => overload::run(args),
        Command::Overhead(args) => overhead::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Api(args) => api::run(args),
        Command::Analytics(args) => analytics::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Payload(args) => payload::run(args),
    };
    match result {
        Ok(report) => {
            report.print();
            if !report.ok {
                std::process::exit(2);
            }
        }
        Err(e) => {
            eprintln!("pathwise-bench: {e}");
            std::process::exit(1);
        }
    }
}
