//! The diff over hand-built traces whose every row is known by construction.

use pathwise_model::{SpanKind, Status, TraceId, TraceStatus};
use pathwise_store::{SpanRow, SpanSkeleton, TraceSummary};
use serde_json::json;

use super::load::{depth_limit, depths};
use super::*;

const MS: i64 = 1_000_000;

fn span(id: u64, parent: u64, name: &str, start_ms: i64, dur_ms: i64) -> SpanRow {
    SpanRow {
        span_id: id,
        parent_id: parent,
        name: name.into(),
        path: String::new(),
        group: None,
        kind: SpanKind::Function,
        start_ns: 1_000 * MS + start_ms * MS,
        duration_ns: dur_ms * MS,
        status: Status::Ok,
        error_type: None,
        error_message: None,
        error_chain: None,
        attrs: None,
        input: None,
        output: None,
        reasoning: None,
        metadata: None,
    }
}

fn failed(mut s: SpanRow) -> SpanRow {
    s.status = Status::Error;
    s
}

fn step(mut s: SpanRow, output: serde_json::Value) -> SpanRow {
    s.kind = SpanKind::Step;
    s.input = Some(json!({"candidates": ["B1", "B7"]}));
    s.output = Some(output);
    s.reasoning = Some("cheapest first".into());
    s
}

/// A: handle 0–100 ms with validate (10), legacy_check (5, A only), fetch ×3 (10 each), store
/// (10), enrich (20) and the step choose (10, picks B1).
fn trace_a() -> Vec<SpanRow> {
    vec![
        span(1, 0, "handle", 0, 100),
        span(2, 1, "validate", 0, 10),
        span(3, 1, "legacy_check", 10, 5),
        span(4, 1, "fetch", 15, 10),
        span(5, 1, "fetch", 25, 10),
        span(6, 1, "fetch", 35, 10),
        span(7, 1, "store", 45, 10),
        span(8, 1, "enrich", 55, 20),
        step(span(9, 1, "choose", 75, 10), json!({"pick": "B1"})),
    ]
}

/// B: handle 0–105 ms with validate (10) and under it schema (2, B only), fetch ×2, store
/// failing, enrich twice as slow (40), choose picking B7, and cache_lookup (3, B only).
fn trace_b() -> Vec<SpanRow> {
    vec![
        span(11, 0, "handle", 0, 105),
        span(12, 11, "validate", 0, 10),
        span(13, 12, "schema", 1, 2),
        span(14, 11, "fetch", 10, 10),
        span(15, 11, "fetch", 20, 10),
        failed(span(16, 11, "store", 30, 10)),
        span(17, 11, "enrich", 40, 40),
        step(span(18, 11, "choose", 80, 10), json!({"pick": "B7"})),
        span(19, 11, "cache_lookup", 90, 3),
    ]
}

#[test]
fn every_row_of_the_hand_built_pair() {
    let diff = diff_spans(&trace_a(), &trace_b());
    let rows: Vec<(&str, RowChange)> = diff
        .rows
        .iter()
        .map(|r| (r.path.as_str(), r.change))
        .collect();
    assert_eq!(
        rows,
        [
            ("handle", RowChange::Same),
            ("handle → validate", RowChange::Same),
            ("handle → validate → schema", RowChange::OnlyB),
            ("handle → legacy_check", RowChange::OnlyA),
            ("handle → fetch", RowChange::Faster),
            ("handle → store", RowChange::Status),
            ("handle → enrich", RowChange::Slower),
            ("handle → choose", RowChange::Changed),
            ("handle → cache_lookup", RowChange::OnlyB),
        ]
    );
    let row = |path: &str| diff.rows.iter().find(|r| r.path == path).unwrap();

    let schema = row("handle → validate → schema");
    assert_eq!((schema.depth, schema.presence), (2, Presence::OnlyB));
    assert!(schema.a.is_none() && schema.delta_ms.is_none());
    assert_eq!(schema.b.as_ref().unwrap().total_ms, 2.0);

    // The loop: 3 occurrences against 2, 30 ms against 20 (a third less: faster).
    let fetch = row("handle → fetch");
    let (a, b) = (fetch.a.as_ref().unwrap(), fetch.b.as_ref().unwrap());
    assert_eq!(
        (a.count, b.count, a.total_ms, b.total_ms),
        (3, 2, 30.0, 20.0)
    );
    assert!(fetch.count_changed && !fetch.status_changed);
    assert_eq!(fetch.delta_ms, Some(-10.0));
    assert_eq!(a.bars, [[15.0, 10.0], [25.0, 10.0], [35.0, 10.0]]);
    assert_eq!(b.bars, [[10.0, 10.0], [20.0, 10.0]]);

    let store = row("handle → store");
    assert!(store.status_changed);
    assert_eq!(store.a.as_ref().unwrap().status, "ok");
    assert_eq!(
        (
            store.b.as_ref().unwrap().status,
            store.b.as_ref().unwrap().errors
        ),
        ("error", 1)
    );

    let enrich = row("handle → enrich");
    assert_eq!((enrich.ratio, enrich.delta_ms), (Some(2.0), Some(20.0)));

    let choose = row("handle → choose");
    assert_eq!(choose.kind, "step");
    let decision = choose.decision.as_ref().unwrap();
    assert!(decision.output_changed && !decision.input_changed && !decision.reasoning_changed);
    assert_eq!(decision.changed_occurrences, 1);
    let change = &decision.occurrences[0];
    assert_eq!(
        (
            change.occurrence,
            change.span_a.as_str(),
            change.span_b.as_str()
        ),
        (1, "9", "18")
    );
    assert_eq!(
        change.fields,
        [FieldChange {
            field: "output",
            a: Some(r#"{"pick":"B1"}"#.into()),
            b: Some(r#"{"pick":"B7"}"#.into()),
            truncated: false,
        }]
    );
    assert!(row("handle → enrich").decision.is_none(), "not a step");

    let t = diff.totals;
    assert_eq!(
        (
            t.rows,
            t.only_in_a,
            t.only_in_b,
            t.status_changed,
            t.slower,
            t.faster
        ),
        (9, 1, 2, 1, 1, 1)
    );
    assert_eq!(
        (t.count_changed, t.decision_changed, t.unchanged),
        (1, 1, 2)
    );
    assert_eq!((t.change_threshold, t.min_delta_ms), (0.2, 0.1));
}

#[test]
fn loop_occurrences_are_aligned_in_start_order() {
    // A loop of steps; the second iteration decided otherwise in B. Listed out of start order
    // (as a store may deliver spans of equal parents), aligned by start all the same.
    let a = vec![
        span(1, 0, "run", 0, 50),
        step(span(4, 1, "pick", 20, 5), json!(3)),
        step(span(2, 1, "pick", 0, 5), json!(1)),
        step(span(3, 1, "pick", 10, 5), json!(2)),
    ];
    let b = vec![
        span(1, 0, "run", 0, 50),
        step(span(2, 1, "pick", 0, 5), json!(1)),
        step(span(3, 1, "pick", 10, 5), json!(20)),
        step(span(4, 1, "pick", 20, 5), json!(3)),
    ];
    let diff = diff_spans(&a, &b);
    let decision = diff.rows[1].decision.as_ref().unwrap();
    assert_eq!(decision.changed_occurrences, 1);
    assert_eq!(decision.occurrences[0].occurrence, 2);
    assert_eq!(decision.occurrences[0].fields[0].a.as_deref(), Some("2"));
    assert_eq!(decision.occurrences[0].fields[0].b.as_deref(), Some("20"));
    assert_eq!(diff.rows[1].change, RowChange::Changed);
}

#[test]
fn long_values_are_cut_at_a_character_boundary_and_small_moves_are_noise() {
    let long = "é".repeat(3_000); // 6,000 bytes
    let mut a = step(span(1, 0, "think", 0, 1), json!(null));
    let mut b = a.clone();
    a.reasoning = Some(long.clone());
    b.reasoning = Some(format!("{long}!"));
    let diff = diff_spans(&[a], &[b]);
    let field = &diff.rows[0].decision.as_ref().unwrap().occurrences[0].fields[0];
    assert_eq!(field.field, "reasoning");
    assert!(field.truncated);
    let kept = field.a.as_deref().unwrap();
    assert_eq!(kept.len(), MAX_VALUE_BYTES + "…".len());
    assert!(kept.ends_with('…'));

    // 0.05 ms against 0.1 ms is twice as long, but under the 0.1 ms floor.
    let mut x = span(1, 0, "tiny", 0, 0);
    x.duration_ns = 50_000;
    let mut y = x.clone();
    y.duration_ns = 100_000;
    let diff = diff_spans(&[x], &[y]);
    assert_eq!(diff.rows[0].change, RowChange::Same);
    assert_eq!(diff.rows[0].ratio, Some(2.0));
}

#[test]
fn empty_and_orphaned_traces() {
    assert!(diff_spans(&[], &[]).rows.is_empty());
    // A span whose parent never arrived roots a path of its own.
    let orphan = span(5, 99, "late", 0, 1);
    let diff = diff_spans(&[orphan], &[]);
    assert_eq!(
        (diff.rows[0].path.as_str(), diff.rows[0].depth),
        ("late", 0)
    );
}

fn summary(n: u128, ms: Option<i64>, start: i64) -> TraceSummary {
    TraceSummary {
        trace_id: TraceId(n),
        name: "checkout".into(),
        start_ns: start,
        end_ns: None,
        duration_ns: ms.map(|m| m * MS),
        status: TraceStatus::Completed,
        span_count: 1,
        error_count: 0,
        metadata: None,
    }
}

#[test]
fn the_typical_trace_is_the_one_at_the_median() {
    // Odd: 10, 30, 50, 70, 90 → 50. A running trace (no duration) does not count.
    let odd: Vec<TraceSummary> = [(1, 90), (2, 10), (3, 50), (4, 30), (5, 70)]
        .into_iter()
        .map(|(n, ms)| summary(n, Some(ms), n as i64))
        .chain([summary(6, None, 6)])
        .collect();
    let typical = pick_typical(odd).unwrap();
    assert_eq!(
        (typical.trace.trace_id, typical.candidates),
        (TraceId(3), 5)
    );
    assert_eq!(typical.median_duration_ms, 50.0);
    // Even: 20 and 40 are equally close to the median 30: the faster. Of equal durations,
    // the newest.
    let even = vec![
        summary(1, Some(40), 1),
        summary(2, Some(20), 2),
        summary(3, Some(20), 3),
        summary(4, Some(60), 4),
    ];
    let typical = pick_typical(even).unwrap();
    assert_eq!(
        (typical.trace.trace_id, typical.median_duration_ms),
        (TraceId(3), 30.0)
    );
    assert!(pick_typical(vec![summary(1, None, 1)]).is_none());
}

fn skeleton(id: u64, parent: u64) -> SpanSkeleton {
    SpanSkeleton {
        span_id: id,
        parent_id: parent,
        start_ns: id as i64,
        duration_ns: 1,
        failed: false,
    }
}

#[test]
fn large_pairs_are_cut_at_one_depth_where_both_fit() {
    // 1 → 2 → 3, an orphan 7 (parent 99) and a cycle 8 ↔ 9.
    let tree = [
        skeleton(3, 2),
        skeleton(1, 0),
        skeleton(2, 1),
        skeleton(7, 99),
        skeleton(8, 9),
        skeleton(9, 8),
    ];
    let d = depths(&tree);
    assert_eq!(&d[..4], [2, 0, 1, 0]);
    assert!(d[4] <= 1 && d[5] <= 1);

    let small = [0, 1, 1, 2];
    assert_eq!(depth_limit(&small, &small), None);
    // 1 root, 100 children, then 20,000 grandchildren: levels 0 and 1 fit, level 2 does not.
    let large: Vec<usize> = std::iter::once(0)
        .chain(std::iter::repeat_n(1, 100))
        .chain(std::iter::repeat_n(2, MAX_COMPARED_SPANS))
        .collect();
    assert_eq!(depth_limit(&large, &small), Some(1));
    assert_eq!(depth_limit(&small, &large), Some(1));
}
