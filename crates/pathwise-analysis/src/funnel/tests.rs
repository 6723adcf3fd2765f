//! Funnels of hand-built decision traces, every figure counted by hand.

use pathwise_model::TraceStatus;
use serde_json::{Value, json};

use super::{DecisionTrace, TracedStep, build_funnel};

const MS: i64 = 1_000_000;

fn step(name: &str, at_ms: i64, dur_ms: i64, failed: bool, metadata: Option<Value>) -> TracedStep {
    TracedStep {
        name: name.into(),
        start_ns: at_ms * MS,
        duration_ns: dur_ms * MS,
        failed,
        metadata,
    }
}

/// An item's evaluation: `verdicts` in order, and whether it qualified.
fn item(id: &str, verdicts: &[(&str, bool)], qualified: bool) -> Value {
    let filters: Vec<Value> = verdicts
        .iter()
        .map(|(name, passed)| json!({"name": name, "passed": passed, "detail": "…"}))
        .collect();
    json!({"item_id": id, "item_data": {}, "filters": filters, "qualified": qualified, "reasoning": null})
}

fn trace(id: u8, status: TraceStatus, steps: Vec<TracedStep>) -> DecisionTrace {
    DecisionTrace {
        trace_id: format!("{id:032x}"),
        status,
        steps,
    }
}

/// Three traces of `select`:
/// - t1 (completed): search 10 ms, filters 4 ms over B1 (price ✓ rating ✓ → qualified),
///   B2 (price ✗ rating ✗), B3 (price ✓ rating ✗), rank 2 ms ranking 1 item.
/// - t2 (completed): search 20 ms, filters 6 ms over B4 (rating ✗ price ✓ — listed in the
///   other order), B5 (price ✓ rating ✓ but not qualified), rank 3 ms ranking 0 items.
/// - t3 (failed): search 30 ms, filters failing at 8 ms (no evaluations); no rank.
///
/// Steps are given out of start order in t2 to show order comes from start times.
fn fixture() -> Vec<DecisionTrace> {
    let f1 = json!({"evaluations": [
        item("B1", &[("price", true), ("rating", true)], true),
        item("B2", &[("price", false), ("rating", false)], false),
        item("B3", &[("price", true), ("rating", false)], false),
    ]});
    let f2 = json!({"evaluations": [
        item("B4", &[("rating", false), ("price", true)], false),
        item("B5", &[("price", true), ("rating", true)], false),
    ]});
    vec![
        trace(
            3,
            TraceStatus::Failed,
            vec![
                step("search", 0, 30, false, None),
                step("filters", 30, 8, true, None),
            ],
        ),
        trace(
            2,
            TraceStatus::Completed,
            vec![
                step("rank", 26, 3, false, Some(json!({"ranking": []}))),
                step("filters", 20, 6, false, Some(f2)),
                step("search", 0, 20, false, None),
            ],
        ),
        trace(
            1,
            TraceStatus::Completed,
            vec![
                step("search", 0, 10, false, None),
                step("filters", 10, 4, false, Some(f1)),
                step(
                    "rank",
                    14,
                    2,
                    false,
                    Some(json!({"ranking": [{"item_id": "B1", "rank": 1}]})),
                ),
            ],
        ),
    ]
}

#[test]
fn traces_reach_and_fail_steps_in_order() {
    let f = build_funnel("select", &fixture());
    assert_eq!((f.traces, f.completed, f.failed, f.running), (3, 2, 1, 0));
    let names: Vec<&str> = f.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["search", "filters", "rank"]);
    let reach: Vec<(u64, u64, u64)> = f
        .steps
        .iter()
        .map(|s| (s.traces, s.failed_traces, s.dropped_before))
        .collect();
    assert_eq!(reach, [(3, 0, 0), (3, 1, 0), (2, 0, 1)]);
    assert_eq!(f.steps[1].failed_examples, [format!("{:032x}", 3)]);
    // Durations: search 10, 20, 30 → p50 20, p95 30 (nearest rank).
    assert_eq!((f.steps[0].p50_ms, f.steps[0].p95_ms), (20.0, 30.0));
}

#[test]
fn candidates_flow_through_filters_in_recorded_order() {
    let f = build_funnel("select", &fixture());
    let filters = &f.steps[1];
    assert_eq!((filters.items_in, filters.items_out), (Some(5), Some(1)));
    // B5 passed both filters and was still not qualified.
    assert_eq!(filters.unqualified_after_filters, 1);
    let by_name: Vec<(&str, u64, u64, u64, u64)> = filters
        .filters
        .iter()
        .map(|x| {
            (
                x.name.as_str(),
                x.evaluated,
                x.passed,
                x.rejected,
                x.first_rejections,
            )
        })
        .collect();
    // price: B1 ✓ B2 ✗(first) B3 ✓ B4 ✓ B5 ✓; rating: B1 ✓ B2 ✗ B3 ✗(first) B4 ✗(first) B5 ✓.
    assert_eq!(by_name, [("price", 5, 4, 1, 1), ("rating", 5, 2, 3, 2)]);
    // The flows add up: 5 in = 1 + 2 first rejections + 2 passing every filter.
    let first: u64 = filters.filters.iter().map(|x| x.first_rejections).sum();
    assert_eq!(first + 2, 5);
    // rating rejected in t2 (newest first) and t1.
    assert_eq!(
        filters.filters[1].examples,
        [format!("{:032x}", 2), format!("{:032x}", 1)]
    );
}

#[test]
fn rankings_count_their_items_and_plain_steps_none() {
    let f = build_funnel("select", &fixture());
    assert_eq!(
        (f.steps[2].items_in, f.steps[2].items_out),
        (Some(1), Some(1))
    );
    assert_eq!((f.steps[0].items_in, f.steps[0].items_out), (None, None));
}

#[test]
fn malformed_evaluations_are_skipped_not_fatal() {
    let odd = json!({"evaluations": [
        {"item_id": "x"},                                        // no verdict: skipped
        {"qualified": true, "filters": "not a list"},            // counted, no filters
        {"qualified": false, "filters": [{"name": 3, "passed": true}, {"name": "ok", "passed": false}]},
    ]});
    let t = trace(
        1,
        TraceStatus::Completed,
        vec![step("s", 0, 1, false, Some(odd))],
    );
    let f = build_funnel("odd", &[t]);
    let s = &f.steps[0];
    assert_eq!((s.items_in, s.items_out), (Some(2), Some(1)));
    assert_eq!(s.filters.len(), 1);
    assert_eq!(
        (s.filters[0].rejected, s.filters[0].first_rejections),
        (1, 1)
    );
}

#[test]
fn a_step_failing_twice_in_a_trace_counts_the_trace_once() {
    let t = trace(
        1,
        TraceStatus::Failed,
        vec![
            step("retry", 0, 1, true, None),
            step("retry", 1, 1, true, None),
        ],
    );
    let f = build_funnel("r", &[t]);
    assert_eq!((f.steps[0].traces, f.steps[0].failed_traces), (1, 1));
    assert_eq!(f.steps[0].p50_ms, 1.0);
}

#[test]
fn no_traces_no_steps() {
    let f = build_funnel("none", &[]);
    assert_eq!((f.traces, f.steps.len()), (0, 0));
}
