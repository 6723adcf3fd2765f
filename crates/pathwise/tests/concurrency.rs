//! Every concurrency form nests spans under the span that started the work, and two requests
//! interleaved on one task stay two traces: `join!`, `select!`, `FuturesUnordered`,
//! `tokio::spawn`, `spawn_blocking`, `std::thread::scope`, a thread pool, and the `Send` span
//! handle in a spawned task.

mod common;

use std::time::Duration;

use common::{one, spans};
use futures_util::stream::{FuturesUnordered, StreamExt};
use pathwise::FutureExt;
use pathwise::testing::{Recorder, named};
use pathwise_model::AttrValue;

fn runtime() -> tokio::runtime::Runtime {
    common::runtime(4)
}

#[pathwise::monitor(name = "SearchService.fetch_source", skip_all)]
async fn fetch_source(source: &'static str, pause_ms: u64) -> usize {
    tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    tokio::task::yield_now().await;
    source.len()
}

#[pathwise::monitor(name = "SearchService.execute_search", skip_all)]
async fn execute_search(query: &'static str) -> usize {
    let a = fetch_source("arrayexpress", 3).await;
    tokio::task::yield_now().await;
    let b = fetch_source("geo", 1).await;
    pathwise::current_span().set_attr("query", query);
    a + b
}

#[test]
fn two_requests_joined_on_one_task_stay_two_traces() {
    let recorder = Recorder::start();
    runtime().block_on(async {
        // Joined on one task: polls of the two requests interleave on the same thread.
        let (x, y) = tokio::join!(execute_search("mouse"), execute_search("human"));
        assert_eq!((x, y), (15, 15));
    });
    let records = recorder.records();
    let roots = named(&records, "SearchService.execute_search");
    assert_eq!(roots.len(), 2, "two requests, two root spans");
    assert!(
        roots.iter().all(|r| r.parent_id == 0),
        "neither nests in the other"
    );
    assert_ne!(roots[0].trace_id, roots[1].trace_id);
    for root in &roots {
        let children: Vec<_> = spans(&records)
            .into_iter()
            .filter(|s| s.parent_id == root.span_id)
            .collect();
        assert_eq!(children.len(), 2, "each request has its own two fetches");
        assert!(children.iter().all(|c| c.trace_id == root.trace_id));
    }
    let queries: Vec<_> = roots.iter().filter_map(|r| r.attr("query")).collect();
    assert_eq!(
        queries.len(),
        2,
        "current_span() reached each request's own span"
    );
    assert_ne!(queries[0], queries[1]);
    assert!(
        !recorder
            .paths()
            .iter()
            .any(|p| p.contains("execute_search → SearchService.execute_search")),
        "no request nested into the other"
    );
}

#[test]
fn select_keeps_the_winner_and_marks_the_loser_cancelled() {
    let recorder = Recorder::start();
    runtime().block_on(async {
        let _root = pathwise::span("race");
        let fast = tokio::time::sleep(Duration::from_millis(1)).in_span("fast");
        let slow = tokio::time::sleep(Duration::from_secs(5)).in_span("slow");
        tokio::select! {
            _ = fast => {}
            _ = slow => {}
        }
    });
    let records = recorder.records();
    let root = one(&records, "race");
    let (fast, slow) = (one(&records, "fast"), one(&records, "slow"));
    assert_eq!(fast.parent_id, root.span_id);
    assert_eq!(slow.parent_id, root.span_id);
    assert_eq!(slow.attr("cancelled"), Some(&AttrValue::Bool(true)));
    assert_eq!(fast.attr("cancelled"), None);
}

#[test]
fn futures_unordered_children_nest_under_their_creator() {
    let recorder = Recorder::start();
    runtime().block_on(async {
        let _root = pathwise::span("fan-out");
        let mut pending: FuturesUnordered<_> = (0..5u64)
            .map(|i| {
                async move {
                    tokio::time::sleep(Duration::from_millis(5 - i)).await;
                    pathwise::current_span().set_attr("i", i);
                }
                .in_span(format!("part-{i}"))
            })
            .collect();
        while pending.next().await.is_some() {}
    });
    let records = recorder.records();
    let root = one(&records, "fan-out");
    for i in 0..5i64 {
        let part = one(&records, &format!("part-{i}"));
        assert_eq!(part.parent_id, root.span_id);
        assert_eq!(part.attr("i"), Some(&AttrValue::I64(i)));
    }
}

#[test]
fn spawned_tasks_and_blocking_work_nest_under_the_spawner() {
    let recorder = Recorder::start();
    runtime().block_on(async {
        let root = pathwise::span("request");
        let ctx = root.context().unwrap();
        let spawned = tokio::spawn(
            async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                pathwise::in_span("in-task", || ());
            }
            .with_current_context(),
        );
        let blocking = tokio::task::spawn_blocking(move || {
            let _attached = ctx.attach();
            pathwise::in_span("in-blocking", || ());
        });
        drop(root);
        spawned.await.unwrap();
        blocking.await.unwrap();
    });
    let records = recorder.records();
    let root = one(&records, "request");
    assert_eq!(one(&records, "in-task").parent_id, root.span_id);
    assert_eq!(one(&records, "in-blocking").parent_id, root.span_id);
}

#[test]
fn scoped_threads_and_a_thread_pool_nest_and_set_attributes() {
    let recorder = Recorder::start();
    let pool = futures_executor::ThreadPool::builder()
        .pool_size(2)
        .create()
        .unwrap();
    {
        let _root = pathwise::span("batch");
        let ctx = pathwise::Context::current().unwrap();
        std::thread::scope(|scope| {
            for i in 0..3u64 {
                scope.spawn(move || {
                    let _attached = ctx.attach();
                    let _s = pathwise::span(format!("scoped-{i}"));
                    pathwise::current_span().set_attr("worker", i);
                });
            }
        });
        // Attached elsewhere, an attribute reaches the span that owns the context.
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let _attached = ctx.attach();
                pathwise::current_span().set_attr("from_helper_thread", true);
            });
        });
        let (done, wait) = std::sync::mpsc::channel();
        pool.spawn_ok(
            async move {
                pathwise::in_span("pooled", || ());
                done.send(()).unwrap();
            }
            .with_current_context(),
        );
        wait.recv().unwrap();
    }
    let records = recorder.records();
    let root = one(&records, "batch");
    for i in 0..3i64 {
        let scoped = one(&records, &format!("scoped-{i}"));
        assert_eq!(scoped.parent_id, root.span_id);
        assert_eq!(scoped.attr("worker"), Some(&AttrValue::I64(i)));
    }
    assert_eq!(one(&records, "pooled").parent_id, root.span_id);
    assert_eq!(
        root.attr("from_helper_thread"),
        Some(&AttrValue::Bool(true))
    );
}

#[test]
fn a_send_span_handle_is_an_async_root_in_a_spawned_task() {
    let recorder = Recorder::start();
    runtime().block_on(async {
        let mut span = pathwise::span_handle("job");
        span.set_attr("queue", "reports");
        let handle = tokio::spawn(async move {
            span.instrument(async {
                tokio::time::sleep(Duration::from_millis(2)).await;
                fetch_source("geo", 1).await;
                let failure = "x".parse::<u32>().unwrap_err();
                pathwise::current_span().record_error(&failure);
            })
            .await
        });
        handle.await.unwrap();
    });
    let records = recorder.records();
    let job = one(&records, "job");
    assert_eq!(job.parent_id, 0, "a root span");
    assert_eq!(job.attr("queue"), Some(&AttrValue::Str("reports".into())));
    assert_eq!(job.status, pathwise_model::Status::Error);
    let error = job.details.as_ref().unwrap().error.as_ref().unwrap();
    assert_eq!(error.error_type, "ParseIntError");
    assert_eq!(
        one(&records, "SearchService.fetch_source").parent_id,
        job.span_id
    );
    assert!(job.duration_ns >= 2_000_000);
}
