//! Stored baselines as the monitoring code wants them.

use pathwise_analysis::monitoring::StoredBaseline;
use pathwise_store::Reader;

use crate::error::ApiError;

/// The baseline in force per operation (pinned, else newest stored version).
pub fn stored(reader: &dyn Reader) -> Result<Vec<StoredBaseline>, ApiError> {
    Ok(reader
        .baselines()?
        .iter()
        .map(StoredBaseline::from)
        .collect())
}
