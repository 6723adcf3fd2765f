//! The check at the end of a copy: how much of each kind either store holds.

use pathwise_store::Backend;

use super::keyed::stored_keys;
use super::rows::{Cache, History, Resources, Stats};
use super::store_error;
use super::timeline::count;
use crate::error::CliError;

/// What is counted, in the order it is shown.
pub(super) const KINDS: [&str; 11] = [
    "traces",
    "spans",
    "functions",
    "baselines",
    "resource samples",
    "cache rows",
    "pipeline stats",
    "alert history",
    "active alerts",
    "silences",
    "API keys",
];

/// The count of each of [`KINDS`] in `backend`; silences are those in force at `now_ns`.
pub(super) fn counts(backend: &dyn Backend, now_ns: i64) -> Result<[u64; KINDS.len()], CliError> {
    let reader = backend.reader().map_err(store_error("opening a reader"))?;
    let alerts = backend
        .alert_store()
        .map_err(store_error("opening the alert store"))?;
    let traces = reader
        .trace_stats(&pathwise_store::TraceFilter::default())
        .map_err(store_error("counting traces"))?
        .total;
    let spans = reader
        .error_rate_since(0)
        .map_err(store_error("counting spans"))?
        .spans;
    let len = |n: usize| n as u64;
    Ok([
        traces,
        spans,
        len(reader
            .functions()
            .map_err(store_error("counting functions"))?
            .len()),
        len(reader
            .baselines()
            .map_err(store_error("counting baselines"))?
            .len()),
        count(&Resources(reader.as_ref()))?,
        count(&Cache(reader.as_ref()))?,
        count(&Stats(reader.as_ref()))?,
        count(&History(alerts.as_ref()))?,
        len(alerts
            .load_states()
            .map_err(store_error("counting active alerts"))?
            .len()),
        len(alerts
            .silences(now_ns)
            .map_err(store_error("counting silences"))?
            .len()),
        len(stored_keys(backend)?.len()),
    ])
}
