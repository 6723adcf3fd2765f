//! Measurements that code takes itself: operations timed by the caller and cache lookups.

use std::time::Duration;

use pathwise_model::{ErrorInfo, Name, SpanKind, SpanRecord, Status};

use crate::context::{self, Context, Parent};

/// Records an operation that already happened and took `duration`, as a span of kind
/// `operation` in component `component` (a child of the current span, if any).
///
/// ```
/// use std::time::Duration;
/// pathwise::record_operation("geo.client", "search", Duration::from_millis(87), true);
/// ```
pub fn record_operation(
    component: impl Into<Name>,
    operation: impl Into<Name>,
    duration: Duration,
    success: bool,
) {
    let failure = (!success).then(|| ErrorInfo {
        error_type: "operation_failed".into(),
        message: "operation reported failure".into(),
        chain: Vec::new(),
    });
    let parent = Context::current();
    record(
        parent,
        component.into(),
        operation.into(),
        duration,
        failure,
    );
}

/// Like [`record_operation`], under an explicit parent (`None`: a trace of its own) instead of
/// the thread's current span; `error` (type, message) marks it failed.
///
/// ```
/// use std::time::Duration;
/// let error = pathwise::ErrorInfo { error_type: "TimeoutError".into(), message: "5 s".into(), chain: vec![] };
/// pathwise::record_operation_under(None, "geo.client", "http_get", Duration::from_secs(5), Some(error));
/// ```
pub fn record_operation_under(
    parent: Option<Context>,
    component: impl Into<Name>,
    operation: impl Into<Name>,
    duration: Duration,
    error: Option<ErrorInfo>,
) {
    record(parent, component.into(), operation.into(), duration, error);
}

/// Records a failed operation with the error that failed it (type, message, source chain).
///
/// ```
/// use std::time::Duration;
/// let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 5 s");
/// pathwise::record_failed_operation("geo.client", "http_get", Duration::from_secs(5), &err);
/// ```
pub fn record_failed_operation<E: std::error::Error + ?Sized>(
    component: impl Into<Name>,
    operation: impl Into<Name>,
    duration: Duration,
    error: &E,
) {
    record(
        Context::current(),
        component.into(),
        operation.into(),
        duration,
        Some(ErrorInfo::from_error(error)),
    );
}

fn record(
    parent: Option<Context>,
    component: Name,
    name: Name,
    duration: Duration,
    failure: Option<ErrorInfo>,
) {
    if !pathwise_pipeline::is_running() {
        return;
    }
    let clock = pathwise_pipeline::clock();
    let end_ns = clock.wall_now_ns();
    let duration_ns = duration.as_nanos().min(u64::MAX as u128) as u64;
    let start_ns = end_ns.saturating_sub(duration_ns.min(i64::MAX as u64) as i64);
    let parent = parent.map_or(Parent::Root, Parent::Of);
    let (ctx, parent_id) = context::open(&name, parent, false, || {
        (start_ns / 1_000_000).max(0) as u64
    });
    let mut record = SpanRecord::new(
        ctx.trace_id,
        ctx.span_id,
        parent_id,
        name,
        SpanKind::Operation,
    );
    record.path = ctx.path;
    record.sampled = ctx.sampled;
    record.group = Some(component);
    record.start_ns = start_ns;
    record.duration_ns = duration_ns;
    match failure {
        None => {
            pathwise_pipeline::submit(record);
            if parent_id == 0 {
                // Outside any span the thread has no outermost span to end: hand over now.
                pathwise_pipeline::flush_thread();
            }
        }
        Some(error) => {
            record.status = Status::Error;
            record.details_mut().error = Some(error);
            pathwise_pipeline::submit_error(record);
        }
    }
}

/// Counts a cache hit for `component`.
///
/// ```
/// pathwise::cache_hit("geo.cache");
/// pathwise::cache_miss("geo.cache");
/// ```
pub fn cache_hit(component: impl Into<Name>) {
    pathwise_pipeline::cache::record(component, true);
}

/// Counts a cache miss for `component`.
pub fn cache_miss(component: impl Into<Name>) {
    pathwise_pipeline::cache::record(component, false);
}
