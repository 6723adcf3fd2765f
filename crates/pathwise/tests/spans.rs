//! Spans, context propagation, errors, panics and sampling, recorded into memory.

mod common;

use std::time::Duration;

use common::{one, spans};
use pathwise::testing::Recorder;
use pathwise::{Config, FutureExt};
use pathwise_model::{SpanKind, Status};

#[derive(Debug, thiserror::Error)]
#[error("query failed")]
struct QueryError {
    #[source]
    source: std::io::Error,
}

#[test]
fn nested_spans_know_their_parent_trace_and_path() {
    let recorder = Recorder::start();
    {
        let _a = pathwise::span("A");
        let _b = pathwise::span("B").attr("count", 3).attr("ok", true);
        pathwise::in_span("C", || std::thread::sleep(Duration::from_millis(2)));
    }
    let records = recorder.records();
    let paths = recorder.paths();
    let (a, b, c) = (one(&records, "A"), one(&records, "B"), one(&records, "C"));
    assert_eq!(a.parent_id, 0);
    assert_eq!(b.parent_id, a.span_id);
    assert_eq!(c.parent_id, b.span_id);
    assert!(a.trace_id == b.trace_id && b.trace_id == c.trace_id);
    assert!(
        c.duration_ns >= 2_000_000,
        "C slept 2 ms, took {} ns",
        c.duration_ns
    );
    assert!(a.duration_ns >= c.duration_ns);
    assert!(c.start_ns >= a.start_ns);
    assert!(paths.contains(&"A → B → C".to_string()), "{paths:?}");
    let attrs = &b.details.as_ref().unwrap().attrs;
    assert_eq!(attrs.len(), 2);
}

#[test]
fn context_crosses_threads() {
    let recorder = Recorder::start();
    {
        let _root = pathwise::span("root");
        let ctx = pathwise::Context::current().unwrap();
        let workers: Vec<_> = (0..3)
            .map(|i| {
                std::thread::spawn(move || {
                    let _attached = ctx.attach();
                    let _s = pathwise::span(format!("worker-{i}"));
                })
            })
            .collect();
        workers.into_iter().for_each(|w| w.join().unwrap());
    }
    let records = recorder.records();
    let root = one(&records, "root");
    for i in 0..3 {
        let worker = one(&records, &format!("worker-{i}"));
        assert_eq!(
            (worker.parent_id, worker.trace_id),
            (root.span_id, root.trace_id)
        );
    }
}

#[test]
fn context_follows_await_join_and_spawn_on_a_multi_threaded_runtime() {
    let recorder = Recorder::start();
    let runtime = common::runtime(2);
    runtime.block_on(
        async {
            let a = async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                pathwise::in_span("inside-a", || ());
            }
            .in_span("a");
            let b = async {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            .in_span("b");
            tokio::join!(a, b);
            let spawned = tokio::spawn(
                async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    pathwise::in_span("spawned-child", || ());
                }
                .with_current_context(),
            );
            spawned.await.unwrap();
        }
        .in_span("request"),
    );
    let records = recorder.records();
    let request = one(&records, "request");
    for name in ["a", "b", "spawned-child"] {
        let span = one(&records, name);
        assert_eq!(
            span.parent_id, request.span_id,
            "{name} should be a child of request"
        );
        assert_eq!(span.trace_id, request.trace_id);
    }
    assert_eq!(
        one(&records, "inside-a").parent_id,
        one(&records, "a").span_id
    );
    assert!(one(&records, "a").duration_ns >= 5_000_000);
}

#[test]
fn errors_carry_type_message_and_source_chain() {
    let recorder = Recorder::start();
    {
        let mut s = pathwise::span("query");
        s.record_error(&QueryError {
            source: std::io::Error::other("connection reset"),
        });
    }
    let records = recorder.records();
    let span = one(&records, "query");
    assert_eq!(span.status, Status::Error);
    let error = span.error().unwrap();
    assert!(
        error.error_type.ends_with("QueryError"),
        "{}",
        error.error_type
    );
    assert_eq!(error.message, "query failed");
    assert_eq!(error.chain, vec!["connection reset".to_string()]);
}

#[test]
fn a_panic_marks_every_open_span_failed_and_still_propagates() {
    let recorder = Recorder::start();
    let result = std::panic::catch_unwind(|| {
        pathwise::in_span("outer", || {
            pathwise::in_span("inner", || panic!("index out of range"))
        })
    });
    assert!(result.is_err(), "the panic must propagate");
    let records = recorder.records();
    for name in ["outer", "inner"] {
        let span = one(&records, name);
        assert_eq!(span.status, Status::Error);
        let error = span.error().unwrap();
        assert_eq!(error.error_type, "panic");
        assert!(
            error.message.contains("index out of range"),
            "{}",
            error.message
        );
    }
}

#[test]
fn sampling_drops_clean_traces_and_keeps_every_trace_with_an_error() {
    let recorder = Recorder::with_config(Config {
        sample_rate: 0.0,
        ..Config::default()
    });
    for i in 0..50 {
        let _root = pathwise::span("request");
        let _child = pathwise::span("work");
        if i % 10 == 0 {
            let mut failing = pathwise::span("flaky");
            failing.fail("Timeout", "upstream timed out");
        }
    }
    let records = recorder.records();
    let kept = spans(&records);
    assert_eq!(
        kept.iter().filter(|s| s.name == "request").count(),
        5,
        "only the 5 error traces stay"
    );
    assert_eq!(
        kept.len(),
        15,
        "each kept trace is whole: request, work, flaky"
    );
    let stats = pathwise::pipeline_stats().unwrap();
    assert_eq!(stats.sampled_out, 45 * 2);
    assert_eq!(stats.dropped, 0);
}

#[test]
fn decision_trace_steps_are_ordered_and_a_failed_step_fails_the_trace() {
    use pathwise::{Filter, Llm, Ranked};
    let recorder = Recorder::start();
    {
        let trace = pathwise::trace("competitor-selection").metadata("product", "B0123");
        {
            let mut step = trace.step("keyword_generation");
            step.input(&serde_json::json!({"title": "wireless mouse", "api_key": "sk-123"}));
            step.llm(Llm::new("gpt-4").tokens(812, 64).temperature(0.7));
            step.output(&["mouse", "wireless"]);
            step.reasoning("two keywords");
            let _current = step.enter();
            pathwise::in_span("tokenize", || ());
        }
        {
            let mut step = trace.step("apply_filters");
            step.add_evaluation(
                "B1",
                &serde_json::json!({"price": 25}),
                vec![Filter::new("price", true, "under $30")],
                true,
                Some("ok"),
            );
            step.add_evaluation(
                "B2",
                &serde_json::json!({"price": 45}),
                vec![Filter::new("price", false, "over $30")],
                false,
                None,
            );
        }
        {
            let mut step = trace.step("ranking");
            step.ranked_candidates(vec![Ranked::new(1, "B1", 0.9, "cheapest")]);
            step.fail(&std::io::Error::other("ranker crashed"));
        }
    }
    let records = recorder.records();
    assert_eq!(
        common::trace_starts(&records),
        1,
        "the running trace is announced at start"
    );
    let root = one(&records, "competitor-selection");
    assert_eq!((root.kind, root.status), (SpanKind::Trace, Status::Error));
    let metadata: serde_json::Value =
        serde_json::from_str(root.details.as_ref().unwrap().metadata.as_ref().unwrap()).unwrap();
    assert_eq!(metadata["product"], "B0123");

    let keywords = one(&records, "keyword_generation");
    assert_eq!(keywords.kind, SpanKind::Step);
    assert_eq!(keywords.parent_id, root.span_id);
    let details = keywords.details.as_ref().unwrap();
    assert!(
        details.input.as_ref().unwrap().contains("\"***\""),
        "api_key masked: {:?}",
        details.input
    );
    assert!(!details.input.as_ref().unwrap().contains("sk-123"));
    let llm: serde_json::Value = serde_json::from_str(details.metadata.as_ref().unwrap()).unwrap();
    assert_eq!(llm["llm"]["total_tokens"], 876);
    assert!(
        details
            .attrs
            .iter()
            .any(|(k, _)| k == "gen_ai.usage.input_tokens")
    );

    assert_eq!(
        one(&records, "tokenize").parent_id,
        keywords.span_id,
        "entered steps nest work"
    );
    let filters = one(&records, "apply_filters");
    let meta: serde_json::Value =
        serde_json::from_str(filters.details.as_ref().unwrap().metadata.as_ref().unwrap()).unwrap();
    assert_eq!(meta["evaluations"].as_array().unwrap().len(), 2);
    assert_eq!(meta["evaluations"][1]["qualified"], false);
    assert!(
        keywords.start_ns <= filters.start_ns
            && filters.start_ns <= one(&records, "ranking").start_ns
    );
    assert_eq!(one(&records, "ranking").status, Status::Error);
}

#[test]
fn operations_caches_and_iterators_are_recorded() {
    let recorder = Recorder::start();
    {
        let _root = pathwise::span("batch");
        pathwise::record_operation("geo.client", "http_get", Duration::from_millis(87), true);
        pathwise::record_operation("geo.client", "http_get", Duration::from_millis(5), false);
        let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer");
        pathwise::record_failed_operation(
            "geo.client",
            "http_get",
            Duration::from_secs(5),
            &timeout,
        );
        let items: Vec<u32> = pathwise::monitor_iter("scan", 0..4).collect();
        assert_eq!(items.len(), 4);
    }
    pathwise::cache_hit("geo.cache");
    pathwise::cache_miss("geo.cache");
    let records = recorder.records();
    let ops: Vec<_> = spans(&records)
        .into_iter()
        .filter(|s| s.kind == SpanKind::Operation)
        .collect();
    assert_eq!(ops.len(), 3);
    assert!(
        ops.iter()
            .any(|s| s.error().is_some_and(|e| e.message == "no answer"))
    );
    assert!(
        ops.iter()
            .any(|s| s.duration_ns == 87_000_000 && s.status == Status::Ok)
    );
    assert!(ops.iter().any(|s| s.status == Status::Error));
    assert_eq!(ops[0].group.as_deref(), Some("geo.client"));
    let scan = one(&records, "scan");
    let attrs = &scan.details.as_ref().unwrap().attrs;
    assert!(
        attrs
            .iter()
            .any(|(k, v)| k == "items" && *v == pathwise::AttrValue::I64(4))
    );
    assert!(attrs.iter().any(|(k, _)| k == "first_item_ns"));
    assert!(pathwise_pipeline::cache::totals("geo.cache").0 >= 1);
}

#[test]
fn decision_steps_cross_await_points_on_a_multi_threaded_runtime() {
    let recorder = Recorder::start();
    let runtime = common::runtime(2);
    runtime.block_on(async {
        let handle = tokio::spawn(async {
            let trace = pathwise::trace("async-decision");
            let mut step = trace.step("llm_call");
            let ctx = step.context().unwrap();
            tokio::time::sleep(Duration::from_millis(2)).await;
            async { pathwise::in_span("request", || ()) }
                .with_context(ctx)
                .await;
            step.output(&"done");
        });
        handle.await.unwrap();
    });
    let records = recorder.records();
    let step = one(&records, "llm_call");
    assert_eq!(one(&records, "request").parent_id, step.span_id);
    assert_eq!(step.parent_id, one(&records, "async-decision").span_id);
    assert!(step.duration_ns >= 2_000_000);
}
