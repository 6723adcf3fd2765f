//! Rollups of a window as analytics use them, read through the store's [`Reader`] traits.

use rustc_hash::FxHashMap;

use pathwise_store::rollup::Bucket;
use pathwise_store::{Reader, Window};

use crate::AnalysisError;

/// Merged figures per node (span name) over the window.
pub fn load_node_buckets(
    store: &dyn Reader,
    window: Window,
) -> Result<FxHashMap<String, Bucket>, AnalysisError> {
    let mut out: FxHashMap<String, Bucket> = FxHashMap::default();
    for rollup in store.path_rollups(window)? {
        match out.get_mut(&rollup.path.node) {
            Some(b) => b.merge(&rollup.bucket),
            None => {
                out.insert(rollup.path.node, rollup.bucket);
            }
        }
    }
    Ok(out)
}
