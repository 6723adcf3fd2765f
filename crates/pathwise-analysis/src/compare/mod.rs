//! Two traces compared: their spans aligned by path, with what only one of them has, how the
//! time on each path moved, which statuses changed and which decision steps saw other inputs,
//! outputs or reasoning. [`diff_spans`] is the pure diff; [`compare_traces`] loads two traces
//! through the read traits and [`typical_trace`] finds the one to compare a trace with.
//!
//! Alignment: a span's path is the names from its trace's root down to it, taken from the
//! parentage within the trace (not the stored path column, which is process-local: a span
//! recorded in another process, or written without a path dictionary, carries its name alone).
//! One row per path; when a path occurs several times (a loop), its occurrences are taken in
//! start order and the i-th of A is compared with the i-th of B.

mod align;
mod load;
#[cfg(test)]
mod tests;
pub mod windows;

use pathwise_model::{SpanKind, Status};
use pathwise_store::{PATH_SEPARATOR, SpanRow};
use serde::Serialize;

use align::{Rank, index, occurrences};
pub use load::{
    ComparedTrace, LoadedTrace, MAX_COMPARED_SPANS, TYPICAL_CANDIDATES, TYPICAL_WINDOW,
    TraceComparison, TracePair, TypicalTrace, compare, compare_traces, load_pair, pick_typical,
    typical_trace,
};

/// A path is slower (faster) in B when its time there is more than 20 % above (below) A's...
pub const SIGNIFICANT_CHANGE: f64 = 0.2;
/// ...and the two differ by at least this much: a 2 µs span taking 3 µs is noise, not news.
pub const MIN_SIGNIFICANT_NS: i64 = 100_000;
/// Longest text kept of an input, output or reasoning shown in a decision diff.
pub const MAX_VALUE_BYTES: usize = 4096;
/// Occurrence bars sent per path and trace (a loop of 10,000 iterations draws its first 50).
pub const MAX_BARS: usize = 50;
/// Changed occurrences of a decision step listed with their values.
pub const MAX_STEP_CHANGES: usize = 5;

/// Which traces have a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Both,
    OnlyA,
    OnlyB,
}

/// The one word that sums up a row, most telling first: a path only one trace has, a status
/// that changed, time that moved significantly, other occurrence counts or decision values,
/// or nothing of note.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowChange {
    OnlyA,
    OnlyB,
    Status,
    Slower,
    Faster,
    Changed,
    Same,
}

/// One trace's occurrences of a path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathSide {
    pub count: usize,
    /// Sum of the occurrences' durations.
    pub total_ms: f64,
    /// Occurrences that failed.
    pub errors: usize,
    /// `error` when any occurrence failed, else `ok`.
    pub status: &'static str,
    /// `[start, duration]` in ms from the trace's first span, of the first [`MAX_BARS`]
    /// occurrences: what a waterfall draws.
    pub bars: Vec<[f64; 2]>,
}

/// One input, output or reasoning that differs between aligned occurrences of a step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    /// `input`, `output` or `reasoning`.
    pub field: &'static str,
    /// JSON text (input, output) or the text itself (reasoning), at most [`MAX_VALUE_BYTES`].
    pub a: Option<String>,
    pub b: Option<String>,
    /// Either value was cut (and ends with `…`).
    pub truncated: bool,
}

/// The i-th occurrence of a step in A against the i-th in B.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepChange {
    /// 1 for the first occurrence.
    pub occurrence: usize,
    pub span_a: String,
    pub span_b: String,
    pub fields: Vec<FieldChange>,
}

/// What differs in a decision step (kind `step`) that both traces have.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecisionDiff {
    pub input_changed: bool,
    pub output_changed: bool,
    pub reasoning_changed: bool,
    /// Aligned occurrences with any change.
    pub changed_occurrences: usize,
    /// The first [`MAX_STEP_CHANGES`] of them, with both values.
    pub occurrences: Vec<StepChange>,
}

/// One aligned path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathRow {
    /// Root first, joined by ` → `.
    pub path: String,
    pub name: String,
    /// 0 for a root.
    pub depth: usize,
    /// Span kind of the path's first occurrence (A's, else B's).
    pub kind: &'static str,
    pub presence: Presence,
    pub change: RowChange,
    pub a: Option<PathSide>,
    pub b: Option<PathSide>,
    /// B's total minus A's, when both have the path.
    pub delta_ms: Option<f64>,
    /// B's total over A's, when both have it and A's is not 0.
    pub ratio: Option<f64>,
    /// Both have the path and its status differs overall or in an aligned occurrence.
    pub status_changed: bool,
    /// Both have the path, a different number of times.
    pub count_changed: bool,
    /// A step whose input, output or reasoning differs; `None` otherwise.
    pub decision: Option<DecisionDiff>,
}

/// How many rows of each kind (a row can count under several: slower and status changed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct DiffTotals {
    pub rows: usize,
    pub only_in_a: usize,
    pub only_in_b: usize,
    pub status_changed: usize,
    /// Significantly slower in B ([`SIGNIFICANT_CHANGE`], [`MIN_SIGNIFICANT_NS`]).
    pub slower: usize,
    pub faster: usize,
    pub count_changed: usize,
    pub decision_changed: usize,
    pub unchanged: usize,
    /// The thresholds used: [`SIGNIFICANT_CHANGE`] and [`MIN_SIGNIFICANT_NS`] in ms.
    pub change_threshold: f64,
    pub min_delta_ms: f64,
}

/// The aligned rows of two traces' spans and their totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpanDiff {
    pub rows: Vec<PathRow>,
    pub totals: DiffTotals,
}

fn side(occurrences: &[&SpanRow], origin_ns: i64) -> PathSide {
    let errors = occurrences
        .iter()
        .filter(|s| s.status == Status::Error)
        .count();
    PathSide {
        count: occurrences.len(),
        total_ms: occurrences.iter().map(|s| s.duration_ns).sum::<i64>() as f64 / 1e6,
        errors,
        status: if errors > 0 { "error" } else { "ok" },
        bars: occurrences
            .iter()
            .take(MAX_BARS)
            .map(|s| {
                [
                    (s.start_ns - origin_ns) as f64 / 1e6,
                    s.duration_ns as f64 / 1e6,
                ]
            })
            .collect(),
    }
}

/// `text` cut to [`MAX_VALUE_BYTES`] at a character boundary; whether it was cut.
fn clip(mut text: String) -> (String, bool) {
    if text.len() <= MAX_VALUE_BYTES {
        return (text, false);
    }
    let mut end = MAX_VALUE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    (text, true)
}

fn field_change(field: &'static str, a: Option<String>, b: Option<String>) -> FieldChange {
    let ((a, cut_a), (b, cut_b)) = (a.map(clip).unzip(), b.map(clip).unzip());
    FieldChange {
        field,
        a,
        b,
        truncated: cut_a.unwrap_or(false) || cut_b.unwrap_or(false),
    }
}

fn json_text(value: &Option<serde_json::Value>) -> Option<String> {
    value.as_ref().map(|v| v.to_string())
}

/// The decision diff of a step's aligned occurrences; `None` when none differs.
fn decision(a: &[&SpanRow], b: &[&SpanRow]) -> Option<DecisionDiff> {
    let mut diff = DecisionDiff {
        input_changed: false,
        output_changed: false,
        reasoning_changed: false,
        changed_occurrences: 0,
        occurrences: Vec::new(),
    };
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        // Each decision field: whether it differs here, and both values as text.
        let compared = [
            (
                "input",
                &mut diff.input_changed,
                json_text(&x.input),
                json_text(&y.input),
            ),
            (
                "output",
                &mut diff.output_changed,
                json_text(&x.output),
                json_text(&y.output),
            ),
            (
                "reasoning",
                &mut diff.reasoning_changed,
                x.reasoning.clone(),
                y.reasoning.clone(),
            ),
        ];
        let mut fields = Vec::new();
        for (name, changed, in_a, in_b) in compared {
            if in_a != in_b {
                *changed = true;
                fields.push(field_change(name, in_a, in_b));
            }
        }
        if fields.is_empty() {
            continue;
        }
        diff.changed_occurrences += 1;
        if diff.occurrences.len() < MAX_STEP_CHANGES {
            diff.occurrences.push(StepChange {
                occurrence: i + 1,
                span_a: x.span_id.to_string(),
                span_b: y.span_id.to_string(),
                fields,
            });
        }
    }
    (diff.changed_occurrences > 0).then_some(diff)
}

/// Whether `to` is significantly above (`Slower`) or below (`Faster`) `from`.
fn timing(from_ns: i64, to_ns: i64) -> Option<RowChange> {
    if (to_ns - from_ns).abs() < MIN_SIGNIFICANT_NS {
        return None;
    }
    if to_ns as f64 > from_ns as f64 * (1.0 + SIGNIFICANT_CHANGE) {
        Some(RowChange::Slower)
    } else if (to_ns as f64) < from_ns as f64 * (1.0 - SIGNIFICANT_CHANGE) {
        Some(RowChange::Faster)
    } else {
        None
    }
}

/// The row of one path, and whether its time moved significantly (for the totals, which count
/// a slower path whose status also changed under both).
fn row(
    segments: &[&str],
    a: Option<(&[&SpanRow], i64)>,
    b: Option<(&[&SpanRow], i64)>,
) -> (PathRow, Option<RowChange>) {
    let first = a.or(b).and_then(|(spans, _)| spans.first());
    let kind = first.map_or(SpanKind::Span, |s| s.kind);
    let mut row = PathRow {
        path: segments.join(PATH_SEPARATOR),
        name: segments.last().map_or_else(String::new, |s| s.to_string()),
        depth: segments.len().saturating_sub(1),
        kind: kind.as_str(),
        presence: Presence::Both,
        change: RowChange::Same,
        a: a.map(|(spans, origin)| side(spans, origin)),
        b: b.map(|(spans, origin)| side(spans, origin)),
        delta_ms: None,
        ratio: None,
        status_changed: false,
        count_changed: false,
        decision: None,
    };
    let (Some((xs, _)), Some((ys, _))) = (a, b) else {
        (row.presence, row.change) = if a.is_some() {
            (Presence::OnlyA, RowChange::OnlyA)
        } else {
            (Presence::OnlyB, RowChange::OnlyB)
        };
        return (row, None);
    };
    let total = |spans: &[&SpanRow]| spans.iter().map(|s| s.duration_ns).sum::<i64>();
    let (total_a, total_b) = (total(xs), total(ys));
    row.delta_ms = Some((total_b - total_a) as f64 / 1e6);
    row.ratio = (total_a > 0).then(|| total_b as f64 / total_a as f64);
    let (side_a, side_b) = (row.a.as_ref(), row.b.as_ref());
    row.status_changed = side_a.map(|s| s.status) != side_b.map(|s| s.status)
        || xs.iter().zip(ys).any(|(x, y)| x.status != y.status);
    row.count_changed = xs.len() != ys.len();
    if kind == SpanKind::Step {
        row.decision = decision(xs, ys);
    }
    let moved = timing(total_a, total_b);
    row.change = if row.status_changed {
        RowChange::Status
    } else if let Some(moved) = moved {
        moved
    } else if row.count_changed || row.decision.is_some() {
        RowChange::Changed
    } else {
        RowChange::Same
    };
    (row, moved)
}

/// Aligns two traces' spans by path and compares each path. Rows come in A's depth-first
/// order; a path only B has follows its siblings that A has, so it stays under its parent.
///
/// ```
/// use pathwise_analysis::compare::{RowChange, diff_spans};
/// # fn span(id: u64, parent: u64, name: &str, dur_ms: i64) -> pathwise_store::SpanRow {
/// #     pathwise_store::SpanRow { span_id: id, parent_id: parent, name: name.into(),
/// #         path: String::new(), group: None, kind: pathwise_model::SpanKind::Span,
/// #         start_ns: id as i64, duration_ns: dur_ms * 1_000_000,
/// #         status: pathwise_model::Status::Ok, error_type: None, error_message: None,
/// #         error_chain: None, attrs: None, input: None, output: None, reasoning: None,
/// #         metadata: None }
/// # }
/// let a = [span(1, 0, "main", 10), span(2, 1, "load", 4)];
/// let b = [span(1, 0, "main", 12), span(2, 1, "load", 8), span(3, 1, "retry", 1)];
/// let diff = diff_spans(&a, &b);
/// let rows: Vec<(&str, RowChange)> = diff.rows.iter().map(|r| (r.path.as_str(), r.change)).collect();
/// assert_eq!(rows, [("main", RowChange::Same), ("main → load", RowChange::Slower),
///                   ("main → retry", RowChange::OnlyB)]);
/// assert_eq!((diff.totals.slower, diff.totals.only_in_b), (1, 1));
/// ```
pub fn diff_spans(a: &[SpanRow], b: &[SpanRow]) -> SpanDiff {
    let (ia, ib) = (index(a), index(b));
    let rank = |segments: &[&str]| -> Vec<Rank> {
        (1..=segments.len())
            .map(|k| match ia.lookup.get(&segments[..k]) {
                Some(&i) => (0, i),
                None => (
                    1,
                    ib.lookup.get(&segments[..k]).copied().unwrap_or(usize::MAX),
                ),
            })
            .collect()
    };
    let mut order: Vec<(Vec<Rank>, &[&str])> = ia
        .paths
        .iter()
        .map(|(segments, _)| segments.as_slice())
        .chain(
            ib.paths
                .iter()
                .map(|(segments, _)| segments.as_slice())
                .filter(|s| !ia.lookup.contains_key(*s)),
        )
        .map(|segments| (rank(segments), segments))
        .collect();
    order.sort();
    let mut totals = DiffTotals {
        rows: order.len(),
        change_threshold: SIGNIFICANT_CHANGE,
        min_delta_ms: MIN_SIGNIFICANT_NS as f64 / 1e6,
        ..DiffTotals::default()
    };
    let mut rows = Vec::with_capacity(order.len());
    for (_, segments) in order {
        let (r, moved) = row(
            segments,
            occurrences(&ia, segments),
            occurrences(&ib, segments),
        );
        totals.only_in_a += usize::from(r.presence == Presence::OnlyA);
        totals.only_in_b += usize::from(r.presence == Presence::OnlyB);
        totals.status_changed += usize::from(r.status_changed);
        totals.slower += usize::from(moved == Some(RowChange::Slower));
        totals.faster += usize::from(moved == Some(RowChange::Faster));
        totals.count_changed += usize::from(r.count_changed);
        totals.decision_changed += usize::from(r.decision.is_some());
        totals.unchanged += usize::from(r.change == RowChange::Same);
        rows.push(r);
    }
    SpanDiff { rows, totals }
}
