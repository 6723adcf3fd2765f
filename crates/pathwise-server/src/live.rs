//! `GET /api/traces/live`: new traces as server-sent events, for the trace list's live tail.
//!
//! Each second the stream asks the store for traces that started since its watermark (the
//! newest start it sent), under the list's own filters, and sends the ones it has not sent,
//! oldest first. It looks back [`LOOKBACK`] past the watermark, because a trace recorded late
//! (a remote sender catching up, a span batch still in a thread's buffer) has an older start
//! than traces already sent; ids sent within the look-back are remembered so none is sent
//! twice. Each event's id is the trace's start, so a browser that reconnects (`EventSource`
//! does so by itself) resumes where it was (`Last-Event-ID`).

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use pathwise_model::TraceId;
use pathwise_store::{TraceFilter, TraceSummary};

use crate::error::ApiError;
use crate::params::Params;
use crate::state::Scoped;

/// How often the store is asked.
const TICK: Duration = Duration::from_secs(1);
/// How far before the watermark a late trace is still sent.
const LOOKBACK_NS: i64 = 30_000_000_000;
/// Traces sent per tick at most; a burst beyond it follows on the next ticks.
const PER_TICK: usize = 200;

/// Where a stream is: the newest start sent, and what was sent (or was there before the
/// stream began) within the look-back.
struct Tail {
    state: Scoped,
    filter: TraceFilter,
    watermark_ns: i64,
    /// Whether what the list already shows has been marked as seen.
    primed: bool,
    sent: HashSet<(i64, TraceId)>,
    ready: std::collections::VecDeque<TraceSummary>,
}

impl Tail {
    /// The next event: a trace already found, or the next tick's finds.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Tail)> {
        if !self.primed {
            // Traces up to the watermark are the list's (or were sent before a reconnect):
            // seen, not new.
            self.poll().await;
            let watermark = self.watermark_ns;
            self.ready.retain(|t| t.start_ns > watermark);
            self.primed = true;
        }
        loop {
            if let Some(trace) = self.ready.pop_front() {
                let event = Event::default()
                    .event("trace")
                    .id(trace.start_ns.to_string())
                    .json_data(&trace)
                    .unwrap_or_else(|_| Event::default().comment("unserialisable trace"));
                return Some((Ok(event), self));
            }
            tokio::time::sleep(TICK).await;
            self.poll().await;
        }
    }

    /// Asks the store for what started since the watermark (minus the look-back).
    async fn poll(&mut self) {
        let mut filter = self.filter.clone();
        filter.since_ns = Some(self.watermark_ns.saturating_sub(LOOKBACK_NS));
        filter.limit = PER_TICK;
        filter.cursor = None;
        // A busy or failing store is asked again on the next tick.
        let Ok(page) = self.state.read(move |r| Ok(r.list_traces(&filter)?)).await else {
            return;
        };
        let floor = self.watermark_ns.saturating_sub(LOOKBACK_NS);
        let mut fresh: Vec<TraceSummary> = page
            .traces
            .into_iter()
            .filter(|t| !self.sent.contains(&(t.start_ns, t.trace_id)))
            .collect();
        fresh.sort_by_key(|t| (t.start_ns, t.trace_id));
        for trace in &fresh {
            self.sent.insert((trace.start_ns, trace.trace_id));
            if self.primed {
                self.watermark_ns = self.watermark_ns.max(trace.start_ns);
            }
        }
        self.sent.retain(|(start, _)| *start >= floor);
        self.ready.extend(fresh);
    }
}

/// `GET /api/traces/live`: the list's filters (`status`, `name`, `q`, `min_ms`, `max_ms`);
/// traces that start from now on (or after `Last-Event-ID`, a start in ns) arrive as `trace`
/// events holding a trace summary, as `/api/traces` lists them.
pub async fn live(
    state: Scoped,
    headers: HeaderMap,
    p: Params,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let filter = crate::api::trace_filter(&p)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    // Resuming: what started after the last event; otherwise what starts from now on.
    let now = pathwise_alerts::now_ns();
    let tail = Tail {
        state,
        filter,
        watermark_ns: resume.unwrap_or(now).min(now),
        primed: false,
        sent: HashSet::new(),
        ready: Default::default(),
    };
    let stream = futures_util::stream::unfold(tail, Tail::next);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
