//! Pathwise: record every path through your code and every decision in it, losslessly.
//!
//! ```no_run
//! # #[derive(Debug)] struct Hit;
//! #[pathwise::monitor(group = "search")]
//! fn search(query: &str, limit: usize) -> Result<Vec<String>, std::io::Error> {
//!     let _s = pathwise::span("rank").attr("limit", limit);
//!     Ok(vec![query.to_string()])
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let _pathwise = pathwise::init(pathwise::Config::default())?; // ./pathwise.db
//!     search("brca1", 10)?;
//!     Ok(()) // dropping the guard flushes everything
//! }
//! ```
//!
//! - Spans: [`span`] (RAII), [`in_span`] (closure), [`FutureExt::in_span`] (futures),
//!   [`Context`] to carry a span to other threads and tasks.
//! - `#[`[`monitor`]`]` on functions and methods, sync or async: timing, captured arguments and
//!   result (summarised, secrets masked), errors and panics, sampling. `#[`[`monitor_all`]`]`
//!   on an `impl` block or an inline module: the same for every function whose name it selects.
//! - Decision traces: [`trace`] → [`Step`]s with input, output, reasoning and the
//!   [`Filter`]/[`Llm`]/[`Ranked`] helpers.
//! - Hosts with their own context (Python's `contextvars`): [`start_detached`] with an explicit
//!   parent, [`record_operation_under`].
//! - Self-measured code: [`record_operation`], [`cache_hit`], [`cache_miss`].
//! - Database queries: [`db_query`] (statements normalised, rows, errors); with the `rusqlite`
//!   feature, [`db::TracedConnection`] records every statement of a connection.
//! - Process and host resources (CPU, memory, I/O, threads, open files), sampled every
//!   [`Config::resource_interval`] on their own thread; [`ResourceSampler`] to sample directly.

mod config;
mod context;
pub mod db;
mod detached;
mod edits;
mod future;
mod iter;
mod monitor;
mod ops;
#[doc(hidden)]
pub mod outcome_kind;
mod panic;
mod propagation;
mod resources;
mod span;
pub mod testing;
mod volume;
mod xray;

use std::time::Duration;

pub use config::{CaptureSwitch, Config, Export};
pub use context::{AttachGuard, Context};
pub use db::{QuerySpan, query as db_query};
pub use detached::{
    DetachedSpan, flush_thread, span_handle, start_detached, start_detached_backdated,
};
pub use edits::{CurrentSpan, current_span};
pub use future::{FutureExt, InSpan, WithContext};
pub use iter::{MonitoredIter, MonitoredStream, monitor_iter, monitor_stream};
pub use ops::{
    cache_hit, cache_miss, record_failed_operation, record_operation, record_operation_under,
};
pub use outcome_kind::ErrorKind;
pub use pathwise_capture::CaptureOptions;
pub use pathwise_macros::monitor;
/// Instruments every function of an `impl` block, a trait or an inline module whose name is
/// selected, as `#[monitor]` would: the Rust form of Python's `auto_instrument_module`.
///
/// # Example
///
/// The functions of an inline module and the methods of an `impl` block inside it, selected
/// by name:
///
/// ```
/// #[pathwise::monitor_all(include = "^(process_|calculate_|fetch_)", exclude("test_", "_helper"),
///                         group = "trading.pnl")]
/// mod pnl {
///     pub struct Book {
///         pub positions: Vec<(String, f64)>,
///     }
///
///     impl Book {
///         // Recorded as `…::pnl::Book::calculate_exposure`.
///         pub fn calculate_exposure(&self) -> f64 {
///             self.positions.iter().map(|(_, qty)| qty.abs()).sum()
///         }
///
///         // Not selected: `include` does not match.
///         pub fn len(&self) -> usize {
///             self.positions.len()
///         }
///     }
///
///     // Recorded as `…::pnl::process_fill`, failed when it returns `Err`.
///     pub fn process_fill(book: &mut Book, symbol: &str, qty: f64) -> Result<f64, String> {
///         if qty == 0.0 {
///             return Err(format!("empty fill for {symbol}"));
///         }
///         book.positions.push((symbol.to_owned(), qty));
///         Ok(book.calculate_exposure())
///     }
///
///     // Not selected: `exclude` contains `_helper`.
///     pub fn process_helper() {}
/// }
///
/// let records = pathwise::testing::capture_records(|| {
///     let mut book = pnl::Book { positions: Vec::new() };
///     assert_eq!(pnl::process_fill(&mut book, "ACME", -3.0), Ok(3.0));
///     assert!(pnl::process_fill(&mut book, "ACME", 0.0).is_err());
///     assert_eq!(book.len(), 1);
///     pnl::process_helper();
/// });
/// let mut names: Vec<String> = pathwise::testing::spans(&records)
///     .iter()
///     .map(|span| format!("{} [{}]", span.name, span.group.as_deref().unwrap_or("-")))
///     .collect();
/// names.sort();
/// assert_eq!(names.len(), 3);
/// assert!(names[0].ends_with("pnl::Book::calculate_exposure [trading.pnl]"), "{names:?}");
/// assert!(names[1].ends_with("pnl::process_fill [trading.pnl]"), "{names:?}");
/// assert!(names[2].ends_with("pnl::process_fill [trading.pnl]"), "{names:?}");
/// ```
pub use pathwise_macros::monitor_all;
/// Leaves a function out of the enclosing `#[`[`monitor_all`]`]`, whatever its name.
///
/// # Example
///
/// ```
/// #[pathwise::monitor_all(group = "orders")]
/// mod orders {
///     pub fn submit(quantity: u32) -> u32 {
///         best_bid() * quantity
///     }
///
///     #[pathwise::skip_monitor] // called in every loop: not worth a span
///     pub fn best_bid() -> u32 {
///         100
///     }
/// }
///
/// let records = pathwise::testing::capture_records(|| {
///     assert_eq!(orders::submit(2), 200);
/// });
/// let spans = pathwise::testing::spans(&records);
/// assert_eq!(spans.len(), 1);
/// assert!(spans[0].name.ends_with("orders::submit"));
/// ```
pub use pathwise_macros::skip_monitor;
pub use pathwise_model::{
    AttrValue, ErrorInfo, HostResources, ProcessResources, ResourceSample, SpanKind, TraceId,
};
pub use pathwise_pipeline::{Privacy, late_records, register_functions, reserved_errors};
pub use pathwise_store::{FunctionInfo, PipelineStats, Store};
pub use propagation::TRACEPARENT;
pub use resources::ResourceSampler;
pub use span::{SpanGuard, in_span, span};
pub use volume::{TraceLimit, traces_left_out};
pub use xray::{Filter, Llm, Ranked, Step, Trace, trace};

/// Why [`init`] failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("invalid pathwise configuration: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Store(#[from] pathwise_store::StoreError),
    #[error(transparent)]
    Pipeline(#[from] pathwise_pipeline::PipelineError),
}

/// Recording is on while this lives; dropping it stops the resource sampler, flushes
/// everything and stops the writer.
#[must_use = "recording stops when the guard is dropped"]
pub struct Pathwise {
    /// Declared before `handle` (and stopped first in `shutdown`): its last sample must reach
    /// a running pipeline.
    resources: Option<resources::SamplerThread>,
    handle: Option<pathwise_pipeline::PipelineHandle>,
    /// The process that started recording: in a forked child, which has none of its threads,
    /// the guard lets go without joining them.
    owner: u32,
}

/// Starts recording into the store of `config`: its SQLite database (created and migrated if
/// needed) or its ClickHouse store, and its exports.
///
/// Errors — an invalid config, an unwritable path, a database from a newer version — are
/// returned, never panicked: the host decides whether to run without recording.
pub fn init(config: Config) -> Result<Pathwise, InitError> {
    config.validate().map_err(InitError::InvalidConfig)?;
    if !config.enabled {
        return Ok(Pathwise::off());
    }
    let mut sinks: Vec<Box<dyn Store>> = Vec::new();
    if config.keep_local {
        sinks.push(match &config.store {
            Some(url) => clickhouse_store(url)?,
            None => sqlite_store(&config.db_path)?,
        });
    }
    for export in &config.export {
        sinks.push(exporter(export, config.project.as_deref())?);
    }
    let mut sinks = sinks.into_iter();
    let first = sinks
        .next()
        .ok_or_else(|| InitError::InvalidConfig("no destination for records".into()))?;
    let store = sinks.fold(first, |all, next| {
        Box::new(pathwise_export::TeeStore::new(all, next)) as Box<dyn Store>
    });
    init_with_store(config, store)
}

#[cfg(feature = "sqlite")]
fn sqlite_store(path: &std::path::Path) -> Result<Box<dyn Store>, InitError> {
    Ok(Box::new(pathwise_store_sqlite::SqliteStore::open(path)?))
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_store(_: &std::path::Path) -> Result<Box<dyn Store>, InitError> {
    Err(InitError::InvalidConfig(
        "this build has no embedded store (feature `sqlite` is off): use init_with_store, a clickhouse:// store, or an export with keep_local = false"
            .into(),
    ))
}

/// The writer of a ClickHouse store; connecting checks the server and creates what is missing,
/// so a wrong address or database fails here, at `init`.
#[cfg(feature = "clickhouse")]
fn clickhouse_store(url: &str) -> Result<Box<dyn Store>, InitError> {
    use pathwise_store::Backend;
    Ok(pathwise_store_clickhouse::ClickHouseBackend::connect(url)?.writer()?)
}

#[cfg(not(feature = "clickhouse"))]
fn clickhouse_store(url: &str) -> Result<Box<dyn Store>, InitError> {
    Err(InitError::InvalidConfig(format!(
        "store {url:?} needs the SDK's `clickhouse` feature (pathwise = {{ features = [\"clickhouse\"] }})"
    )))
}

/// The sink of one export; the project (if any) rides along as the header a Pathwise server
/// routes by.
fn exporter(export: &Export, project: Option<&str>) -> Result<Box<dyn Store>, InitError> {
    let project_header = project.map(|p| ("x-pathwise-project".to_string(), p.to_string()));
    Ok(match export {
        Export::Pathwise { url, key } => Box::new(pathwise_export::RemoteStore::with_headers(
            url,
            key.clone(),
            project_header.into_iter().collect(),
        )?),
        Export::Otlp {
            endpoint,
            service,
            headers,
        } => Box::new(pathwise_export::OtlpStore::new(
            endpoint,
            service,
            headers.iter().cloned().chain(project_header).collect(),
        )?),
    })
}

/// Starts recording into any [`Store`] (another backend, or an in-memory one in tests).
pub fn init_with_store(config: Config, store: Box<dyn Store>) -> Result<Pathwise, InitError> {
    config.validate().map_err(InitError::InvalidConfig)?;
    if !config.enabled {
        return Ok(Pathwise::off());
    }
    panic::install_hook();
    context::set_sample_rate(config.sample_rate);
    volume::configure(config.trace_limit.clone());
    monitor::set_capture_defaults(config.capture.clone(), config.capture_switch.clone());
    db::set_full_statements(config.db_full_statements);
    let mut pipeline = pathwise_pipeline::PipelineConfig::new(config.data_dir());
    pipeline.flush_interval = config.flush_interval;
    pipeline.queue_capacity = config.queue_capacity;
    pipeline.retention = config.retention;
    pipeline.retention_bytes = config.retention_bytes;
    pipeline.shutdown_timeout = config.shutdown_timeout;
    pipeline.retention_interval = config.retention_interval;
    pipeline.error_reserve_bytes = config.error_reserve_bytes;
    pipeline.privacy = config.privacy.clone();
    pipeline.functions = monitor::registered_functions()
        .map(|f| pathwise_store::FunctionInfo {
            name: f.name.into(),
            group: f.group.map(Into::into),
            module_path: f.module_path.into(),
            file: f.file.into(),
            line: f.line,
            is_async: f.is_async,
        })
        .collect();
    let handle = pathwise_pipeline::install(pipeline, store)?;
    let resources = config.resource_interval.and_then(|interval| {
        resources::SamplerThread::spawn(interval)
            .map_err(|e| eprintln!("pathwise: warning: resource sampling is off: {e}"))
            .ok()
    });
    context::reseed_ids_in_forked_children();
    Ok(Pathwise {
        resources,
        handle: Some(handle),
        owner: std::process::id(),
    })
}

impl Pathwise {
    /// Recording turned off (`Config::enabled = false`): nothing runs, nothing is recorded.
    fn off() -> Self {
        Pathwise {
            resources: None,
            handle: None,
            owner: std::process::id(),
        }
    }

    /// Whether this handle is recording (`false` when `Config::enabled` turned it off).
    ///
    /// ```
    /// let off = pathwise::init(pathwise::Config { enabled: false, ..Default::default() }).unwrap();
    /// assert!(!off.is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        self.handle.is_some()
    }

    /// Waits until everything recorded so far on this thread (and handed over by others) is
    /// stored; `false` if `timeout` passed first.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.handle.as_ref().is_none_or(|h| h.flush(timeout))
    }

    /// The pipeline's counters.
    pub fn stats(&self) -> PipelineStats {
        self.handle.as_ref().map(|h| h.stats()).unwrap_or_default()
    }

    /// Flushes and stops recording; returns the final counters.
    pub fn shutdown(mut self) -> PipelineStats {
        self.stop_resources();
        self.handle.take().map(|h| h.shutdown()).unwrap_or_default()
    }

    fn stop_resources(&mut self) {
        if let Some(mut sampler) = self.resources.take() {
            if std::process::id() != self.owner {
                // A forked child: the sampler thread is its parent's.
                std::mem::forget(sampler);
                return;
            }
            sampler.stop();
        }
    }
}

impl Drop for Pathwise {
    /// The sampler stops before the pipeline shuts down (the handle's own drop, after this).
    fn drop(&mut self) {
        self.stop_resources();
    }
}

/// JSON text of a value. `serde_json::to_string` writes into one growing buffer, several times
/// faster than `Value`'s `Display`, which matters on the `#[monitor]` path.
pub(crate) fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Counters of the running pipeline, if recording.
pub fn pipeline_stats() -> Option<PipelineStats> {
    pathwise_pipeline::stats()
}

#[doc(hidden)]
pub mod __private {
    pub use crate::monitor::{
        CallScope, Field, FnCall, FunctionMeta, FunctionRegistration, enter, enter_detached, scope,
    };
    pub use crate::{outcome, outcome_kind};
    pub use inventory;
    pub use pathwise_capture::{CaptureOptions, capture, capture_into};
    pub use serde_json;
}
