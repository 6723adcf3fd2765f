//! `pathwise._native`: the Rust side of the Python SDK. Python code (the `pathwise` package)
//! keeps the span context in `contextvars` and calls in here to start and end spans, capture
//! values and run the recording pipeline — the same pipeline and store as the Rust SDK.

mod capture;
mod context;
mod function;
mod payload;
mod span;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use pathwise::{Config, Export, Pathwise};
use pathwise_capture::CaptureOptions;
use pathwise_store::FunctionInfo;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    _native,
    InitError,
    PyException,
    "Recording could not start (bad configuration, unwritable database, ...)."
);

/// Whether spans are recorded; off before `init`, after `shutdown` and in a forked child.
static RECORDING: AtomicBool = AtomicBool::new(false);

pub(crate) fn recording() -> bool {
    RECORDING.load(Ordering::Relaxed)
}

struct State {
    guard: Option<Pathwise>,
    /// Functions decorated while nothing records, registered when `init` runs (later ones go
    /// straight to the pipeline, which hands them to every destination: file, cluster, server).
    pending: Vec<FunctionInfo>,
    capture: CaptureOptions,
}

static STATE: Mutex<State> = Mutex::new(State {
    guard: None,
    pending: Vec::new(),
    capture: CaptureOptions {
        max_repr: 256,
        max_items: 10,
        max_depth: 4,
        numeric_vector_threshold: 16,
        redact: Vec::new(),
    },
});

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Capture options of `init` (defaults before it), the base of every function's options.
pub(crate) fn capture_defaults() -> CaptureOptions {
    state().capture.clone()
}

/// Where `init` records: at most one local store and any remote destinations.
struct Destinations {
    db: Option<PathBuf>,
    store: Option<String>,
    remote: Option<String>,
    key: Option<String>,
    otlp_endpoint: Option<String>,
    service: Option<String>,
    keep_local: Option<bool>,
}

impl Destinations {
    /// Applies these over `config` (which holds the `PATHWISE_*` environment's choices).
    fn apply(self, config: &mut Config) -> PyResult<()> {
        let local_given = self.db.is_some() || self.store.is_some();
        if self.db.is_some() && self.store.is_some() {
            return Err(InitError::new_err(
                "give either db= (a SQLite file) or store= (a store URL), not both",
            ));
        }
        if let Some(db) = self.db {
            config.db_path = db;
            config.store = None;
        }
        if let Some(store) = self.store {
            *config = std::mem::take(config).store(store);
        }
        if self.key.is_some() && self.remote.is_none() {
            return Err(InitError::new_err(
                "key= is the remote server's key: give remote= too",
            ));
        }
        let remote_given = self.remote.is_some() || self.otlp_endpoint.is_some();
        if let Some(url) = self.remote {
            config.export.push(Export::Pathwise { url, key: self.key });
        }
        if let Some(endpoint) = self.otlp_endpoint {
            let service = self.service.unwrap_or_else(|| "pathwise-app".into());
            config.export.push(Export::Otlp {
                endpoint,
                service,
                headers: Vec::new(),
            });
        }
        // `init(remote=...)` alone records remotely only; naming a local store too keeps both.
        config.keep_local = match self.keep_local {
            Some(keep) => keep,
            None if remote_given && !local_given => false,
            None => config.keep_local,
        };
        Ok(())
    }
}

/// Starts recording. Arguments left as `None` come from `PATHWISE_*` environment variables
/// (`PATHWISE_DB`, `PATHWISE_STORE`, `PATHWISE_REMOTE`, `PATHWISE_SAMPLE_RATE`, ...) or the
/// defaults.
#[pyfunction]
#[pyo3(signature = (db=None, sample_rate=None, flush_interval=None, queue_capacity=None,
    retention_hours=None, max_repr=None, sensitive_fields=Vec::new(), resource_interval=Some(1.0),
    data_dir=None, store=None, remote=None, key=None, otlp_endpoint=None, service=None,
    keep_local=None, project=None))]
#[allow(clippy::too_many_arguments)] // mirrors `pathwise.init`'s keyword arguments
fn init(
    py: Python<'_>,
    db: Option<PathBuf>,
    sample_rate: Option<f64>,
    flush_interval: Option<f64>,
    queue_capacity: Option<usize>,
    retention_hours: Option<u64>,
    max_repr: Option<usize>,
    sensitive_fields: Vec<String>,
    resource_interval: Option<f64>,
    data_dir: Option<PathBuf>,
    store: Option<String>,
    remote: Option<String>,
    key: Option<String>,
    otlp_endpoint: Option<String>,
    service: Option<String>,
    keep_local: Option<bool>,
    project: Option<String>,
) -> PyResult<()> {
    let mut config = Config::from_env().map_err(InitError::new_err)?;
    if project.is_some() {
        config.project = project;
    }
    Destinations {
        db,
        store,
        remote,
        key,
        otlp_endpoint,
        service,
        keep_local,
    }
    .apply(&mut config)?;
    config.data_dir = data_dir;
    if let Some(rate) = sample_rate {
        config.sample_rate = rate;
    }
    if let Some(secs) = flush_interval {
        config.flush_interval = seconds(secs, "flush_interval")?;
    }
    if let Some(n) = queue_capacity {
        config.queue_capacity = n;
    }
    if let Some(hours) = retention_hours {
        config.retention = (hours > 0).then(|| Duration::from_secs(hours * 3600));
    }
    if let Some(max) = max_repr {
        config.capture.max_repr = max;
    }
    config
        .capture
        .redact
        .extend(sensitive_fields.into_iter().map(Into::into));
    config.resource_interval = resource_interval
        .map(|s| seconds(s, "resource_interval"))
        .transpose()?;
    let mut state = state();
    if state.guard.is_some() {
        return Err(InitError::new_err(
            "pathwise is already recording; call pathwise.shutdown() first",
        ));
    }
    let capture = config.capture.clone();
    // Opening and migrating the database (or reaching a cluster) can take a moment: let other
    // Python threads run.
    let guard = py
        .detach(|| pathwise::init(config))
        .map_err(|e| InitError::new_err(e.to_string()))?;
    let pending = std::mem::take(&mut state.pending);
    if !pending.is_empty() {
        pathwise::register_functions(pending);
    }
    state.guard = Some(guard);
    state.capture = capture;
    RECORDING.store(true, Ordering::Release);
    Ok(())
}

fn seconds(value: f64, name: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| InitError::new_err(format!("{name} must be a non-negative number of seconds")))
}

fn stats_dict<'py>(
    py: Python<'py>,
    stats: pathwise::PipelineStats,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("recorded", stats.recorded)?;
    dict.set_item("written", stats.written)?;
    dict.set_item("spilled", stats.spilled)?;
    dict.set_item("replayed", stats.replayed)?;
    dict.set_item("dropped", stats.dropped)?;
    dict.set_item("sampled_out", stats.sampled_out)?;
    dict.set_item("queue_depth", stats.queue_depth)?;
    Ok(dict)
}

/// Flushes everything and stops recording; returns the final pipeline counters (`None` when
/// not recording). Safe to call more than once.
#[pyfunction]
fn shutdown<'py>(py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
    RECORDING.store(false, Ordering::Release);
    let guard = state().guard.take();
    let Some(guard) = guard else { return Ok(None) };
    pathwise::flush_thread();
    let stats = py.detach(|| guard.shutdown());
    stats_dict(py, stats).map(Some)
}

/// Waits until everything recorded so far is stored; `False` if `timeout` seconds passed first.
#[pyfunction]
#[pyo3(signature = (timeout=10.0))]
fn flush(py: Python<'_>, timeout: f64) -> bool {
    pathwise::flush_thread();
    let timeout = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or(Duration::MAX);
    let state = state();
    match &state.guard {
        Some(guard) => py.detach(|| guard.flush(timeout)),
        None => true,
    }
}

/// The running pipeline's counters, or `None`.
#[pyfunction]
fn stats(py: Python<'_>) -> PyResult<Option<Bound<'_, PyDict>>> {
    match pathwise::pipeline_stats() {
        Some(stats) => stats_dict(py, stats).map(Some),
        None => Ok(None),
    }
}

/// Called in a forked child: the writer thread did not survive the fork, so the child stops
/// recording (its parent's pipeline state is left alone, never joined or flushed twice).
#[pyfunction]
fn after_fork_in_child() {
    RECORDING.store(false, Ordering::Release);
    let mut state = state();
    // The pipeline belongs to the parent; dropping it here would wait for a thread that does
    // not exist in this process.
    std::mem::forget(state.guard.take());
}

/// Registers a monitored function, so reports can name the ones never executed.
#[pyfunction]
#[pyo3(signature = (name, group, module, file, line, is_async))]
fn register_function(
    name: String,
    group: Option<String>,
    module: String,
    file: String,
    line: u32,
    is_async: bool,
) -> PyResult<()> {
    let info = FunctionInfo {
        name: name.into(),
        group: group.map(Into::into),
        module_path: module.into(),
        file: file.into(),
        line,
        is_async,
    };
    let mut state = state();
    if state.guard.is_none() || !pathwise::register_functions(vec![info.clone()]) {
        state.pending.push(info);
    }
    Ok(())
}

/// Counts a cache hit for `component`.
#[pyfunction]
fn cache_hit(component: String) {
    if recording() {
        pathwise::cache_hit(component);
    }
}

/// Counts a cache miss for `component`.
#[pyfunction]
fn cache_miss(component: String) {
    if recording() {
        pathwise::cache_miss(component);
    }
}

/// Summary of any value as JSON text (what `@monitor` stores), for inspection and tests.
#[pyfunction]
#[pyo3(signature = (value, max_repr=None, sensitive_fields=Vec::new()))]
fn summarize(
    value: &Bound<'_, PyAny>,
    max_repr: Option<usize>,
    sensitive_fields: Vec<String>,
) -> String {
    let mut options = capture_defaults();
    if let Some(max) = max_repr {
        options.max_repr = max.max(1);
    }
    options
        .redact
        .extend(sensitive_fields.into_iter().map(Into::into));
    capture::summarize(value, &options)
}

/// Runs the `pathwise` command line (`args[0]` is the program name) and returns its exit
/// code; the console script of the Python package calls this. The interpreter lock is released
/// meanwhile (`pathwise serve` runs until interrupted).
#[cfg(feature = "cli")]
#[pyfunction]
fn cli(py: Python<'_>, args: Vec<std::ffi::OsString>) -> u8 {
    py.detach(|| pathwise_cli::run_with_code(args))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InitError", m.py().get_type::<InitError>())?;
    m.add_class::<span::NativeSpan>()?;
    m.add_class::<function::FunctionSpec>()?;
    m.add_class::<payload::PayloadText>()?;
    m.add_function(wrap_pyfunction!(init, m)?)?;
    m.add_function(wrap_pyfunction!(shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(flush, m)?)?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(register_function, m)?)?;
    m.add_function(wrap_pyfunction!(cache_hit, m)?)?;
    m.add_function(wrap_pyfunction!(cache_miss, m)?)?;
    m.add_function(wrap_pyfunction!(summarize, m)?)?;
    m.add_function(wrap_pyfunction!(context::bind_current_span, m)?)?;
    m.add_function(wrap_pyfunction!(span::start_span, m)?)?;
    m.add_function(wrap_pyfunction!(span::record_operation, m)?)?;
    #[cfg(feature = "cli")]
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    Ok(())
}
