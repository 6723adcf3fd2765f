//! Decision funnels: for the decision traces of one name over a window, how many traces reach
//! each step and fail there, how many candidates enter each step and survive it, and which
//! filters reject them — built from what steps already record (`metadata.evaluations`:
//! an item, its filters' verdicts and whether it qualified; `metadata.ranking`).
//!
//! Candidates flow through a step's filters **in the order each evaluation lists them**: an
//! item leaves at the first filter it fails (its `first_rejections`), so the flows of a step
//! add up — entered = Σ first rejections + passed every filter — and can be drawn as a Sankey.
//! `rejected` counts every failed verdict, so a filter that is always second to reject still
//! shows how much it would reject on its own.
//!
//! ```
//! use pathwise_analysis::funnel::{DecisionTrace, TracedStep, build_funnel};
//! use pathwise_model::TraceStatus;
//! use serde_json::json;
//! let step = TracedStep {
//!     name: "apply_filters".into(),
//!     start_ns: 0,
//!     duration_ns: 2_000_000,
//!     failed: false,
//!     metadata: Some(json!({"evaluations": [
//!         {"item_id": "B1", "qualified": true, "filters": [{"name": "price", "passed": true}]},
//!         {"item_id": "B2", "qualified": false, "filters": [{"name": "price", "passed": false}]},
//!     ]})),
//! };
//! let trace = DecisionTrace { trace_id: "00".repeat(16), status: TraceStatus::Completed, steps: vec![step] };
//! let funnel = build_funnel("pick", &[trace]);
//! let filters = &funnel.steps[0].filters;
//! assert_eq!((funnel.steps[0].items_in, funnel.steps[0].items_out), (Some(2), Some(1)));
//! assert_eq!((filters[0].evaluated, filters[0].rejected), (2, 1));
//! ```

mod load;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use pathwise_model::TraceStatus;
use serde::Serialize;
use serde_json::Value;

pub use load::{MAX_SPANS_PER_TRACE, MAX_TRACES, decision_funnel};
pub(crate) use load::{steps_of, traces_named};

/// Example traces kept per step, filter or outcome.
pub const MAX_EXAMPLES: usize = 5;

/// One step of one decision trace, as the funnel reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct TracedStep {
    pub name: String,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub failed: bool,
    pub metadata: Option<Value>,
}

/// One decision trace: its id (hex), status and steps in any order.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionTrace {
    pub trace_id: String,
    pub status: TraceStatus,
    pub steps: Vec<TracedStep>,
}

/// The funnel of one decision-trace name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Funnel {
    pub name: String,
    /// Decision traces read (the newest [`MAX_TRACES`] of the window).
    pub traces: u64,
    pub completed: u64,
    pub failed: u64,
    pub running: u64,
    /// Steps in the order traces run them (by their mean position).
    pub steps: Vec<FunnelStep>,
}

/// A step across the traces: how many reach it, fail in it, and what happens to candidates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FunnelStep {
    pub name: String,
    /// Traces that ran the step (at least once).
    pub traces: u64,
    /// Traces in which the step failed.
    pub failed_traces: u64,
    /// Of the traces that ran the previous step, those that never ran this one.
    pub dropped_before: u64,
    /// Median and p95 of the step's duration, ms (per run of the step).
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Candidates evaluated in the step (`metadata.evaluations`), or ranked
    /// (`metadata.ranking`) — summed over traces; `None` when the step records neither.
    pub items_in: Option<u64>,
    /// Of those, the ones that qualified (for a ranking: every ranked item).
    pub items_out: Option<u64>,
    /// Evaluated items that passed every filter they were given but were not qualified.
    pub unqualified_after_filters: u64,
    /// The step's filters in the order items meet them (mean position in the evaluations).
    pub filters: Vec<FilterFigures>,
    /// Newest traces in which the step failed.
    pub failed_examples: Vec<String>,
    /// Newest traces that ran the step.
    pub examples: Vec<String>,
}

/// One filter of a step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilterFigures {
    pub name: String,
    /// Verdicts given.
    pub evaluated: u64,
    pub passed: u64,
    /// Failed verdicts (an item can fail several filters).
    pub rejected: u64,
    /// Items this filter was the first to reject, in each evaluation's filter order: the
    /// filter's outflow in the Sankey.
    pub first_rejections: u64,
    /// Newest traces in which the filter rejected an item.
    pub examples: Vec<String>,
}

/// One item's verdicts, as `metadata.evaluations` holds them.
struct Evaluation<'a> {
    qualified: bool,
    /// (filter name, passed), in the recorded order.
    verdicts: Vec<(&'a str, bool)>,
}

fn evaluations(metadata: Option<&Value>) -> Option<Vec<Evaluation<'_>>> {
    let list = metadata?.get("evaluations")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|e| {
                let verdicts = e
                    .get("filters")
                    .and_then(Value::as_array)
                    .map(|filters| {
                        filters
                            .iter()
                            .filter_map(|f| {
                                Some((f.get("name")?.as_str()?, f.get("passed")?.as_bool()?))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Some(Evaluation {
                    qualified: e.get("qualified")?.as_bool()?,
                    verdicts,
                })
            })
            .collect(),
    )
}

fn ranked(metadata: Option<&Value>) -> Option<u64> {
    Some(metadata?.get("ranking")?.as_array()?.len() as u64)
}

/// A step's figures while traces are read.
#[derive(Default)]
struct StepAcc {
    traces: u64,
    failed_traces: u64,
    position_sum: f64,
    durations: Vec<i64>,
    items_in: Option<u64>,
    items_out: Option<u64>,
    unqualified_after_filters: u64,
    filters: Vec<FilterFigures>,
    /// Per filter, the sum of its positions in the evaluations that list it.
    filter_positions: Vec<f64>,
    failed_examples: Vec<String>,
    examples: Vec<String>,
}

fn keep_example(list: &mut Vec<String>, id: &str) {
    if list.len() < MAX_EXAMPLES && list.last().is_none_or(|last| last != id) {
        list.push(id.to_string());
    }
}

impl StepAcc {
    fn filter(&mut self, name: &str, position: usize) -> &mut FilterFigures {
        let at = match self.filters.iter().position(|f| f.name == name) {
            Some(at) => at,
            None => {
                self.filters.push(FilterFigures {
                    name: name.to_string(),
                    evaluated: 0,
                    passed: 0,
                    rejected: 0,
                    first_rejections: 0,
                    examples: Vec::new(),
                });
                self.filter_positions.push(0.0);
                self.filters.len() - 1
            }
        };
        self.filter_positions[at] += position as f64;
        &mut self.filters[at]
    }

    /// The filters by their mean position in the evaluations (then by name): the order
    /// items usually meet them.
    fn ordered_filters(self) -> Vec<FilterFigures> {
        let mut filters: Vec<(f64, FilterFigures)> = self
            .filter_positions
            .into_iter()
            .zip(self.filters)
            .map(|(sum, f)| (sum / f.evaluated.max(1) as f64, f))
            .collect();
        filters
            .sort_by(|(a_at, a), (b_at, b)| a_at.total_cmp(b_at).then_with(|| a.name.cmp(&b.name)));
        filters.into_iter().map(|(_, f)| f).collect()
    }

    /// One run of the step in `trace_id`.
    fn add_run(&mut self, trace_id: &str, step: &TracedStep) {
        self.durations.push(step.duration_ns);
        let metadata = step.metadata.as_ref();
        if let Some(items) = evaluations(metadata) {
            *self.items_in.get_or_insert(0) += items.len() as u64;
            *self.items_out.get_or_insert(0) += items.iter().filter(|e| e.qualified).count() as u64;
            for item in &items {
                let mut first = true;
                for (position, &(name, passed)) in item.verdicts.iter().enumerate() {
                    let filter = self.filter(name, position);
                    filter.evaluated += 1;
                    if passed {
                        filter.passed += 1;
                    } else {
                        filter.rejected += 1;
                        keep_example(&mut filter.examples, trace_id);
                        if std::mem::take(&mut first) {
                            filter.first_rejections += 1;
                        }
                    }
                }
                if first && !item.qualified {
                    self.unqualified_after_filters += 1;
                }
            }
        } else if let Some(count) = ranked(metadata) {
            *self.items_in.get_or_insert(0) += count;
            *self.items_out.get_or_insert(0) += count;
        }
    }
}

/// Nearest-rank percentile of sorted `values`, ms.
fn percentile_ms(sorted: &[i64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e6
}

/// The funnel of `traces` (all of one name, newest first so examples are the newest).
pub fn build_funnel(name: &str, traces: &[DecisionTrace]) -> Funnel {
    let mut steps: HashMap<&str, StepAcc> = HashMap::new();
    // The steps each trace ran, for the drop-off between consecutive steps.
    let mut ran: Vec<Vec<&str>> = Vec::with_capacity(traces.len());
    let (mut completed, mut failed, mut running) = (0, 0, 0);
    for trace in traces {
        match trace.status {
            TraceStatus::Completed => completed += 1,
            TraceStatus::Failed => failed += 1,
            TraceStatus::Running => running += 1,
        }
        let mut ordered: Vec<&TracedStep> = trace.steps.iter().collect();
        ordered.sort_by_key(|s| s.start_ns);
        let (mut seen, mut failed_here): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for step in ordered {
            let acc = steps.entry(&step.name).or_default();
            acc.add_run(&trace.trace_id, step);
            if !seen.contains(&step.name.as_str()) {
                acc.traces += 1;
                acc.position_sum += seen.len() as f64;
                keep_example(&mut acc.examples, &trace.trace_id);
                seen.push(&step.name);
            }
            // A trace counts once however often the step failed in it.
            if step.failed && !failed_here.contains(&step.name.as_str()) {
                acc.failed_traces += 1;
                keep_example(&mut acc.failed_examples, &trace.trace_id);
                failed_here.push(&step.name);
            }
        }
        ran.push(seen);
    }
    let mut ordered: Vec<(&str, StepAcc)> = steps.into_iter().collect();
    ordered.sort_by(|(a_name, a), (b_name, b)| {
        let (a_mean, b_mean) = (
            a.position_sum / a.traces as f64,
            b.position_sum / b.traces as f64,
        );
        a_mean.total_cmp(&b_mean).then_with(|| a_name.cmp(b_name))
    });
    let mut previous: Option<&str> = None;
    let steps = ordered
        .into_iter()
        .map(|(name, mut acc)| {
            acc.durations.sort_unstable();
            let durations = std::mem::take(&mut acc.durations);
            let dropped_before = previous.map_or(0, |before| {
                ran.iter()
                    .filter(|names| names.contains(&before) && !names.contains(&name))
                    .count() as u64
            });
            previous = Some(name);
            FunnelStep {
                name: name.to_string(),
                traces: acc.traces,
                failed_traces: acc.failed_traces,
                dropped_before,
                p50_ms: percentile_ms(&durations, 0.5),
                p95_ms: percentile_ms(&durations, 0.95),
                items_in: acc.items_in,
                items_out: acc.items_out,
                unqualified_after_filters: acc.unqualified_after_filters,
                failed_examples: std::mem::take(&mut acc.failed_examples),
                examples: std::mem::take(&mut acc.examples),
                filters: acc.ordered_filters(),
            }
        })
        .collect();
    Funnel {
        name: name.to_string(),
        traces: traces.len() as u64,
        completed,
        failed,
        running,
        steps,
    }
}
