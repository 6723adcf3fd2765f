//! A pipeline of its own for a producer of whole batches — a server that records what it
//! receives into several stores (one per project) needs one writer, spill and error lane per
//! store, while [`crate::install`] gives the process exactly one. The same never-drop
//! contract holds: a batch is queued, spilled or handed back as an error.

use std::sync::Arc;
use std::time::Duration;

use pathwise_model::Record;
use pathwise_store::{FunctionInfo, PipelineStats, Store};

use crate::shared::Shared;
use crate::{PipelineConfig, PipelineError, SubmitError, fork, privacy, writer};

/// A running pipeline that only takes what is given to [`BatchPipeline::submit_batch`]: it
/// never takes spans recorded on the process's threads (those go to the installed pipeline).
/// Dropping it (or [`BatchPipeline::shutdown`]) writes everything pending.
///
/// ```
/// use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
/// use pathwise_pipeline::{BatchPipeline, PipelineConfig};
/// use pathwise_store::MemoryStore;
/// let dir = tempfile::tempdir().unwrap();
/// let store = MemoryStore::default();
/// let pipeline = BatchPipeline::start(PipelineConfig::new(dir.path()), Box::new(store.clone())).unwrap();
/// let now_ms = pathwise_pipeline::clock().wall_now_ns() as u64 / 1_000_000;
/// let span = SpanRecord::new(TraceId::from_parts(now_ms, 1), 1, 0, "GET /".into(), SpanKind::Span);
/// pipeline.submit_batch(vec![Record::Span(span)]).unwrap();
/// assert!(pipeline.flush_committed(std::time::Duration::from_secs(5)));
/// pipeline.shutdown();
/// assert_eq!(store.records().len(), 1);
/// ```
pub struct BatchPipeline {
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
    privacy: Option<privacy::PrivacyFilter>,
    _lock: fork::DirLock,
}

impl BatchPipeline {
    /// Starts the writer thread for `store`, replaying what a previous process left in
    /// `config.data_dir` first. Two pipelines (of this or another process) cannot share a
    /// data directory.
    pub fn start(
        config: PipelineConfig,
        store: Box<dyn Store>,
    ) -> Result<BatchPipeline, PipelineError> {
        crate::check_config(&config)?;
        let lock = fork::DirLock::acquire(&config.data_dir)?;
        let privacy = crate::privacy_filter(&config)?;
        crate::clock();
        let shared = Arc::new(Shared::new(config, false));
        let writer =
            writer::spawn(shared.clone(), store).map_err(|source| PipelineError::DataDir {
                path: "writer thread".into(),
                source,
            })?;
        Ok(BatchPipeline {
            shared,
            writer: Some(writer),
            privacy,
            _lock: lock,
        })
    }

    /// Queues a batch: into memory, into the spill when the writer is behind, or back to the
    /// caller as an error when even the spill cannot be written (nothing is kept then).
    pub fn submit_batch(&self, mut records: Vec<Record>) -> Result<(), SubmitError> {
        if records.is_empty() {
            return Ok(());
        }
        if let Some(filter) = &self.privacy {
            records.iter_mut().for_each(|r| filter.apply(r));
        }
        self.shared.push_checked(records)?;
        Ok(())
    }

    /// Waits until everything submitted so far is committed, or `timeout` passes; `true` when
    /// committed.
    pub fn flush_committed(&self, timeout: Duration) -> bool {
        self.shared.flush(timeout)
    }

    /// Registers functions with the store at the writer's next round.
    pub fn register_functions(&self, functions: Vec<FunctionInfo>) {
        self.shared.functions.lock().extend(functions);
    }

    /// Current counters.
    pub fn stats(&self) -> PipelineStats {
        self.shared.stats()
    }

    /// Stops, writing everything pending (within `shutdown_timeout`; the rest stays in the
    /// spill for the next start).
    pub fn shutdown(mut self) -> PipelineStats {
        self.stop()
    }

    fn stop(&mut self) -> PipelineStats {
        let Some(writer) = self.writer.take() else {
            return self.shared.stats();
        };
        self.shared.begin_shutdown();
        let _ = writer.join();
        self.shared.stats()
    }
}

impl Drop for BatchPipeline {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathwise_model::{SpanKind, SpanRecord, TraceId};
    use pathwise_store::MemoryStore;

    fn span(trace: u64, id: u64) -> Record {
        let now_ms = crate::clock().wall_now_ns() as u64 / 1_000_000;
        Record::Span(SpanRecord::new(
            TraceId::from_parts(now_ms, trace.into()),
            id,
            0,
            "op".into(),
            SpanKind::Span,
        ))
    }

    #[test]
    fn two_batch_pipelines_write_to_their_own_stores_alongside_each_other() {
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (MemoryStore::default(), MemoryStore::default());
        let pa =
            BatchPipeline::start(PipelineConfig::new(a_dir.path()), Box::new(a.clone())).unwrap();
        let pb =
            BatchPipeline::start(PipelineConfig::new(b_dir.path()), Box::new(b.clone())).unwrap();
        pa.submit_batch((1..=3).map(|i| span(1, i)).collect())
            .unwrap();
        pb.submit_batch(vec![span(2, 1)]).unwrap();
        assert!(pa.flush_committed(Duration::from_secs(5)));
        assert!(pb.flush_committed(Duration::from_secs(5)));
        assert_eq!((a.records().len(), b.records().len()), (3, 1));
        drop(pa);
        assert_eq!(pb.shutdown().dropped, 0);
    }

    #[test]
    fn a_data_directory_takes_one_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let first = BatchPipeline::start(
            PipelineConfig::new(dir.path()),
            Box::new(MemoryStore::default()),
        )
        .unwrap();
        let second = BatchPipeline::start(
            PipelineConfig::new(dir.path()),
            Box::new(MemoryStore::default()),
        );
        assert!(matches!(second, Err(PipelineError::DataDirInUse { .. })));
        drop(first);
    }

    #[test]
    fn what_a_previous_run_spilled_is_replayed_into_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoryStore::default();
        let config = PipelineConfig {
            queue_capacity: 1,
            shutdown_timeout: Some(Duration::ZERO),
            ..PipelineConfig::new(dir.path())
        };
        {
            // A store that never commits: everything stays spilled.
            let stuck = BatchPipeline::start(config.clone(), Box::new(Refusing)).unwrap();
            for i in 1..=20 {
                stuck.submit_batch(vec![span(3, i)]).unwrap();
            }
        }
        let pipeline = BatchPipeline::start(config, Box::new(store.clone())).unwrap();
        assert!(pipeline.flush_committed(Duration::from_secs(10)));
        drop(pipeline);
        assert_eq!(store.records().len(), 20);
    }

    struct Refusing;

    impl Store for Refusing {
        fn write_batch(
            &mut self,
            _: &pathwise_store::WriteBatch<'_>,
            _: &dyn pathwise_store::PathDictionary,
        ) -> Result<(), pathwise_store::StoreError> {
            Err(pathwise_store::StoreError::Backend("down".into()))
        }
        fn register_functions(
            &mut self,
            _: &[FunctionInfo],
        ) -> Result<(), pathwise_store::StoreError> {
            Err(pathwise_store::StoreError::Backend("down".into()))
        }
        fn delete_before(&mut self, _: u64) -> Result<u64, pathwise_store::StoreError> {
            Ok(0)
        }
    }
}
