//! An engine on one of several servers sharing a store: while another engine leads it
//! follows what that one stored, and when it takes over it starts from there.

use super::Engine;
use crate::history::HistoryFilter;

/// How far back acknowledgements are looked for on each evaluation: made on any server,
/// they reach the leader through the history, whose rows may land a little out of order.
const ACK_LOOKBACK_NS: i64 = 60_000_000_000;

impl Engine {
    /// Replaces the active alerts by those stored (by the leading engine, or by this one
    /// before it stopped leading), so the list is the leader's and a takeover neither forgets
    /// nor re-announces an alert.
    pub fn follow_stored(&mut self) -> Result<(), String> {
        self.alerts = self
            .store
            .load_states()?
            .into_iter()
            .map(|alert| (alert.fingerprint.clone(), alert))
            .collect();
        Ok(())
    }

    /// Takes over acknowledgements recorded since shortly before `now_ns` by any engine on
    /// the store (an operator may acknowledge on a server that does not evaluate).
    pub fn adopt_acknowledgements(&mut self, now_ns: i64) -> Result<usize, String> {
        let rows = self.store.history(&HistoryFilter {
            since_ns: Some(now_ns.saturating_sub(ACK_LOOKBACK_NS)),
            limit: Some(10_000),
            ..HistoryFilter::default()
        })?;
        let mut adopted = 0;
        for row in rows.iter().filter(|r| r.state == "acknowledged") {
            if let Some(alert) = self.alerts.get_mut(&row.fingerprint)
                && alert.acked_by.is_none()
                && row.ts_ns >= alert.since_ns
            {
                alert.acked_by = Some(row.actor.clone());
                adopted += 1;
            }
        }
        Ok(adopted)
    }
}
