//! Attributes and errors recorded on the running span from inside it: [`current_span`].
//!
//! The span's record is written by its owner (a guard, a monitored call, a future), which the
//! code inside cannot reach. Edits are therefore kept with the span's entry on the thread's
//! stack and handed to the owner when the entry is removed. An owner that is not the one who
//! made the span current (a context attached on another thread, a step, an iterator) finds
//! them in a small shared table instead, looked up only while it is non-empty: the common case
//! costs the span's end one relaxed atomic load.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use pathwise_model::{AttrValue, ErrorInfo, Name};
use rustc_hash::FxBuildHasher;

use crate::context::{self, Context, Edit};
use crate::span::ERROR_TYPE_PATH_ATTR;

/// Spans with edits waiting for an owner elsewhere; beyond this the table is cleared (edits on
/// spans that ended before them would otherwise accumulate) and the loss counted.
const MAX_WAITING_SPANS: usize = 65_536;

static WAITING: Mutex<Option<HashMap<u64, Vec<Edit>, FxBuildHasher>>> = Mutex::new(None);
static WAITING_COUNT: AtomicUsize = AtomicUsize::new(0);
static LOST: AtomicU64 = AtomicU64::new(0);

fn waiting() -> std::sync::MutexGuard<'static, Option<HashMap<u64, Vec<Edit>, FxBuildHasher>>> {
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Leaves `edits` for the owner of `span_id`, which takes them when it ends.
pub(crate) fn deposit(span_id: u64, edits: Vec<Edit>) {
    if edits.is_empty() {
        return;
    }
    let mut table = waiting();
    let table = table.get_or_insert_with(HashMap::default);
    if table.len() >= MAX_WAITING_SPANS && !table.contains_key(&span_id) {
        let lost: usize = table.values().map(Vec::len).sum();
        LOST.fetch_add(lost as u64, Ordering::Relaxed);
        table.clear();
        eprintln!(
            "pathwise: warning: {lost} attributes set on spans that had already ended were discarded"
        );
    }
    table.entry(span_id).or_default().extend(edits);
    WAITING_COUNT.store(table.len(), Ordering::Relaxed);
}

/// The edits left for `span_id` by others, if any.
#[inline]
pub(crate) fn take_waiting(span_id: u64) -> Vec<Edit> {
    if WAITING_COUNT.load(Ordering::Relaxed) == 0 {
        return Vec::new();
    }
    let mut table = waiting();
    let Some(table) = table.as_mut() else {
        return Vec::new();
    };
    let edits = table.remove(&span_id).unwrap_or_default();
    WAITING_COUNT.store(table.len(), Ordering::Relaxed);
    edits
}

/// The innermost span running on this thread: the `#[monitor]` call, `span()` guard or
/// `.in_span()` future whose code is executing. Attributes and errors recorded through it
/// end up on that span's record (error patterns, filters and the waterfall see them); with no
/// span running or nothing recording, every method does nothing.
///
/// ```
/// let _recording = pathwise::testing::Recorder::start();
///
/// #[pathwise::monitor]
/// fn lookup(organism: &str) -> usize {
///     let hits = organism.len();
///     pathwise::current_span().set_attr("hits", hits);
///     hits
/// }
/// assert_eq!(lookup("mouse"), 5);
/// ```
pub fn current_span() -> CurrentSpan {
    CurrentSpan {
        _not_send: PhantomData,
    }
}

/// The running span of this thread; see [`current_span`]. Not `Send`: it means "the span
/// current here", so it is fetched where it is used.
#[derive(Clone, Copy)]
pub struct CurrentSpan {
    _not_send: PhantomData<*const ()>,
}

impl CurrentSpan {
    /// Adds a typed attribute; `false` when no span is running on this thread.
    ///
    /// ```
    /// let _recording = pathwise::testing::Recorder::start();
    /// let _span = pathwise::span("search");
    /// assert!(pathwise::current_span().set_attr("datasets", 50));
    /// ```
    pub fn set_attr(&self, key: impl Into<Name>, value: impl Into<AttrValue>) -> bool {
        context::edit_current(Edit::Attr(key.into(), value.into()))
    }

    /// Marks the span failed with `error` (its type, variant, message and source chain), also
    /// when the code then returns normally.
    ///
    /// ```
    /// let _recording = pathwise::testing::Recorder::start();
    /// let _span = pathwise::span("parse");
    /// let bad = "x".parse::<u32>().unwrap_err();
    /// pathwise::current_span().record_error(&bad);
    /// ```
    pub fn record_error<E: std::error::Error + ?Sized>(&self, error: &E) -> bool {
        let info = ErrorInfo::from_error(error);
        let path = std::any::type_name::<E>();
        if info.error_type != path {
            context::edit_current(Edit::Attr(ERROR_TYPE_PATH_ATTR.into(), path.into()));
        }
        context::edit_current(Edit::Fail(info))
    }

    /// Marks the span failed with an error type and message of your choosing.
    ///
    /// ```
    /// let _recording = pathwise::testing::Recorder::start();
    /// let _span = pathwise::span("rank");
    /// pathwise::current_span().fail("NoCandidates", "all 50 filtered out");
    /// ```
    pub fn fail(&self, error_type: impl Into<Name>, message: impl Into<String>) -> bool {
        context::edit_current(Edit::Fail(ErrorInfo {
            error_type: error_type.into(),
            message: message.into(),
            chain: Vec::new(),
        }))
    }

    /// The running span's context (to hand to another thread or task), if any.
    pub fn context(&self) -> Option<Context> {
        Context::current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_wait_for_their_owner_and_are_taken_once() {
        deposit(7, vec![Edit::Attr("k".into(), 1_i64.into())]);
        deposit(7, vec![Edit::Attr("j".into(), true.into())]);
        assert_eq!(take_waiting(7).len(), 2);
        assert!(take_waiting(7).is_empty());
    }

    #[test]
    fn nothing_running_means_nothing_recorded() {
        assert!(!current_span().set_attr("k", 1_i64));
        assert!(current_span().context().is_none());
    }
}
