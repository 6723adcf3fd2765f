//! Where a span sits: the per-thread stack of current span contexts, id generation and path
//! interning — everything a span start needs, in one thread-local so it costs one TLS access.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use pathwise_model::{AttrValue, ErrorInfo, Name, TraceId};
use rustc_hash::FxBuildHasher;

/// The identity of a span, as children and other threads need it. `Copy + Send`: hand it to a
/// spawned thread or task and [`Context::attach`] it there so the work nests correctly.
///
/// ```
/// let _recording = pathwise::testing::Recorder::start();
/// let _guard = pathwise::span("parent");
/// let ctx = pathwise::Context::current().expect("inside a span");
/// std::thread::spawn(move || {
///     let _attached = ctx.attach();
///     let _child = pathwise::span("child on another thread"); // parent: "parent"
/// }).join().unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: u64,
    pub(crate) path: u32,
    pub(crate) sampled: bool,
}

impl Context {
    /// The innermost span of this thread, if any.
    pub fn current() -> Option<Context> {
        STATE
            .try_with(|s| s.borrow().stack.last().copied())
            .ok()
            .flatten()
    }

    /// The trace this context belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id.
    pub fn span_id(&self) -> u64 {
        self.span_id
    }

    /// Makes this context current on this thread until the guard drops.
    pub fn attach(self) -> AttachGuard {
        push(self);
        AttachGuard {
            ctx: self,
            _not_send: PhantomData,
        }
    }
}

/// Keeps an attached [`Context`] current; see [`Context::attach`].
#[must_use = "the context is detached when the guard drops"]
pub struct AttachGuard {
    ctx: Context,
    _not_send: PhantomData<*const ()>,
}

impl AttachGuard {
    /// Detaches and returns what was recorded on the span meanwhile through
    /// [`current_span`](crate::current_span), for an owner that applies it itself.
    pub(crate) fn detach(self) -> Vec<Edit> {
        let edits = pop_frame(self.ctx.span_id);
        std::mem::forget(self);
        edits
    }
}

impl Drop for AttachGuard {
    /// The span's owner is elsewhere (another thread, an outer future): it collects the edits
    /// when it ends.
    fn drop(&mut self) {
        let edits = pop_frame(self.ctx.span_id);
        crate::edits::deposit(self.ctx.span_id, edits);
    }
}

/// A change to a running span made from inside it (see [`crate::current_span`]), held by the
/// thread (keyed by span id) while the span's entry is on its stack, then handed to its owner: the owner may be a guard, a
/// future polled on any thread or a call being unwound, and only it can write the record.
#[derive(Debug)]
pub(crate) enum Edit {
    Attr(Name, AttrValue),
    Fail(ErrorInfo),
}

struct ThreadState {
    /// The spans entered on this thread, innermost last.
    stack: Vec<Context>,
    /// Edits made through `current_span()`, with the span id they were made on, until that
    /// span's entry leaves the stack. Apart from the stack so that its entries stay small:
    /// most spans never see an edit, and this stays empty for them.
    edits: Vec<(u64, Edit)>,
    /// splitmix64 state; distinct random start per thread.
    rng: u64,
    /// (parent path, name pointer, name length) → path id, for `&'static` names only.
    paths: HashMap<(u32, usize, usize), u32, FxBuildHasher>,
}

thread_local! {
    static STATE: RefCell<ThreadState> = const {
        RefCell::new(ThreadState { stack: Vec::new(), edits: Vec::new(), rng: 0, paths: HashMap::with_hasher(FxBuildHasher) })
    };
}

/// Global sampling rate as f64 bits (1.0 = keep every trace).
static SAMPLE_RATE: AtomicU64 = AtomicU64::new(0x3FF0_0000_0000_0000);

pub(crate) fn set_sample_rate(rate: f64) {
    SAMPLE_RATE.store(rate.to_bits(), Ordering::Relaxed);
}

fn splitmix(state: &mut u64) -> u64 {
    if *state == 0 {
        // First use on this thread: std seeds `RandomState` randomly per thread. A forked
        // child inherits those keys too, so the process id goes in as well.
        let mut hasher = std::hash::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        *state = hasher.finish() | 1;
    }
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// After a `fork`, the child's one thread starts with its parent's generator state and would
/// make the very ids its parent makes next; this registers (once) a handler that reseeds it.
pub(crate) fn reseed_ids_in_forked_children() {
    static REGISTER: std::sync::Once = std::sync::Once::new();
    extern "C" fn in_child() {
        let _ = STATE.try_with(|cell| {
            if let Ok(mut state) = cell.try_borrow_mut() {
                state.rng = 0; // reseeded from the OS on next use
            }
        });
    }
    REGISTER.call_once(|| {
        // SAFETY: the handler touches only this thread's state, without allocating or locking.
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
}

/// A uniformly random number in [0, 1) from this thread's generator.
pub(crate) fn random_unit() -> f64 {
    STATE.with(|s| unit(&mut s.borrow_mut().rng))
}

fn unit(state: &mut u64) -> f64 {
    (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// Where a new span attaches.
#[derive(Clone, Copy)]
pub(crate) enum Parent {
    /// The innermost span of this thread (a new trace if there is none).
    Current,
    /// A given context.
    Of(Context),
    /// No parent: the first span of a new trace.
    Root,
}

/// Creates the context of a new span named `name` and, if `enter`, makes it current.
/// Returns the context and its parent span id (0 for a root).
#[inline]
pub(crate) fn open(
    name: &Name,
    parent: Parent,
    enter: bool,
    start_unix_ms: impl FnOnce() -> u64,
) -> (Context, u64) {
    STATE.with(|cell| {
        let mut state = cell.borrow_mut();
        let parent = match parent {
            Parent::Current => state.stack.last().copied(),
            Parent::Of(ctx) => Some(ctx),
            Parent::Root => None,
        };
        let span_id = splitmix(&mut state.rng) | 1;
        let (trace_id, parent_path, sampled, parent_id) = match parent {
            Some(p) => (p.trace_id, p.path, p.sampled, p.span_id),
            None => {
                let unique = ((splitmix(&mut state.rng) as u128) << 64) | span_id as u128;
                let rate = f64::from_bits(SAMPLE_RATE.load(Ordering::Relaxed));
                let sampled = rate >= 1.0 || unit(&mut state.rng) < rate;
                (TraceId::from_parts(start_unix_ms(), unique), 0, sampled, 0)
            }
        };
        let path = match name {
            Name::Borrowed(s) => {
                let key = (parent_path, s.as_ptr() as usize, s.len());
                match state.paths.get(&key) {
                    Some(&id) => id,
                    None => {
                        let id = pathwise_pipeline::paths::intern(parent_path, name.clone());
                        state.paths.insert(key, id);
                        id
                    }
                }
            }
            Name::Owned(_) => pathwise_pipeline::paths::intern(parent_path, name.clone()),
        };
        // A root over its name's trace volume limit starts unsampled: kept only if it fails.
        let sampled = sampled && (parent.is_some() || crate::volume::admit(path, name));
        let ctx = Context {
            trace_id,
            span_id,
            path,
            sampled,
        };
        if enter {
            state.stack.push(ctx);
        }
        (ctx, parent_id)
    })
}

/// Makes `ctx` current.
pub(crate) fn push(ctx: Context) {
    let _ = STATE.try_with(|s| s.borrow_mut().stack.push(ctx));
}

/// Removes the entry of `span_id` (normally the top) and returns its edits; when the thread
/// leaves its outermost span, its buffered records are handed to the pipeline.
#[inline]
pub(crate) fn pop_frame(span_id: u64) -> Vec<Edit> {
    let left = leave(span_id);
    let edits = if left.edits {
        edits_of(span_id)
    } else {
        Vec::new()
    };
    if left.emptied {
        pathwise_pipeline::flush_thread();
    }
    edits
}

/// What removing a span's entry found.
#[derive(Clone, Copy)]
pub(crate) struct Left {
    /// The stack is now empty (the caller hands the thread's buffer over, after submitting
    /// its own record).
    pub emptied: bool,
    /// Edits wait for some span on this thread: take the span's with [`edits_of`].
    pub edits: bool,
}

/// Removes the entry of `span_id`. Kept to two flags so the common case (no edits) moves
/// nothing else out of the thread's state.
#[inline]
pub(crate) fn leave(span_id: u64) -> Left {
    STATE
        .try_with(|s| {
            let mut state = s.borrow_mut();
            match state.stack.last() {
                Some(top) if top.span_id == span_id => {
                    state.stack.pop();
                }
                // Guards dropped out of order (stored in a struct, say): remove ours only.
                _ => {
                    if let Some(i) = state.stack.iter().rposition(|c| c.span_id == span_id) {
                        state.stack.remove(i);
                    }
                }
            }
            Left {
                emptied: state.stack.is_empty(),
                edits: !state.edits.is_empty(),
            }
        })
        .unwrap_or(Left {
            emptied: true,
            edits: false,
        })
}

/// The edits recorded on `span_id`, taken out of the thread's list.
#[cold]
pub(crate) fn edits_of(span_id: u64) -> Vec<Edit> {
    STATE
        .try_with(|s| take_edits(&mut s.borrow_mut().edits, span_id))
        .unwrap_or_default()
}

fn take_edits(all: &mut Vec<(u64, Edit)>, span_id: u64) -> Vec<Edit> {
    let mut taken = Vec::new();
    let mut kept = Vec::with_capacity(all.len());
    for (id, edit) in all.drain(..) {
        if id == span_id {
            taken.push(edit);
        } else {
            kept.push((id, edit));
        }
    }
    *all = kept;
    taken
}

/// Records `edit` on this thread's current span; `false` when there is none.
pub(crate) fn edit_current(edit: Edit) -> bool {
    STATE
        .try_with(|s| {
            let mut state = s.borrow_mut();
            match state.stack.last().map(|top| top.span_id) {
                Some(id) => {
                    state.edits.push((id, edit));
                    true
                }
                None => false,
            }
        })
        .unwrap_or(false)
}
