use std::sync::{Arc, Mutex};

use pathwise_model::{Record, ResourceSample};

use crate::{
    FunctionInfo, PathDictionary, PipelineStats, Store, StoreError, WriteBatch, path_text,
};

#[derive(Default)]
struct Inner {
    records: Vec<(Record, String)>,
    functions: Vec<FunctionInfo>,
    stats: Option<PipelineStats>,
}

/// Keeps everything in memory; cloning shares the same contents, so a test can hand one clone
/// to the pipeline and read through another.
///
/// ```
/// use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
/// use pathwise_store::{MemoryStore, NoPaths, Store, WriteBatch};
/// let store = MemoryStore::default();
/// let span = SpanRecord::new(TraceId(1), 1, 0, "main".into(), SpanKind::Span);
/// store.clone().write_batch(&WriteBatch { records: &[Record::Span(span)], ..WriteBatch::EMPTY }, &NoPaths).unwrap();
/// assert_eq!(store.records().len(), 1);
/// assert_eq!(store.paths(), vec!["main".to_string()]);
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking test thread must not hide what was recorded from the others.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every record written so far, in write order.
    pub fn records(&self) -> Vec<Record> {
        self.lock().records.iter().map(|(r, _)| r.clone()).collect()
    }

    /// The resource samples among the records, in write order.
    pub fn resource_samples(&self) -> Vec<ResourceSample> {
        self.lock()
            .records
            .iter()
            .filter_map(|(r, _)| match r {
                Record::Resource(sample) => Some(*sample),
                _ => None,
            })
            .collect()
    }

    /// The root→span path text of each record (`""` for non-span records), in write order.
    pub fn paths(&self) -> Vec<String> {
        self.lock().records.iter().map(|(_, p)| p.clone()).collect()
    }

    /// Functions registered so far.
    pub fn functions(&self) -> Vec<FunctionInfo> {
        self.lock().functions.clone()
    }

    /// The latest pipeline statistics written.
    pub fn stats(&self) -> Option<PipelineStats> {
        self.lock().stats
    }

    /// Forgets all records.
    pub fn clear(&self) {
        self.lock().records.clear();
    }
}

impl Store for MemoryStore {
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for record in batch.records {
            let text = match record {
                Record::Span(span) => path_text(paths, span.path, &span.name),
                Record::Trace(_) | Record::Resource(_) => String::new(),
            };
            inner.records.push((record.clone(), text));
        }
        if let Some(stats) = batch.stats {
            inner.stats = Some(*stats);
        }
        Ok(())
    }

    fn register_functions(&mut self, functions: &[FunctionInfo]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        for f in functions {
            if !inner.functions.iter().any(|known| known.name == f.name) {
                inner.functions.push(f.clone());
            }
        }
        Ok(())
    }

    fn delete_before(&mut self, cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let before = inner.records.len();
        let cutoff_ns = (cutoff_unix_ms as i64).saturating_mul(1_000_000);
        inner.records.retain(|(r, _)| match r {
            Record::Resource(sample) => sample.ts_ns >= cutoff_ns,
            _ => r.trace_id().is_none_or(|t| t.unix_ms() >= cutoff_unix_ms),
        });
        Ok((before - inner.records.len()) as u64)
    }
}

/// Accepts every batch and keeps nothing: measures the pipeline without the cost of storage.
///
/// ```
/// use pathwise_store::{DiscardStore, NoPaths, Store, WriteBatch};
/// DiscardStore.write_batch(&WriteBatch::EMPTY, &NoPaths).unwrap();
/// ```
pub struct DiscardStore;

impl Store for DiscardStore {
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        _paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        // Keep the optimiser from treating the batch as unused.
        std::hint::black_box(batch.records.len());
        Ok(())
    }

    fn register_functions(&mut self, _functions: &[FunctionInfo]) -> Result<(), StoreError> {
        Ok(())
    }

    fn delete_before(&mut self, _cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
