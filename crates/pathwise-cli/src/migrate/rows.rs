//! The timelines of a store: its timestamped rows as [`Timeline`]s, read through the store
//! traits.

use pathwise_model::ResourceSample;
use pathwise_store::alerts::{AlertStateStore, HistoryFilter, HistoryRow};
use pathwise_store::{CacheRow, PipelineStatsRow, Reader};

use super::store_error;
use super::timeline::Timeline;
use crate::error::CliError;

/// `alert_history` rows.
pub(super) struct History<'a>(pub &'a dyn AlertStateStore);

impl History<'_> {
    fn read(
        &self,
        since_ns: i64,
        until_ns: Option<i64>,
        limit: usize,
    ) -> Result<Vec<HistoryRow>, CliError> {
        self.0
            .history(&HistoryFilter {
                since_ns: Some(since_ns),
                until_ns,
                limit: Some(limit),
                oldest_first: true,
                ..HistoryFilter::default()
            })
            .map_err(store_error("reading alert history"))
    }
}

impl Timeline for History<'_> {
    type Row = HistoryRow;
    const KIND: &'static str = "alert history rows";

    fn page(&self, after_ns: i64, limit: usize) -> Result<Vec<HistoryRow>, CliError> {
        self.read(after_ns.saturating_add(1), None, limit)
    }

    fn at(&self, ts_ns: i64, limit: usize) -> Result<Vec<HistoryRow>, CliError> {
        self.read(ts_ns, Some(ts_ns.saturating_add(1)), limit)
    }

    fn ts(row: &HistoryRow) -> i64 {
        row.ts_ns
    }
}

/// `cache_stats` rows.
pub(super) struct Cache<'a>(pub &'a dyn Reader);

impl Timeline for Cache<'_> {
    type Row = CacheRow;
    const KIND: &'static str = "cache rows";

    fn page(&self, after_ns: i64, limit: usize) -> Result<Vec<CacheRow>, CliError> {
        self.0
            .cache_rows(after_ns, i64::MAX, limit)
            .map_err(store_error("reading cache rows"))
    }

    fn at(&self, ts_ns: i64, limit: usize) -> Result<Vec<CacheRow>, CliError> {
        self.0
            .cache_rows(ts_ns.saturating_sub(1), ts_ns, limit)
            .map_err(store_error("reading cache rows"))
    }

    fn ts(row: &CacheRow) -> i64 {
        row.ts_ns
    }
}

/// `pipeline_stats` rows.
pub(super) struct Stats<'a>(pub &'a dyn Reader);

impl Timeline for Stats<'_> {
    type Row = PipelineStatsRow;
    const KIND: &'static str = "pipeline statistics rows";

    fn page(&self, after_ns: i64, limit: usize) -> Result<Vec<PipelineStatsRow>, CliError> {
        self.0
            .pipeline_stats_rows(after_ns, i64::MAX, limit)
            .map_err(store_error("reading pipeline statistics"))
    }

    fn at(&self, ts_ns: i64, limit: usize) -> Result<Vec<PipelineStatsRow>, CliError> {
        self.0
            .pipeline_stats_rows(ts_ns.saturating_sub(1), ts_ns, limit)
            .map_err(store_error("reading pipeline statistics"))
    }

    fn ts(row: &PipelineStatsRow) -> i64 {
        row.ts_ns
    }
}

/// Resource samples.
pub(super) struct Resources<'a>(pub &'a dyn Reader);

impl Timeline for Resources<'_> {
    type Row = ResourceSample;
    const KIND: &'static str = "resource samples";

    fn page(&self, after_ns: i64, limit: usize) -> Result<Vec<ResourceSample>, CliError> {
        self.0
            .resource_samples(after_ns.saturating_add(1), None, limit)
            .map_err(store_error("reading resources"))
    }

    fn at(&self, ts_ns: i64, limit: usize) -> Result<Vec<ResourceSample>, CliError> {
        self.0
            .resource_samples(ts_ns, Some(ts_ns.saturating_add(1)), limit)
            .map_err(store_error("reading resources"))
    }

    fn ts(row: &ResourceSample) -> i64 {
        row.ts_ns
    }
}
