//! Cache hit/miss counters per component: atomics on the caller's side, deltas collected by the
//! writer and stored as rows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;
use pathwise_model::Name;
use pathwise_store::CacheDelta;
use rustc_hash::FxHashMap;

#[derive(Default)]
struct Counter {
    hits: AtomicU64,
    misses: AtomicU64,
    reported_hits: AtomicU64,
    reported_misses: AtomicU64,
}

fn counters() -> &'static RwLock<FxHashMap<Name, Arc<Counter>>> {
    static COUNTERS: OnceLock<RwLock<FxHashMap<Name, Arc<Counter>>>> = OnceLock::new();
    COUNTERS.get_or_init(Default::default)
}

/// Counts one cache lookup of `component`.
///
/// ```
/// pathwise_pipeline::cache::record("doc.cache", true);
/// let (hits, misses) = pathwise_pipeline::cache::totals("doc.cache");
/// assert_eq!((hits, misses), (1, 0));
/// ```
pub fn record(component: impl Into<Name>, hit: bool) {
    let component = component.into();
    let existing = counters().read().get(&component).cloned();
    let counter =
        existing.unwrap_or_else(|| counters().write().entry(component).or_default().clone());
    let field = if hit { &counter.hits } else { &counter.misses };
    field.fetch_add(1, Ordering::Relaxed);
}

/// All-time `(hits, misses)` of a component in this process.
pub fn totals(component: &str) -> (u64, u64) {
    counters().read().get(component).map_or((0, 0), |c| {
        (
            c.hits.load(Ordering::Relaxed),
            c.misses.load(Ordering::Relaxed),
        )
    })
}

/// Changes since the previous call, for components that changed.
pub(crate) fn take_deltas() -> Vec<CacheDelta> {
    let map = counters().read();
    map.iter()
        .filter_map(|(component, c)| {
            let hits = c.hits.load(Ordering::Relaxed);
            let misses = c.misses.load(Ordering::Relaxed);
            let dh = hits - c.reported_hits.swap(hits, Ordering::Relaxed);
            let dm = misses - c.reported_misses.swap(misses, Ordering::Relaxed);
            (dh + dm > 0).then(|| CacheDelta {
                component: component.clone(),
                hits: dh,
                misses: dm,
            })
        })
        .collect()
}
