//! The writer's commits: every one goes through `guarded` (see `wal`).

use rusqlite::Transaction;

use super::SqliteStore;
use crate::Error;
use crate::maintenance::{self, in_transaction, now_ns, write_cache, write_stats};
use pathwise_store::{
    BaselineRow, CacheRow, FunctionInfo, PathDictionary, PipelineStats, Reclaimed, StorageUse,
    Store, StoreError, WriteBatch,
};

impl Store for SqliteStore {
    // Every write goes through `guarded`: see `wal` for why a commit is checked.
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        let now = now_ns();
        Ok(self.guarded(|s| s.write_batch_tx(batch, paths, now))?)
    }

    fn register_functions(&mut self, functions: &[FunctionInfo]) -> Result<(), StoreError> {
        self.in_guarded_transaction(|tx| maintenance::register_functions(tx, functions))
    }

    fn delete_before(&mut self, cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        self.in_guarded_transaction(|tx| maintenance::delete_before(tx, cutoff_unix_ms))
    }

    fn storage_use(&mut self) -> Result<StorageUse, StoreError> {
        Ok(crate::storage::storage_use(&self.conn, &self.path, false)?)
    }

    fn reclaim(&mut self, full: bool) -> Result<Reclaimed, StoreError> {
        Ok(crate::storage::reclaim(&self.conn, &self.path, full)?)
    }

    fn write_cache_rows(&mut self, rows: &[CacheRow]) -> Result<(), StoreError> {
        self.in_guarded_transaction(|tx| maintenance::write_cache_rows(tx, rows))
    }

    fn write_pipeline_stats(&mut self, rows: &[PipelineStats]) -> Result<(), StoreError> {
        self.in_guarded_transaction(|tx| rows.iter().try_for_each(|s| write_stats(tx, s)))
    }

    fn save_baseline(&mut self, baseline: &BaselineRow) -> Result<i64, StoreError> {
        Ok(self.guarded(|s| crate::baselines::save(&s.conn, baseline))?)
    }

    fn pin_baseline(&mut self, name: &str, pinned: bool) -> Result<Option<i64>, StoreError> {
        Ok(self.guarded(|s| crate::baselines::pin(&s.conn, name, pinned))?)
    }
}

impl SqliteStore {
    fn in_guarded_transaction<T>(
        &mut self,
        f: impl Fn(&Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, StoreError> {
        Ok(self.guarded(|s| Ok(in_transaction(&mut s.conn, &f)?))?)
    }

    fn write_batch_tx(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
        now: i64,
    ) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        let result = (|| {
            self.dict.write_records(&tx, batch.records, paths)?;
            if !batch.cache.is_empty() {
                write_cache(&tx, now, batch.cache)?;
            }
            if let Some(stats) = batch.stats {
                write_stats(&tx, stats)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(tx.commit()?),
            Err(e) => {
                // The caches may name rows the rollback removed.
                self.dict = super::Dictionary::new(self.dict.rollups_enabled);
                Err(e)
            }
        }
    }
}
