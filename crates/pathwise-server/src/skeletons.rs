//! The span skeletons of the big traces read last, so that a page of a 500,000-span trace, its
//! expanded subtrees and its searches read the trace's spans once rather than on every request
//! (0.7–1.0 s each on SQLite). Only finished traces are kept, under the trace row's counts and
//! end: a span that arrives late changes them, and the next request reads the skeleton afresh.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use pathwise_model::{TraceId, TraceStatus};
use pathwise_store::{Reader, SpanSkeleton, StoreError, TraceSummary};

/// Traces smaller than this read fast enough not to keep.
const MIN_SPANS: usize = 10_000;
/// Spans kept in all (about 40 bytes each): two traces of 500,000.
const MAX_SPANS: usize = 1_000_000;

/// What a trace's skeleton was read under: a change to any of it means new spans.
type Version = (i64, i64, Option<i64>);

struct Entry {
    id: TraceId,
    version: Version,
    skeleton: Arc<Vec<SpanSkeleton>>,
}

/// A small cache of skeletons, newest first, per project.
#[derive(Default)]
pub struct SkeletonCache {
    entries: Mutex<VecDeque<Entry>>,
}

impl SkeletonCache {
    /// The skeleton of `trace`, from the cache when it holds this version of it.
    pub fn read(
        &self,
        reader: &dyn Reader,
        trace: &TraceSummary,
    ) -> Result<Arc<Vec<SpanSkeleton>>, StoreError> {
        let version = (trace.span_count, trace.error_count, trace.end_ns);
        let keep = trace.status != TraceStatus::Running;
        if keep && let Some(hit) = self.lookup(trace.trace_id, version) {
            return Ok(hit);
        }
        let skeleton = Arc::new(reader.span_skeleton(trace.trace_id)?);
        if keep && skeleton.len() >= MIN_SPANS && skeleton.len() <= MAX_SPANS {
            self.insert(trace.trace_id, version, skeleton.clone());
        }
        Ok(skeleton)
    }

    fn lookup(&self, id: TraceId, version: Version) -> Option<Arc<Vec<SpanSkeleton>>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let at = entries.iter().position(|e| e.id == id)?;
        let entry = entries.remove(at)?;
        if entry.version != version {
            return None; // stale: dropped, read again
        }
        let skeleton = entry.skeleton.clone();
        entries.push_front(entry);
        Some(skeleton)
    }

    fn insert(&self, id: TraceId, version: Version, skeleton: Arc<Vec<SpanSkeleton>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| e.id != id);
        entries.push_front(Entry {
            id,
            version,
            skeleton,
        });
        let mut kept = 0;
        entries.retain(|e| {
            kept += e.skeleton.len();
            kept <= MAX_SPANS
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(seed: u128, span_count: i64) -> TraceSummary {
        TraceSummary {
            trace_id: TraceId::from_parts(1, seed),
            name: "t".into(),
            start_ns: 0,
            end_ns: Some(1),
            duration_ns: Some(1),
            status: TraceStatus::Completed,
            span_count,
            error_count: 0,
            metadata: None,
        }
    }

    fn skeleton(n: usize) -> Arc<Vec<SpanSkeleton>> {
        Arc::new(
            (0..n as u64)
                .map(|i| SpanSkeleton {
                    span_id: i + 1,
                    parent_id: 0,
                    start_ns: 0,
                    duration_ns: 1,
                    failed: false,
                })
                .collect(),
        )
    }

    #[test]
    fn keeps_a_version_until_it_changes_and_the_newest_within_the_bound() {
        let cache = SkeletonCache::default();
        let (a, b, c) = (trace(1, 400_000), trace(2, 400_000), trace(3, 400_000));
        let version = |t: &TraceSummary| (t.span_count, t.error_count, t.end_ns);
        cache.insert(a.trace_id, version(&a), skeleton(400_000));
        assert!(cache.lookup(a.trace_id, version(&a)).is_some());
        assert!(
            cache.lookup(a.trace_id, (400_001, 0, Some(1))).is_none(),
            "a late span: read again"
        );
        assert!(
            cache.lookup(a.trace_id, version(&a)).is_none(),
            "and dropped"
        );
        cache.insert(a.trace_id, version(&a), skeleton(400_000));
        cache.insert(b.trace_id, version(&b), skeleton(400_000));
        cache.insert(c.trace_id, version(&c), skeleton(400_000));
        assert!(
            cache.lookup(a.trace_id, version(&a)).is_none(),
            "over the bound: the oldest goes"
        );
        assert!(cache.lookup(b.trace_id, version(&b)).is_some());
        assert!(cache.lookup(c.trace_id, version(&c)).is_some());
    }
}
