//! Instrumented futures: entered at every poll, on whichever thread polls, closed once.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use common::{install, named, one};
use futures_executor::ThreadPool;
use pathwise::testing::Recorder;
use tracing::Instrument;

/// Pending until a timer thread wakes it: the executor then polls again, on any worker.
struct Delay {
    duration: Duration,
    started: bool,
    done: Arc<Mutex<bool>>,
}

fn delay(duration: Duration) -> Delay {
    Delay {
        duration,
        started: false,
        done: Arc::new(Mutex::new(false)),
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if *self.done.lock().unwrap() {
            return Poll::Ready(());
        }
        if !self.started {
            self.started = true;
            let (done, waker, duration) = (self.done.clone(), cx.waker().clone(), self.duration);
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                *done.lock().unwrap() = true;
                waker.wake();
            });
        }
        Poll::Pending
    }
}

/// Pending once, waking itself: lets the other half of a `join` run in between.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

const STEPS: i64 = 3;
const STEP_DELAY: Duration = Duration::from_millis(5);

#[tracing::instrument(skip(polled_on))]
async fn job(id: i64, polled_on: Arc<Mutex<Vec<ThreadId>>>) -> i64 {
    for step in 0..STEPS {
        polled_on.lock().unwrap().push(std::thread::current().id());
        tracing::info_span!("step", step).in_scope(|| {
            let _s = pathwise::span("sdk-step"); // nests under the step, under the job
        });
        delay(STEP_DELAY).await;
    }
    id
}

#[test]
fn an_async_span_polled_on_a_thread_pool_is_one_span_from_creation_to_close() {
    install();
    let recorder = Recorder::start();
    let pool = ThreadPool::builder().pool_size(2).create().unwrap();
    let polled_on = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    for id in [1, 2] {
        let (tx, polled_on) = (tx.clone(), polled_on.clone());
        pool.spawn_ok(async move {
            let _ = tx.send(job(id, polled_on).await);
        });
    }
    let mut results: Vec<i64> = (0..2).map(|_| rx.recv().unwrap()).collect();
    let elapsed = started.elapsed();
    results.sort();
    assert_eq!(results, [1, 2]);
    drop(pool);
    let records = recorder.finish();
    let jobs = named(&records, "job");
    assert_eq!(jobs.len(), 2, "one span per future, not one per poll");
    for job in &jobs {
        assert_eq!(job.parent_id, 0);
        let min = STEP_DELAY * STEPS as u32;
        assert!(
            job.duration_ns >= min.as_nanos() as u64
                && job.duration_ns <= elapsed.as_nanos() as u64,
            "creation→close: {} ns, at least {min:?}, at most {elapsed:?}",
            job.duration_ns
        );
        let steps: Vec<_> = named(&records, "step")
            .into_iter()
            .filter(|s| s.parent_id == job.span_id)
            .collect();
        assert_eq!(
            steps.len(),
            STEPS as usize,
            "every poll's step nests under its own job"
        );
        for step in steps {
            assert_eq!(step.trace_id, job.trace_id);
            let sdk: Vec<_> = named(&records, "sdk-step")
                .into_iter()
                .filter(|s| s.parent_id == step.span_id)
                .collect();
            assert_eq!(sdk.len(), 1);
        }
    }
    assert_ne!(jobs[0].trace_id, jobs[1].trace_id);
    assert_eq!(named(&records, "step").len(), 2 * STEPS as usize);
    // Which workers polled is up to the pool; with two jobs sleeping on timer threads both
    // workers normally take part. Not asserted (it is scheduling), only reported.
    let mut threads = polled_on.lock().unwrap().clone();
    threads.sort_by_key(|t| format!("{t:?}"));
    threads.dedup();
    eprintln!("polled on {} worker thread(s)", threads.len());
}

async fn interleaved(name: &'static str) {
    for _ in 0..3 {
        tracing::info_span!("tick", who = name).in_scope(|| ());
        YieldNow(false).await;
    }
}

#[test]
fn concurrent_futures_on_one_thread_do_not_nest_into_each_other() {
    install();
    let recorder = Recorder::start();
    let both = async {
        futures_util::future::join(
            interleaved("a").instrument(tracing::info_span!("a")),
            interleaved("b").instrument(tracing::info_span!("b")),
        )
        .await
    };
    futures_executor::block_on(both.instrument(tracing::info_span!("outer")));
    assert_eq!(pathwise::Context::current(), None, "nothing left attached");
    let paths = recorder.paths();
    let records = recorder.finish();
    let (outer, a, b) = (
        one(&records, "outer"),
        one(&records, "a"),
        one(&records, "b"),
    );
    assert_eq!(a.parent_id, outer.span_id);
    assert_eq!(b.parent_id, outer.span_id, "b is not a child of a");
    let ticks = named(&records, "tick");
    assert_eq!(ticks.len(), 6);
    for tick in ticks {
        let who = tick.attr("who").unwrap();
        let parent = if *who == common::text("a") { a } else { b };
        assert_eq!(tick.parent_id, parent.span_id, "{who:?}'s tick");
    }
    assert!(paths.contains(&"outer → b → tick".to_string()), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains("a → b")), "{paths:?}");
}
