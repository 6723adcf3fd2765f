//! `pathwise`: run a demo workload and look at what Pathwise recorded, from the terminal.
//!
//! Exit codes (see [`error::CliError`]):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the request was valid but failed: unknown trace id, a store or recording error |
//! | 2 | bad input: a usage error (from clap), a malformed trace id, a missing or foreign database |

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod alerts;
mod db;
mod demo;
mod error;
mod format;
mod keys;
mod loadtest;
mod migrate;
mod perf;
mod projects;
mod report;
mod scaling;
mod schedule;
mod schema;
mod serve;
mod show;
mod sql;
mod traces;

/// Record every path through your code and every decision in it.
#[derive(Debug, Parser)]
#[command(
    name = "pathwise",
    version,
    after_help = "Exit codes: 0 success, 1 failed (e.g. unknown trace id), 2 bad input (usage, malformed id, missing database)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a built-in, seeded workload (a dataset search service and a decision pipeline)
    /// and record it.
    Demo(DemoArgs),
    /// List recent traces.
    Traces(TracesArgs),
    /// Show one trace as a tree of spans.
    Show(ShowArgs),
    /// Serve the JSON API and the web dashboard.
    Serve(ServeArgs),
    /// Print the execution path analysis report: hot, slow and error-prone paths, time
    /// consumers, never-executed functions and optimisation opportunities.
    Report(ReportArgs),
    /// Print the whole monitoring state as JSON: operations, baselines, shifts, health.
    Snapshot(SnapshotArgs),
    /// List, learn, pin, unpin or accept per-operation latency baselines.
    Baseline(BaselineArgs),
    /// Check an alert rules file, or list active alerts and their history.
    Alerts(AlertsArgs),
    /// Copy everything from one store to another (e.g. a SQLite file into a ClickHouse
    /// cluster): resumable, with progress, counts verified at the end.
    Migrate(MigrateArgs),
    /// Create, list or revoke API keys (scopes: ingest, read, admin). Once a key exists, the
    /// server asks every request for a key (or its --token).
    Keys(KeysArgs),
    /// Print the ClickHouse tables Pathwise creates (for review, or to create them by hand).
    Schema(SchemaArgs),
    /// Run a read-only SQL query against the store, in its own dialect. On SQLite, payload
    /// columns (input, output, metadata, reasoning, error_chain) are compressed: read them
    /// with `pw_text(column)` or from the `span_details_v` view.
    Sql(SqlArgs),
    /// How much room the store takes and what it holds (`stats`), or give the space that
    /// retention freed back to the file system (`vacuum`).
    Db(DbArgs),
    /// Drive the demo's sized work (or a command after `--`) at increasing sizes and
    /// concurrency, record it, and print how the chosen nodes' cost grows with size: the
    /// growth exponent (≈ O(n^1.9)) with its 95 % interval, super-linear growth flagged.
    Loadtest(loadtest::LoadtestArgs),
}

/// Options of `pathwise db`.
#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
    #[command(flatten)]
    pub db: ActionDbArg,
}

/// `pathwise db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Size on disk, data and free space, how space is given back, the oldest and newest
    /// trace, and the rows of the main tables (counting them reads each table once).
    Stats {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Give space freed by retention back to the file system: an incremental vacuum on
    /// SQLite; `--full` rewrites the whole file, which also turns incremental vacuum on for a
    /// file made before it was the default. ClickHouse gives space back by itself.
    Vacuum {
        /// Rewrite the whole file (needs free disk space as large as the file).
        #[arg(long)]
        full: bool,
    },
}

/// Options of `pathwise sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// One read-only statement, e.g. `SELECT name, pw_text(output) FROM span_details d JOIN
    /// spans s USING (trace_id, span_id) JOIN names n ON n.id = s.name_id LIMIT 5`.
    pub query: String,
    /// `table`, `tsv` (tab-separated, `\N` for NULL) or `json`.
    #[arg(long, default_value = "table", value_parser = ["table", "tsv", "json"])]
    pub format: String,
    /// Print at most this many rows.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_rows: u32,
    /// Stop the query after this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub db: DbArg,
}

/// Options of `pathwise schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The server generation: `modern` (19.x and later) or `legacy` (18.14–18.16).
    #[arg(long, default_value = "modern", value_parser = ["modern", "legacy"])]
    pub variant: String,
    /// The database the tables go in.
    #[arg(long, default_value = "pathwise")]
    pub database: String,
    /// A cluster: local tables on every shard plus Distributed tables over them.
    #[arg(long)]
    pub cluster: Option<String>,
}

/// Options of `pathwise keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
    #[command(flatten)]
    pub db: ActionDbArg,
}

/// `pathwise keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key and print it (once).
    Create {
        /// What the key is for, e.g. the sending service.
        #[arg(long)]
        name: String,
        /// ingest, read or admin (repeatable).
        #[arg(long, required = true)]
        scope: Vec<String>,
        /// A project the key may reach (repeatable); none: every project of the server.
        #[arg(long)]
        project: Vec<String>,
    },
    /// Every key with its scopes, last use and use count.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

/// Options of `pathwise migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The store to copy from (`sqlite:PATH`, a path, or `clickhouse://…`).
    #[arg(long, value_name = "STORE")]
    pub from: PathBuf,
    /// The store to copy into (created if it does not exist).
    #[arg(long, value_name = "STORE")]
    pub to: PathBuf,
    /// Where progress is kept, so an interrupted copy resumes where it stopped.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "pathwise-migrate.checkpoint"
    )]
    pub checkpoint: PathBuf,
    /// Traces per batch.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
}

/// Options of `pathwise alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub action: AlertsAction,
    #[command(flatten)]
    pub db: ActionDbArg,
}

/// What `pathwise alerts` does.
#[derive(Debug, Subcommand)]
pub enum AlertsAction {
    /// Validate a rules file: prints each rule, or the line and reason of the first error.
    Check { file: PathBuf },
    /// Active alerts and the latest history, as recorded by the engine.
    List {
        /// History rows to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// Options of `pathwise snapshot`: the window options of `/api/snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// The instant to evaluate: RFC 3339 (`2026-05-01T12:00:00Z`) or Unix milliseconds;
    /// now by default.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Seconds of the recent window compared with the baseline (10–86400; default 60).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub recent_s: Option<u64>,
    /// Hours of history the baseline is learned from (1–2160; default 24).
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u64).range(1..=2160))]
    pub baseline_h: Option<u64>,
}

/// Options of `pathwise baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub action: BaselineAction,
    #[command(flatten)]
    pub db: ActionDbArg,
}

/// What `pathwise baseline` does.
#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// The baseline in force per operation.
    List,
    /// Learn (a new version of) every unpinned baseline, or only NAME's.
    Learn { name: Option<String> },
    /// Keep NAME's newest baseline whatever is learned later.
    Pin { name: String },
    /// Let NAME's baseline follow new learning again.
    Unpin { name: String },
    /// Accept NAME's shifted latency as its new normal: store a baseline learned from the
    /// calls since the shift began (pinned if the previous one was), so it is no longer flagged.
    Accept { name: String },
}

/// Options of `pathwise report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Only the last DURATION (e.g. 15m, 1h, 7d); everything by default.
    #[arg(long, value_name = "DURATION", conflicts_with = "period")]
    pub since: Option<String>,
    /// The last whole day, week (Monday to Monday) or month, in UTC: what the scheduled
    /// reports of `pathwise serve --reports` cover.
    #[arg(long, value_parser = ["day", "week", "month"])]
    pub period: Option<String>,
    /// text, json, html (one self-contained file) or csv (one row per path).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "html", "csv"])]
    pub format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Error patterns by this span attribute (repeatable); by default the three attributes of
    /// the window that failed spans carry most.
    #[arg(long, value_name = "KEY")]
    pub attr: Vec<String>,
    /// A scaling section for NODE (repeatable): how its duration grows with the size of its
    /// calls in FIELD (an attribute, or input.<argument>), a log-log fit over its newest
    /// calls in the period. Text, JSON and HTML only.
    #[arg(long, value_name = "NODE=FIELD")]
    pub scaling: Vec<String>,
    #[command(flatten)]
    pub db: DbArg,
}

/// Where and how the dashboard is served.
#[derive(Debug, Clone, Args)]
pub struct ServeOpts {
    /// Address to listen on; loopback by default.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7070")]
    pub listen: std::net::SocketAddr,
    /// Require this bearer token from API clients and the dashboard.
    #[arg(long, env = "PATHWISE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Allow cross-origin requests from this origin (repeatable); CORS is off otherwise.
    #[arg(long, value_name = "ORIGIN")]
    pub cors_origin: Vec<String>,
    /// Evaluate the alert rules in FILE (alerts.toml, hot-reloaded) while serving.
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
    /// POST every alert notification to this URL (Alertmanager v4 payload; repeatable).
    #[arg(long, value_name = "URL", requires = "alerts")]
    pub alert_webhook: Vec<String>,
    /// Write daily, weekly or monthly reports as the TOML file says (a directory, a webhook,
    /// e-mail); see the README's "Scheduled reports".
    #[arg(long, value_name = "FILE")]
    pub reports: Option<PathBuf>,
    /// Replace these attributes and captured fields of received spans by a keyed hash
    /// (`hmac:…`, equal values still group) before anything is written (repeatable, `*`
    /// wildcards; `recommended`: the documented default list). The key: PATHWISE_PRIVACY_KEY,
    /// else one kept in the spool directory.
    #[arg(long, value_name = "NAME")]
    pub privacy_hash: Vec<String>,
    /// Remove these attributes (captured fields read `"[dropped]"`) of received spans before
    /// anything is written (repeatable, `*` wildcards).
    #[arg(long, value_name = "NAME")]
    pub privacy_drop: Vec<String>,
    /// Where spans received at `/v1/traces` spill while the store is behind; default
    /// `<db>.server-spool` (or `pathwise-server.spool` for a remote store).
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// Ingest answers once the spans are committed, or after this many milliseconds with them
    /// queued or spilled (0: answer as soon as they are queued).
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub ack_timeout_ms: u64,
    /// Connections served at once; a new one past it takes the place of the oldest idle one
    /// [default: 1024].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: Option<u32>,
    /// Time allowed for a request's headers, and for a keep-alive connection to stay idle
    /// [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub header_timeout: Option<std::time::Duration>,
    /// Longest a request may take before it is answered 503 [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub request_timeout: Option<std::time::Duration>,
    /// Longest a handler waits for the store or the alert engine before it answers 503
    /// [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub handler_budget: Option<std::time::Duration>,
    /// Database queries at least this many milliseconds long are listed in the slow-query log
    /// (the Queries page, `/api/queries/slow` without `threshold_ms`).
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub slow_query_ms: u64,
    /// Serve more projects, each in a store of its own, as the TOML file says (see the
    /// README's "Projects"); the `--db` store is the default project.
    #[arg(long, value_name = "FILE")]
    pub projects: Option<PathBuf>,
    /// Model prices (TOML: `[models."gpt-4o"] input = 2.5, output = 10`, USD per million
    /// tokens) added over the shipped list prices, for the cost of LLM calls.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

/// Options of `pathwise serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub serve: ServeOpts,
    #[command(flatten)]
    pub db: DbArg,
}

/// The database option every command takes.
#[derive(Debug, Clone, Args)]
pub struct DbArg {
    /// The store: a SQLite file (`pathwise.db`, `sqlite:pathwise.db`) or a ClickHouse server or
    /// cluster (`clickhouse://host:8123[,host2:8123]/db?cluster=name`). Also `--store`.
    #[arg(
        long,
        visible_alias = "store",
        value_name = "STORE",
        default_value = "pathwise.db",
        env = "PATHWISE_STORE"
    )]
    pub db: PathBuf,
}

/// The store option of a command with actions (`alerts`, `baseline`, `keys`): accepted before
/// or after the action.
#[derive(Debug, Clone, Args)]
pub struct ActionDbArg {
    /// The store (a SQLite file or a `clickhouse://` address), before or after the action.
    #[arg(
        long,
        visible_alias = "store",
        value_name = "STORE",
        default_value = "pathwise.db",
        env = "PATHWISE_STORE",
        global = true
    )]
    pub db: PathBuf,
}

/// Options of `pathwise demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many requests the workload makes.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub iterations: u32,
    /// Seed of every random choice the workload makes: same seed, same paths.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Do not serve the dashboard after the run.
    #[arg(long)]
    pub no_serve: bool,
    #[command(flatten)]
    pub serve: ServeOpts,
    #[command(flatten)]
    pub db: DbArg,
}

/// A trace's lifecycle state, as accepted by `--status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Running,
    Completed,
    Failed,
}

/// `pathwise traces --sort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    Newest,
    Oldest,
    Slowest,
    Fastest,
}

/// Options of `pathwise traces`.
#[derive(Debug, Args)]
pub struct TracesArgs {
    /// How many traces to list (in the order of --sort).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// The order: by start (newest, oldest) or by duration (slowest, fastest; running traces,
    /// which have no duration yet, are left out).
    #[arg(long, value_enum, default_value_t = SortArg::Newest)]
    pub sort: SortArg,
    /// Only traces in this state.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Only traces whose name contains this text (case-insensitive).
    #[arg(long, value_name = "NAME")]
    pub q: Option<String>,
    /// Only traces having a span this query matches, e.g.
    /// `steps.name == "apply_filters" AND steps.status == "failed"` (see docs/query.md).
    #[arg(long = "where", value_name = "QUERY")]
    pub where_query: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArg,
}

/// Options of `pathwise show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The trace id: 32 hex digits, as printed by `pathwise traces`.
    pub id: String,
    /// Print JSON (the trace and its spans) instead of a tree.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArg,
}

/// Runs the command line `args` (the program name first, as in `std::env::args_os`) and
/// returns the exit code. The `pathwise` binary and the Python package's `pathwise` command
/// both call this.
///
/// ```no_run
/// let code = pathwise_cli::run(["pathwise", "traces", "--db", "pathwise.db"]);
/// ```
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    ExitCode::from(run_with_code(args))
}

/// [`run`], returning the exit code as a number (0 success, 1 failed, 2 bad input).
pub fn run_with_code<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version requests print to stdout and succeed; usage errors exit 2.
            let _ = error.print();
            return error.exit_code().clamp(0, 255) as u8;
        }
    };
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Traces(args) => traces::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Serve(args) => serve::serve(&args.db.db, &args.serve),
        Command::Report(args) => report::run(&args),
        Command::Snapshot(args) => perf::snapshot(&args),
        Command::Baseline(args) => perf::baseline(&args),
        Command::Alerts(args) => alerts::run(&args),
        Command::Migrate(args) => migrate::run(&args),
        Command::Keys(args) => keys::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Db(args) => db::run(&args),
        Command::Loadtest(args) => loadtest::run(&args),
    };
    match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}
