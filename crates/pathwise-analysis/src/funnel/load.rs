//! Reading a name's decision traces for the funnel: the newest [`MAX_TRACES`] of the window,
//! each trace's spans read once (at most [`MAX_SPANS_PER_TRACE`]) and its steps kept.
//!
//! This scans: one list query per page of traces and one span query per trace, so its cost
//! grows with the traces read, not with the store; the cap keeps a long window bounded.

use pathwise_model::{SpanKind, Status, TraceId};
use pathwise_store::{Cursor, ReadStore, SpanRow, TraceFilter, TraceSummary, Window};

use super::{DecisionTrace, Funnel, TracedStep, build_funnel};
use crate::AnalysisError;

/// Most traces a funnel reads: the window's newest.
pub const MAX_TRACES: usize = 1_000;
/// Most spans read of one trace; steps past it are not counted.
pub const MAX_SPANS_PER_TRACE: usize = 5_000;
/// Traces listed per page while looking for the name (a substring match lists others too).
const PAGE: usize = 500;
/// Most traces listed in all, matching or not, so a rare name in a busy window stays bounded.
const MAX_LISTED: usize = 20_000;

/// The newest `want` traces named exactly `name` that started in `window`, and whether the
/// window holds more (or the listing stopped at [`MAX_LISTED`] traces of any name first).
/// The list filter matches names by substring, so other names are listed and left out.
pub(crate) fn traces_named(
    store: &dyn ReadStore,
    name: &str,
    window: Window,
    want: usize,
) -> Result<(Vec<TraceSummary>, bool), AnalysisError> {
    let mut filter = TraceFilter {
        name_contains: Some(name.to_string()),
        since_ns: Some(window.since_ns),
        until_ns: Some(window.until_ns),
        limit: PAGE,
        ..TraceFilter::default()
    };
    let (mut traces, mut listed) = (Vec::new(), 0);
    loop {
        let page = store.list_traces(&filter)?;
        listed += page.traces.len();
        for summary in page.traces.into_iter().filter(|t| t.name == name) {
            if traces.len() == want {
                return Ok((traces, true));
            }
            traces.push(summary);
        }
        match page.next_cursor.as_deref().and_then(Cursor::decode) {
            Some(_) if listed >= MAX_LISTED => return Ok((traces, true)),
            Some(next) => filter.cursor = Some(next),
            None => return Ok((traces, false)),
        }
    }
}

/// The step spans (kind `step`) of a trace, of its first [`MAX_SPANS_PER_TRACE`] spans.
pub(crate) fn steps_of(
    store: &dyn ReadStore,
    trace: TraceId,
) -> Result<Vec<SpanRow>, AnalysisError> {
    Ok(store
        .spans(trace, None, MAX_SPANS_PER_TRACE)?
        .into_iter()
        .filter(|s| s.kind == SpanKind::Step)
        .collect())
}

/// The funnel of the decision traces named exactly `name` that started in `window`, and
/// whether the window holds more of them than were read.
pub fn decision_funnel(
    store: &dyn ReadStore,
    name: &str,
    window: Window,
) -> Result<(Funnel, bool), AnalysisError> {
    let (summaries, more) = traces_named(store, name, window, MAX_TRACES)?;
    let mut traces = Vec::with_capacity(summaries.len());
    for summary in summaries {
        let steps = steps_of(store, summary.trace_id)?
            .into_iter()
            .map(|s| TracedStep {
                failed: s.status == Status::Error,
                name: s.name,
                start_ns: s.start_ns,
                duration_ns: s.duration_ns,
                metadata: s.metadata,
            })
            .collect();
        traces.push(DecisionTrace {
            trace_id: summary.trace_id.to_string(),
            status: summary.status,
            steps,
        });
    }
    Ok((build_funnel(name, &traces), more))
}
