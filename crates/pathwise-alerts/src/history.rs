//! The engine's view of its tables in the store: active state, history and silences, kept
//! through the backend's [`AlertStateStore`].

use pathwise_store::alerts::{AlertStateRow, AlertStateStore, AlertWrite};
pub use pathwise_store::alerts::{HistoryFilter, HistoryRow, Matcher, Silence};
use serde::Serialize;

use crate::{ActiveAlert, AlertState, Severity};

pub(crate) struct AlertStore {
    inner: Box<dyn AlertStateStore>,
}

fn text(e: pathwise_store::StoreError) -> String {
    e.to_string()
}

/// The stored form of an active alert.
pub(crate) fn state_row(a: &ActiveAlert) -> AlertStateRow {
    AlertStateRow {
        fingerprint: a.fingerprint.clone(),
        rule: a.rule.clone(),
        state: a.state.as_str().into(),
        severity: a.severity.as_str().into(),
        value: a.value,
        labels: a.labels.clone(),
        annotations: a.annotations.clone(),
        since_ns: a.since_ns,
        fired_ns: a.fired_ns,
        last_notified_ns: a.last_notified_ns,
        clear_since_ns: a.clear_since_ns,
        acked_by: a.acked_by.clone(),
    }
}

/// What an engine left in a store: for a server that shares the store with the one server that
/// evaluates the rules (several servers on one cluster; only one notifies).
#[derive(Clone, Debug, Serialize)]
pub struct StoredAlerts {
    pub active: Vec<ActiveAlert>,
    pub history: Vec<HistoryRow>,
    pub silences: Vec<Silence>,
}

/// Reads the active alerts, the history matching `filter` and the silences in force at
/// `now_ns`, as the evaluating engine stored them.
///
/// ```
/// use pathwise_alerts::{HistoryFilter, read_stored};
/// let dir = tempfile::tempdir().unwrap();
/// let store = pathwise_store_sqlite::SqliteAlertStore::open(&dir.path().join("p.db")).unwrap();
/// let stored = read_stored(&store, &HistoryFilter::default(), 0).unwrap();
/// assert!(stored.active.is_empty() && stored.history.is_empty());
/// ```
pub fn read_stored(
    store: &dyn AlertStateStore,
    filter: &HistoryFilter,
    now_ns: i64,
) -> Result<StoredAlerts, String> {
    Ok(StoredAlerts {
        active: store
            .load_states()
            .map_err(text)?
            .into_iter()
            .map(active_alert)
            .collect(),
        history: store.history(filter).map_err(text)?,
        silences: store.silences(now_ns).map_err(text)?,
    })
}

/// An alert saved by a previous engine; unknown text falls back to pending / the default
/// severity rather than failing the start.
fn active_alert(row: AlertStateRow) -> ActiveAlert {
    ActiveAlert {
        fingerprint: row.fingerprint,
        rule: row.rule,
        state: if row.state == AlertState::Firing.as_str() {
            AlertState::Firing
        } else {
            AlertState::Pending
        },
        severity: Severity::parse(&row.severity).unwrap_or_default(),
        value: row.value,
        labels: row.labels,
        annotations: row.annotations,
        since_ns: row.since_ns,
        fired_ns: row.fired_ns,
        last_notified_ns: row.last_notified_ns,
        clear_since_ns: row.clear_since_ns,
        acked_by: row.acked_by,
    }
}

impl AlertStore {
    pub fn new(inner: Box<dyn AlertStateStore>) -> AlertStore {
        AlertStore { inner }
    }

    /// Applies the writes in one transaction.
    pub fn apply(&mut self, writes: &[AlertWrite<'_>]) -> Result<(), String> {
        self.inner.apply(writes).map_err(text)
    }

    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRow>, String> {
        self.inner.history(filter).map_err(text)
    }

    pub fn load_states(&self) -> Result<Vec<ActiveAlert>, String> {
        Ok(self
            .inner
            .load_states()
            .map_err(text)?
            .into_iter()
            .map(active_alert)
            .collect())
    }

    pub fn add_silence(
        &mut self,
        matcher: &Matcher,
        until_ns: i64,
        created_ns: i64,
        comment: &str,
    ) -> Result<i64, String> {
        self.inner
            .add_silence(matcher, until_ns, created_ns, comment)
            .map_err(text)
    }

    pub fn expire_silence(&mut self, id: i64, now_ns: i64) -> Result<bool, String> {
        self.inner.expire_silence(id, now_ns).map_err(text)
    }

    pub fn silences(&self, now_ns: i64) -> Result<Vec<Silence>, String> {
        self.inner.silences(now_ns).map_err(text)
    }
}
