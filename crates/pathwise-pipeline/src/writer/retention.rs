//! Size-based retention: when the store holds more than its limit, its oldest hour goes, then
//! the next, until it holds less — never the last minute, whatever the limit.

use pathwise_store::{Store, StoreError};

use crate::shared::Shared;

/// Hours deleted at most per retention run: a limit far below the data kept is reached over
/// several runs instead of in one long pause of the writer.
const MAX_STEPS: usize = 48;
const HOUR_MS: u64 = 3_600_000;
/// Data younger than this is never deleted for size.
const KEEP_MS: u64 = 60_000;

/// Deletes the store's oldest data an hour at a time until it uses at most `limit` bytes;
/// returns the rows removed. Problems are warned about, never fatal.
pub(super) fn trim_to_size(store: &mut dyn Store, limit: u64, now_ms: u64, shared: &Shared) -> u64 {
    let mut removed = 0;
    for _ in 0..MAX_STEPS {
        let usage = match store.storage_use() {
            Ok(usage) => usage,
            Err(StoreError::Unsupported(what)) => {
                shared.warn(&format!(
                    "size-based retention is not available on this store ({what})"
                ));
                return removed;
            }
            Err(e) => {
                shared.warn(&format!("size-based retention failed: {e}"));
                return removed;
            }
        };
        if usage.used_bytes <= limit {
            return removed;
        }
        let Some(oldest) = usage.oldest_trace_ms else {
            return removed;
        };
        let cutoff = (oldest + HOUR_MS).min(now_ms.saturating_sub(KEEP_MS));
        if cutoff <= oldest {
            shared.warn(&format!(
                "the store holds {} bytes, over its limit of {limit}, in data younger than a minute; nothing more is deleted",
                usage.used_bytes
            ));
            return removed;
        }
        match store.delete_before(cutoff) {
            Ok(rows) => removed += rows,
            Err(e) => {
                shared.warn(&format!("size-based retention failed: {e}"));
                return removed;
            }
        }
    }
    removed
}
