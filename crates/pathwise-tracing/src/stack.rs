//! Which tracing spans are entered on this thread, each holding its Pathwise context attached.
//!
//! Tracing enters and exits a span through two separate callbacks, possibly many times and on
//! many threads (an async span is entered at every poll), so the SDK's RAII [`AttachGuard`]
//! cannot live in the span itself (it is `!Send`, and the span outlives any one entry). It lives
//! here instead, in a per-thread list keyed by the tracing span id: `on_enter` attaches and
//! pushes, `on_exit` removes that span's latest entry wherever it sits, so exits out of order
//! (guards stored in structs, interleaved futures) detach exactly the context they attached.

use std::cell::RefCell;

use pathwise::{AttachGuard, Context};
use tracing_core::span::Id;

struct Entered {
    id: Id,
    ctx: Context,
    /// Dropping it takes `ctx` off the SDK's thread stack (wherever it sits there).
    _guard: AttachGuard,
}

thread_local! {
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// Makes `ctx` current on this thread until [`exit`] is called with `id` here.
pub(crate) fn enter(id: &Id, ctx: Context) {
    let mut entry = Some(Entered {
        id: id.clone(),
        ctx,
        _guard: ctx.attach(),
    });
    let _ = ENTERED.try_with(|entered| {
        if let Ok(mut entered) = entered.try_borrow_mut()
            && let Some(entry) = entry.take()
        {
            entered.push(entry);
        }
    });
    // Not stored (the thread is shutting down): detach at once rather than leave the context
    // current with nothing to remove it. Dropped here, outside the borrow.
    drop(entry);
}

/// Detaches the context the latest [`enter`] of `id` on this thread attached; nothing if there
/// is none (an exit on another thread than the enter, or after the thread's list is gone).
pub(crate) fn exit(id: &Id) {
    let entry = ENTERED
        .try_with(|entered| {
            let mut entered = entered.try_borrow_mut().ok()?;
            let at = entered.iter().rposition(|e| e.id == *id)?;
            Some(entered.remove(at))
        })
        .ok()
        .flatten();
    // Dropped outside the borrow: leaving the outermost span hands this thread's buffered
    // records to the pipeline, which must not run while the list is borrowed.
    drop(entry);
}

/// Whether `ctx` was attached by a tracing span that is still entered on this thread.
pub(crate) fn is_entered(ctx: Context) -> bool {
    ENTERED
        .try_with(|entered| {
            entered
                .try_borrow()
                .is_ok_and(|e| e.iter().any(|e| e.ctx == ctx))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> Id {
        Id::from_u64(n)
    }

    fn started(name: &'static str) -> pathwise::DetachedSpan {
        pathwise::start_detached(name, pathwise::SpanKind::Span, None)
    }

    #[test]
    fn out_of_order_exits_detach_exactly_what_was_attached() {
        let _recording = pathwise::testing::Recorder::start();
        let (a, b) = (started("a"), started("b"));
        let (ca, cb) = (a.context().unwrap(), b.context().unwrap());
        enter(&id(1), ca);
        enter(&id(2), cb);
        assert_eq!(Context::current(), Some(cb));
        exit(&id(1)); // the outer one first
        assert_eq!(Context::current(), Some(cb));
        assert!(!is_entered(ca) && is_entered(cb));
        exit(&id(2));
        assert_eq!(Context::current(), None);
        assert!(!is_entered(cb));
    }

    #[test]
    fn reentry_and_stray_exits_are_harmless() {
        let _recording = pathwise::testing::Recorder::start();
        let a = started("a");
        let ca = a.context().unwrap();
        exit(&id(7)); // never entered: nothing happens
        enter(&id(1), ca);
        enter(&id(1), ca);
        exit(&id(1));
        assert_eq!(Context::current(), Some(ca), "still entered once");
        exit(&id(1));
        assert_eq!(Context::current(), None);
        exit(&id(1)); // one exit too many
        assert_eq!(Context::current(), None);
    }
}
