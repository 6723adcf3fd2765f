//! Paths from parent chains, across requests.
//!
//! An OTLP span names only its parent. Its Pathwise path (`root → … → span`) is its parent's
//! path plus its own name, so a span can be placed once its parent is placed. Exporters send
//! spans in the order they *end* — children before parents — and split one trace over many
//! requests, so the assembler remembers, per recent trace, the path of every span it placed and
//! holds back spans whose parent it has not seen. A held span waits at most
//! [`AssemblyConfig::orphan_wait`]; then it is rooted (its path starts at itself) and marked
//! `pathwise.orphan = true`, and its own held descendants follow it.
//!
//! Trace ids: Pathwise ids begin with the trace's start time in milliseconds, which the stores
//! use to find and expire traces by time. An id whose leading 48 bits already read as a time
//! near now (Pathwise's own SDK, propagated through `traceparent`) is kept; any other (random
//! W3C ids) is given the start time of the first spans seen, keeping its low 80 bits, and the
//! client's id is kept in the root's `otel.trace_id` attribute. The mapping lives as long as the
//! trace is remembered ([`AssemblyConfig::trace_memory`]).

use std::time::{Duration, Instant};

use pathwise_model::{AttrValue, Name, Record, SpanRecord, TraceId};
use rustc_hash::FxHashMap;

use crate::map::{Mapped, hex};

/// How long spans wait for their parents and traces are remembered.
#[derive(Clone, Debug)]
pub struct AssemblyConfig {
    /// A span whose parent has not arrived after this long is rooted and marked.
    pub orphan_wait: Duration,
    /// A trace with no new span for about this long is forgotten (a later span of it starts
    /// over: its parent is then unknown).
    pub trace_memory: Duration,
    /// At most this many traces are remembered; the oldest half is forgotten beyond it.
    pub max_traces: usize,
}

impl Default for AssemblyConfig {
    fn default() -> Self {
        AssemblyConfig {
            orphan_wait: Duration::from_secs(10),
            trace_memory: Duration::from_secs(600),
            max_traces: 200_000,
        }
    }
}

struct Held {
    span: SpanRecord,
    since: Instant,
}

struct TraceState {
    id: TraceId,
    remapped: Option<[u8; 16]>,
    /// Span id → interned path id, for every span placed.
    paths: FxHashMap<u64, u32>,
    /// Parent span id → spans waiting for it.
    held: FxHashMap<u64, Vec<Held>>,
    /// Whether a span without a parent (the trace's root) was placed.
    has_root: bool,
}

/// The assembler's state; one per ingest endpoint, behind a mutex.
pub(crate) struct Assembler {
    config: AssemblyConfig,
    current: FxHashMap<[u8; 16], TraceState>,
    previous: FxHashMap<[u8; 16], TraceState>,
    rotated_at: Instant,
    pub held_spans: usize,
    pub orphans: u64,
}

impl Assembler {
    pub(crate) fn new(config: AssemblyConfig) -> Self {
        Assembler {
            config,
            current: FxHashMap::default(),
            previous: FxHashMap::default(),
            rotated_at: Instant::now(),
            held_spans: 0,
            orphans: 0,
        }
    }

    /// Places the spans of one request; placed spans (with paths) are appended to `out`.
    pub(crate) fn add(
        &mut self,
        spans: Vec<Mapped>,
        now: Instant,
        now_ms: u64,
        out: &mut Vec<Record>,
    ) {
        self.maybe_rotate(now, out);
        let mut by_trace: FxHashMap<[u8; 16], Vec<SpanRecord>> = FxHashMap::default();
        for Mapped { otel_trace, span } in spans {
            by_trace.entry(otel_trace).or_default().push(span);
        }
        let mut held = self.held_spans;
        for (otel_trace, mut spans) in by_trace {
            // Parents first where the request holds both, so fewer spans are held at all.
            spans.sort_by_key(|s| (s.start_ns, s.parent_id != 0));
            let first_ms = spans
                .first()
                .map_or(now_ms, |s| (s.start_ns.max(0) / 1_000_000) as u64);
            let state = self.state(otel_trace, first_ms, now_ms);
            for mut span in spans {
                span.trace_id = state.id;
                if span.parent_id == span.span_id {
                    span.parent_id = 0; // a span cannot be its own parent
                }
                if span.parent_id == 0 {
                    state.has_root = true;
                    if let Some(original) = state.remapped {
                        span.details_mut().attrs.push((
                            Name::Borrowed("otel.trace_id"),
                            AttrValue::Str(Name::Owned(hex(&original))),
                        ));
                    }
                    held -= place(state, span, 0, out);
                } else if let Some(&parent_path) = state.paths.get(&span.parent_id) {
                    held -= place(state, span, parent_path, out);
                } else {
                    state
                        .held
                        .entry(span.parent_id)
                        .or_default()
                        .push(Held { span, since: now });
                    held += 1;
                }
            }
        }
        self.held_spans = held;
    }

    /// Roots every span that has waited longer than `orphan_wait`.
    pub(crate) fn sweep(&mut self, now: Instant, out: &mut Vec<Record>) {
        self.maybe_rotate(now, out);
        let wait = self.config.orphan_wait;
        for state in self.current.values_mut().chain(self.previous.values_mut()) {
            if !state.held.is_empty() {
                let (rooted, released) =
                    root_held(state, |h| now.duration_since(h.since) >= wait, out);
                self.orphans += rooted;
                self.held_spans -= released;
            }
        }
    }

    /// Roots everything still held (shutdown: nothing may be left in memory).
    pub(crate) fn drain(&mut self, out: &mut Vec<Record>) {
        for state in self.current.values_mut().chain(self.previous.values_mut()) {
            let (rooted, released) = root_held(state, |_| true, out);
            self.orphans += rooted;
            self.held_spans -= released;
        }
    }

    /// Two generations: traces unseen for a whole generation are forgotten, after their held
    /// spans are rooted.
    fn maybe_rotate(&mut self, now: Instant, out: &mut Vec<Record>) {
        let half = self.config.trace_memory / 2;
        if now.duration_since(self.rotated_at) < half
            && self.current.len() < self.config.max_traces / 2
        {
            return;
        }
        for state in self.previous.values_mut() {
            let (rooted, released) = root_held(state, |_| true, out);
            self.orphans += rooted;
            self.held_spans -= released;
        }
        self.previous = std::mem::take(&mut self.current);
        self.rotated_at = now;
    }

    fn state(&mut self, otel_trace: [u8; 16], first_ms: u64, now_ms: u64) -> &mut TraceState {
        if !self.current.contains_key(&otel_trace)
            && let Some(state) = self.previous.remove(&otel_trace)
        {
            self.current.insert(otel_trace, state);
        }
        self.current.entry(otel_trace).or_insert_with(|| {
            let given = TraceId(u128::from_be_bytes(otel_trace));
            let (id, remapped) = if given.is_time_ordered(now_ms) {
                (given, None)
            } else {
                let start_ms = if first_ms == 0 { now_ms } else { first_ms };
                (given.retimed(start_ms), Some(otel_trace))
            };
            TraceState {
                id,
                remapped,
                paths: FxHashMap::default(),
                held: FxHashMap::default(),
                has_root: false,
            }
        })
    }
}

/// Places `span` under `parent_path`, then every held descendant that was waiting for it;
/// returns how many held spans were released.
fn place(
    state: &mut TraceState,
    span: SpanRecord,
    parent_path: u32,
    out: &mut Vec<Record>,
) -> usize {
    let mut released = 0;
    let mut work = vec![(span, parent_path)];
    while let Some((mut span, parent_path)) = work.pop() {
        span.path = pathwise_pipeline::paths::intern(parent_path, span.name.clone());
        state.paths.insert(span.span_id, span.path);
        if let Some(children) = state.held.remove(&span.span_id) {
            released += children.len();
            work.extend(children.into_iter().map(|h| (h.span, span.path)));
        }
        out.push(Record::Span(span));
    }
    released
}

/// Roots the held spans `expired` selects; returns how many were rooted and how many held
/// spans were released in all (rooted ones and their descendants). Only spans whose
/// parent is not itself held are rooted: the others follow their rooted ancestor, keeping the
/// subtree's shape. Spans held in a cycle (bad ids) are rooted one at a time to break it.
fn root_held(
    state: &mut TraceState,
    expired: impl Fn(&Held) -> bool,
    out: &mut Vec<Record>,
) -> (u64, usize) {
    let mut rooted = 0;
    let mut released = 0;
    loop {
        let held_ids: rustc_hash::FxHashSet<u64> = state
            .held
            .values()
            .flatten()
            .map(|h| h.span.span_id)
            .collect();
        let mut tops = Vec::new();
        let mut in_cycle = None;
        for (parent, waiting) in state.held.iter_mut() {
            let top = !held_ids.contains(parent);
            let mut i = 0;
            while i < waiting.len() {
                if !expired(&waiting[i]) {
                    i += 1;
                } else if top {
                    tops.push(waiting.swap_remove(i).span);
                } else {
                    in_cycle.get_or_insert((*parent, i));
                    i += 1;
                }
            }
        }
        if tops.is_empty() {
            // Nothing expired at the top: either done, or the rest waits on each other.
            let Some((parent, i)) = in_cycle else { break };
            let waiting = state.held.get_mut(&parent).expect("key seen above");
            tops.push(waiting.swap_remove(i).span);
        }
        state.held.retain(|_, v| !v.is_empty());
        for mut span in tops {
            rooted += 1;
            released += 1;
            let missing_parent = span.parent_id;
            let details = span.details_mut();
            details
                .attrs
                .push((Name::Borrowed("pathwise.orphan"), AttrValue::Bool(true)));
            if let Some(original) = state.remapped {
                details.attrs.push((
                    Name::Borrowed("otel.trace_id"),
                    AttrValue::Str(Name::Owned(hex(&original))),
                ));
            }
            // A trace whose root never came (its caller does not export here) gets its first
            // orphan as root, so the trace completes, with a duration, instead of looking as if
            // it still ran; the missing parent's id is kept as an attribute.
            if !state.has_root {
                state.has_root = true;
                let missing = format!("{missing_parent:016x}");
                details.attrs.push((
                    Name::Borrowed("pathwise.missing_parent"),
                    AttrValue::Str(Name::Owned(missing)),
                ));
                span.parent_id = 0;
            }
            released += place(state, span, 0, out);
        }
    }
    (rooted, released)
}
