//! Iterators and streams: time to the first item and the number of items, recorded as one span
//! (the form of "capture the first yield" that fits lazy sequences).

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pathwise_model::{Name, SpanKind};

use crate::context::{Context, Parent};
use crate::span::ActiveSpan;

/// Finishes an iteration span with its counters.
fn finish(span: Option<ActiveSpan>, items: u64, first_item_ns: Option<u64>, exhausted: bool) {
    if let Some(mut span) = span {
        span.set_attr("items", items);
        if let Some(ns) = first_item_ns {
            span.set_attr("first_item_ns", ns);
        }
        span.set_attr("exhausted", exhausted);
        span.end();
    }
}

struct Progress {
    span: Option<ActiveSpan>,
    started: u64,
    items: u64,
    first_item_ns: Option<u64>,
}

impl Progress {
    fn new(name: Name) -> Self {
        Progress {
            span: ActiveSpan::start(name, SpanKind::Iteration, Parent::Current, false),
            started: pathwise_pipeline::clock().now(),
            items: 0,
            first_item_ns: None,
        }
    }

    fn context(&self) -> Option<Context> {
        self.span.as_ref().map(|s| s.ctx)
    }

    fn saw<T>(&mut self, item: &Option<T>) {
        match item {
            Some(_) => {
                if self.items == 0 {
                    let clock = pathwise_pipeline::clock();
                    self.first_item_ns = Some(clock.nanos_between(self.started, clock.now()));
                }
                self.items += 1;
            }
            None => finish(self.span.take(), self.items, self.first_item_ns, true),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        finish(self.span.take(), self.items, self.first_item_ns, false);
    }
}

/// An iterator recorded as a span; see [`monitor_iter`].
pub struct MonitoredIter<I> {
    inner: I,
    progress: Progress,
}

/// Wraps an iterator: the span starts now and ends when the iterator is exhausted or dropped,
/// with attributes `items`, `first_item_ns` and `exhausted`. Work done while producing items
/// nests under it.
///
/// ```
/// let total: u32 = pathwise::monitor_iter("numbers", 1..=3).sum();
/// assert_eq!(total, 6);
/// ```
pub fn monitor_iter<I: IntoIterator>(name: impl Into<Name>, iter: I) -> MonitoredIter<I::IntoIter> {
    MonitoredIter {
        inner: iter.into_iter(),
        progress: Progress::new(name.into()),
    }
}

impl<I: Iterator> Iterator for MonitoredIter<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let item = {
            let _attached = self.progress.context().map(Context::attach);
            self.inner.next()
        };
        self.progress.saw(&item);
        item
    }
}

pin_project_lite::pin_project! {
    /// A stream recorded as a span; see [`monitor_stream`].
    pub struct MonitoredStream<S> {
        #[pin]
        inner: S,
        progress: Progress,
    }
}

/// Wraps a `futures_core::Stream` like [`monitor_iter`] wraps an iterator.
pub fn monitor_stream<S: futures_core::Stream>(
    name: impl Into<Name>,
    stream: S,
) -> MonitoredStream<S> {
    MonitoredStream {
        inner: stream,
        progress: Progress::new(name.into()),
    }
}

impl<S: futures_core::Stream> futures_core::Stream for MonitoredStream<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let polled = {
            let _attached = this.progress.context().map(Context::attach);
            this.inner.poll_next(cx)
        };
        if let Poll::Ready(item) = &polled {
            this.progress.saw(item);
        }
        polled
    }
}
