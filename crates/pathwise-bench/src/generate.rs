//! `generate`: a large, realistic database, written straight through `SqliteStore` (the
//! pipeline's writer does the same calls) in batches, with rollups maintained as it writes.
//! Deterministic for a seed and an end time.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pathwise_model::{Record, Status, TraceId};
use pathwise_store::{Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;

use crate::BoxError;
use crate::report::Report;
use crate::shared::{db_location, inspect_db, thread_sched_ns};
use crate::synth::{self, Paths, Rng, TraceBuilder, expected};

#[derive(clap::Args)]
pub struct Args {
    /// Database file to create; an existing file (and its -wal/-shm) is replaced.
    #[arg(long)]
    db: PathBuf,
    /// Traces to write, including the big one.
    #[arg(long, default_value_t = 1_000_000)]
    traces: u64,
    /// Spans to aim for in total (the generator steers toward it; the exact count is printed).
    #[arg(long, default_value_t = 10_000_000)]
    spans: u64,
    /// Trace start times are spread uniformly over this many days before `--end-ms`.
    #[arg(long, default_value_t = 7.0)]
    days: f64,
    /// Spans of the one big trace (`BatchReindex.run`, 30 minutes before the end); 0 = none.
    #[arg(long, default_value_t = 10_000)]
    big_trace_spans: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// End of the time range in Unix milliseconds (default: now).
    #[arg(long)]
    end_ms: Option<u64>,
    /// Records per `write_batch` (one transaction each).
    #[arg(long, default_value_t = 20_000)]
    batch: usize,
    /// Do not maintain rollups while writing (to measure what they cost).
    #[arg(long)]
    no_rollups: bool,
}

/// Shares of the regular traces.
const SEARCH_SHARE: f64 = 0.60;
const INGEST_SHARE: f64 = 0.20;
const HEALTH_SHARE: f64 = 0.15;
const COMPETITOR_SHARE: f64 = 0.05;

/// What the writer thread did.
struct Written {
    spans: u64,
    error_spans: u64,
    records: u64,
    batches: u64,
    elapsed: Duration,
    /// On-CPU time of the writer thread (not counting waits for a core).
    cpu: Duration,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The writer thread: every batch through `Store::write_batch`, with progress on stderr.
fn write_all(
    mut store: SqliteStore,
    rx: mpsc::Receiver<Vec<Record>>,
    target: u64,
) -> Result<(SqliteStore, Written), pathwise_store::StoreError> {
    let start = Instant::now();
    let cpu0 = thread_sched_ns().0;
    let mut w = Written {
        spans: 0,
        error_spans: 0,
        records: 0,
        batches: 0,
        elapsed: Duration::ZERO,
        cpu: Duration::ZERO,
    };
    let mut next_report = target / 20;
    for batch in rx {
        let records = WriteBatch {
            records: &batch,
            ..WriteBatch::EMPTY
        };
        store.write_batch(&records, &Paths)?;
        for record in &batch {
            if let Record::Span(span) = record {
                w.spans += 1;
                w.error_spans += u64::from(span.status == Status::Error);
            }
        }
        w.records += batch.len() as u64;
        w.batches += 1;
        if w.spans >= next_report {
            let s = start.elapsed().as_secs_f64();
            eprintln!(
                "generate: {:>11} spans ({:>3.0} %) in {:>6.1} s, {:>7.0} spans/s",
                w.spans,
                w.spans as f64 * 100.0 / target.max(1) as f64,
                s,
                w.spans as f64 / s
            );
            next_report += (target / 20).max(1);
        }
    }
    w.elapsed = start.elapsed();
    w.cpu = Duration::from_nanos(thread_sched_ns().0.saturating_sub(cpu0));
    Ok((store, w))
}

pub fn run(args: Args) -> Result<Report, BoxError> {
    let (db_path, _) = db_location(Some(args.db.clone()))?;
    let end_ms = args.end_ms.unwrap_or_else(now_ms);
    let range_ms = (args.days * 86_400_000.0).round().max(1.0) as u64;
    let begin_ns = (end_ms.saturating_sub(range_ms)) as f64 * 1e6;
    let traces = args.traces.max(1);
    let step_ns = range_ms as f64 * 1e6 / traces as f64;
    let big_spans = args.big_trace_spans;
    // The big trace starts about 30 minutes before the end (inside a 1 h window).
    let big_index = (big_spans > 0).then(|| {
        let from_end = (1_800_000.0 / range_ms as f64 * traces as f64) as u64;
        traces.saturating_sub(from_end.max(1))
    });
    let regular_traces = traces - u64::from(big_index.is_some());
    let regular_budget = args.spans.saturating_sub(big_spans);

    let mut store = SqliteStore::open(&db_path)?;
    store.set_rollups(!args.no_rollups);
    store.register_functions(&synth::functions())?;

    let (tx, rx) = mpsc::sync_channel::<Vec<Record>>(4);
    let target = args.spans;
    let writer = thread::Builder::new()
        .name("generate-writer".into())
        .spawn(move || write_all(store, rx, target))?;

    let started = Instant::now();
    let mut rng = Rng::new(args.seed);
    let mut batch: Vec<Record> = Vec::with_capacity(args.batch + 1024);
    let (mut regular_done, mut regular_spans) = (0u64, 0u64);
    let mut shapes = [0u64; 4]; // search, ingest, health, competitor
    let mut big: Option<(TraceId, u64)> = None;
    for i in 0..traces {
        let start_ns = (begin_ns + (i as f64 + rng.unit()) * step_ns) as i64;
        let mut t = TraceBuilder::new(&mut rng, (start_ns / 1_000_000) as u64, &mut batch);
        if Some(i) == big_index {
            t.big(start_ns, big_spans);
            big = Some((t.id, t.spans));
        } else {
            // Steer the variable parts (scores per search, records per ingest) so that the
            // remaining traces land on the remaining span budget.
            let left = (regular_traces - regular_done).max(1) as f64;
            let want = regular_budget.saturating_sub(regular_spans) as f64 / left;
            let per_tree = (want - HEALTH_SHARE - COMPETITOR_SHARE * expected::COMPETITOR)
                / (SEARCH_SHARE + INGEST_SHARE);
            let shape = t.rng.unit();
            let kind = if shape < SEARCH_SHARE {
                let scores = t.rng.count_around(per_tree - expected::SEARCH_FIXED);
                t.search(start_ns, scores);
                0
            } else if shape < SEARCH_SHARE + INGEST_SHARE {
                let records = t.rng.count_around(per_tree - expected::INGEST_FIXED);
                t.ingest(start_ns, records);
                1
            } else if shape < SEARCH_SHARE + INGEST_SHARE + HEALTH_SHARE {
                t.health(start_ns);
                2
            } else {
                t.competitor(start_ns);
                3
            };
            shapes[kind] += 1;
            regular_spans += t.spans;
            regular_done += 1;
        }
        if batch.len() >= args.batch {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(args.batch + 1024));
            if tx.send(full).is_err() {
                break; // the writer failed; its error is reported below
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.send(batch);
    }
    drop(tx);
    let (store, written) = writer.join().map_err(|_| "writer thread panicked")??;
    let generated = started.elapsed();
    drop(store);

    let checkpoint = Instant::now();
    let facts = inspect_db(&db_path)?;
    let inspect = checkpoint.elapsed();
    let conn = rusqlite::Connection::open(&db_path)?;
    let count = |sql: &str| {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
    };
    let failed = count("SELECT count(*) FROM traces WHERE status = 2")?;
    let details = count("SELECT count(*) FROM span_details")?;
    let minute_rows = count("SELECT count(*) FROM rollup_minute")?;
    let hour_rows = count("SELECT count(*) FROM rollup_hour")?;

    let mut report = Report::new("generate");
    report.int("seed", args.seed);
    report.int("end ms", end_ms);
    report.float("days", args.days, 2);
    report.text("rollups", if args.no_rollups { "off" } else { "on" });
    report.int("batch records", args.batch as u64);
    report.int("traces", facts.traces);
    report.text(
        "traces: search / ingest / health / competitor",
        format!(
            "{} / {} / {} / {}",
            shapes[0], shapes[1], shapes[2], shapes[3]
        ),
    );
    report.int("failed traces", failed);
    report.float("failed traces %", failed as f64 * 100.0 / traces as f64, 2);
    report.int("spans", facts.spans);
    report.float(
        "error spans %",
        written.error_spans as f64 * 100.0 / written.spans.max(1) as f64,
        2,
    );
    report.int("span_details rows", details);
    if let Some((id, spans)) = big {
        report.text("big trace id", id.to_hex());
        report.int("big trace spans", spans);
    }
    report.int("records written", written.records);
    report.int("batches", written.batches);
    report.int("rollup_minute rows", minute_rows);
    report.int("rollup_hour rows", hour_rows);
    report.float("generate + write s", generated.as_secs_f64(), 1);
    report.float("writer busy s", written.elapsed.as_secs_f64(), 1);
    report.float("writer CPU s", written.cpu.as_secs_f64(), 2);
    report.float(
        "writer CPU ns/span",
        written.cpu.as_secs_f64() * 1e9 / written.spans.max(1) as f64,
        0,
    );
    let secs = generated.as_secs_f64();
    report.float("spans/s", written.spans as f64 / secs, 0);
    report.float("records/s", written.records as f64 / secs, 0);
    report.float("checkpoint + inspect s", inspect.as_secs_f64(), 1);
    report.int("db bytes (checkpointed)", facts.file_bytes);
    report.float(
        "bytes/span (whole file)",
        facts.file_bytes as f64 / facts.spans.max(1) as f64,
        1,
    );
    let per = |b: u64| b as f64 / facts.spans.max(1) as f64;
    report.float("bytes/span: spans table", per(facts.spans_table_bytes), 1);
    report.float("bytes/span: traces + indexes", per(facts.traces_bytes), 1);
    report.float("bytes/span: other", per(facts.other_bytes), 1);
    let largest: Vec<String> = facts
        .by_table
        .iter()
        .take(6)
        .map(|(name, bytes)| format!("{name} {:.0} MB", *bytes as f64 / 1e6))
        .collect();
    report.text("largest tables/indexes", largest.join(", "));
    report.check("every span stored", facts.spans == written.spans);
    Ok(report)
}
