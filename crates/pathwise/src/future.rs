//! Context across `.await`: futures that make a span current on every poll, whichever worker
//! thread polls them, so children nest correctly on a multi-threaded runtime.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pathwise_model::{AttrValue, Name, SpanKind};

#[cfg(doc)]
use crate::DetachedSpan;
use crate::context::{Context, Parent};
use crate::span::ActiveSpan;

pin_project_lite::pin_project! {
    /// A future run with a given [`Context`] current; see [`FutureExt::with_context`].
    pub struct WithContext<F> {
        #[pin]
        inner: F,
        ctx: Option<Context>,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _attached = this.ctx.map(Context::attach);
        this.inner.poll(cx)
    }
}

pin_project_lite::pin_project! {
    /// A future recorded as a span; see [`FutureExt::in_span`].
    pub struct InSpan<F> {
        #[pin]
        inner: F,
        span: Option<ActiveSpan>,
    }

    impl<F> PinnedDrop for InSpan<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before completion: cancelled (or unwinding from a panic in `poll`).
            if let Some(mut span) = this.project().span.take() {
                if !std::thread::panicking() {
                    span.set_attr("cancelled", true);
                }
                span.end();
            }
        }
    }
}

impl<F: Future> Future for InSpan<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let attached = this.span.as_ref().map(|s| s.ctx.attach());
        let result = this.inner.poll(cx);
        if let (Some(attached), Some(span)) = (attached, this.span.as_mut()) {
            span.apply(attached.detach());
        }
        if result.is_ready()
            && let Some(span) = this.span.take()
        {
            span.end();
        }
        result
    }
}

impl<F> InSpan<F> {
    /// Adds a typed attribute to the future's span (builder form); code inside the future adds
    /// more through [`current_span`](crate::current_span).
    ///
    /// ```
    /// use pathwise::FutureExt;
    /// let _recording = pathwise::testing::Recorder::start();
    /// let fetch = async { 3 }.in_span("fetch").attr("source", "arrayexpress");
    /// # let _ = fetch;
    /// ```
    pub fn attr(mut self, key: impl Into<Name>, value: impl Into<AttrValue>) -> Self {
        if let Some(span) = &mut self.span {
            span.set_attr(key, value);
        }
        self
    }

    /// A future recorded as `span` (see [`DetachedSpan::instrument`]).
    pub(crate) fn of(inner: F, span: Option<ActiveSpan>) -> Self {
        InSpan { inner, span }
    }
}

/// Extension methods that carry Pathwise context into futures.
///
/// ```
/// use pathwise::FutureExt;
/// # async fn fetch(_: &str) -> usize { 1 }
/// async fn search() -> usize {
///     let (a, b) = futures_join(fetch("a").in_span("fetch a"), fetch("b").in_span("fetch b")).await;
///     a + b
/// }
/// # async fn futures_join<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> (A::Output, B::Output) { (a.await, b.await) }
/// ```
pub trait FutureExt: Future + Sized {
    /// Records this future as a span named `name`, a child of the span current when this is
    /// called (so `join!`ed futures built in a parent nest under it).
    fn in_span(self, name: impl Into<Name>) -> InSpan<Self> {
        InSpan {
            inner: self,
            span: ActiveSpan::start(name.into(), SpanKind::Span, Parent::Current, false),
        }
    }

    /// Runs this future with `ctx` current on every poll (for spawned tasks).
    fn with_context(self, ctx: Context) -> WithContext<Self> {
        WithContext {
            inner: self,
            ctx: Some(ctx),
        }
    }

    /// Runs this future with the caller's current span current on every poll: use it on
    /// futures given to `tokio::spawn` so their spans nest under the spawner.
    fn with_current_context(self) -> WithContext<Self> {
        WithContext {
            inner: self,
            ctx: Context::current(),
        }
    }
}

impl<F: Future> FutureExt for F {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_futures_stay_send() {
        fn is_send<T: Send>(_: &T) {}
        is_send(&std::future::ready(()).in_span("x"));
        is_send(&std::future::ready(()).with_current_context());
    }
}
