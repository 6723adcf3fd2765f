//! Alert state, history and silences in replacing tables (the newest row of a key wins). SQL
//! rules are in `sql`.

use std::sync::atomic::{AtomicI64, Ordering};

use clickhouse::Row;
use pathwise_store::StoreError;
use pathwise_store::alerts::{
    AlertStateRow, AlertStateStore, AlertWrite, Evaluator, HistoryFilter, HistoryRow, Matcher,
    Silence, labels_from_text, labels_text,
};
use serde::{Deserialize, Serialize};

use crate::Conn;
use crate::rows::now_ns;
use crate::write::insert;

/// Versions of replacing rows: strictly increasing within the process, so two writes in the
/// same nanosecond still order.
pub(crate) fn version() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_ns();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

#[derive(Row, Serialize, Deserialize, Clone)]
struct StateRowCh {
    fingerprint: String,
    rule: String,
    state: String,
    severity: String,
    value: Option<f64>,
    labels: String,
    annotations: String,
    since_ns: i64,
    fired_ns: Option<i64>,
    last_notified_ns: Option<i64>,
    clear_since_ns: Option<i64>,
    acked_by: Option<String>,
    deleted: u8,
    updated_ns: i64,
}

#[derive(Row, Serialize, Deserialize, Clone)]
struct HistoryRowCh {
    ts_ns: i64,
    seq: i64,
    fingerprint: String,
    rule: String,
    state: String,
    severity: String,
    value: Option<f64>,
    labels: String,
    annotations: String,
    actor: String,
}

#[derive(Row, Serialize, Deserialize, Clone)]
struct SilenceRowCh {
    id: i64,
    matcher: String,
    until_ns: i64,
    created_ns: i64,
    comment: String,
    updated_ns: i64,
}

#[derive(Row, Serialize, Deserialize, Clone)]
struct EvaluatorRowCh {
    holder: String,
    heartbeat_ns: i64,
    resigned: u8,
}

/// The alert engine's tables on ClickHouse.
pub(crate) struct ClickHouseAlertStore {
    conn: Conn,
}

impl ClickHouseAlertStore {
    pub(crate) fn new(conn: Conn) -> Self {
        ClickHouseAlertStore { conn }
    }

    fn silence_rows(&self, clause: &str) -> Result<Vec<SilenceRowCh>, StoreError> {
        self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT id, matcher, until_ns, created_ns, comment, updated_ns FROM {} FINAL
                     {clause} ORDER BY id",
                    self.conn.table("alert_silences")
                ))
                .fetch_all(),
        )
    }
}

impl AlertStateStore for ClickHouseAlertStore {
    fn apply(&mut self, writes: &[AlertWrite<'_>]) -> Result<(), StoreError> {
        // Three tables, no multi-table transaction: history first, then state, so a failure
        // in between leaves state to be written again by the next evaluation.
        let mut history = Vec::new();
        let mut states = Vec::new();
        for write in writes {
            match write {
                AlertWrite::History(h) => history.push(HistoryRowCh {
                    ts_ns: h.ts_ns,
                    seq: version(),
                    fingerprint: h.fingerprint.clone(),
                    rule: h.rule.clone(),
                    state: h.state.clone(),
                    severity: h.severity.clone(),
                    value: h.value,
                    labels: labels_text(&h.labels),
                    annotations: labels_text(&h.annotations),
                    actor: h.actor.clone(),
                }),
                AlertWrite::SaveState(s) => states.push(StateRowCh {
                    fingerprint: s.fingerprint.clone(),
                    rule: s.rule.clone(),
                    state: s.state.clone(),
                    severity: s.severity.clone(),
                    value: s.value,
                    labels: labels_text(&s.labels),
                    annotations: labels_text(&s.annotations),
                    since_ns: s.since_ns,
                    fired_ns: s.fired_ns,
                    last_notified_ns: s.last_notified_ns,
                    clear_since_ns: s.clear_since_ns,
                    acked_by: s.acked_by.clone(),
                    deleted: 0,
                    updated_ns: version(),
                }),
                AlertWrite::DeleteState(fingerprint) => states.push(StateRowCh {
                    fingerprint: fingerprint.to_string(),
                    rule: String::new(),
                    state: String::new(),
                    severity: String::new(),
                    value: None,
                    labels: "{}".into(),
                    annotations: "{}".into(),
                    since_ns: 0,
                    fired_ns: None,
                    last_notified_ns: None,
                    clear_since_ns: None,
                    acked_by: None,
                    deleted: 1,
                    updated_ns: version(),
                }),
            }
        }
        insert(&self.conn, "alert_history", &history)?;
        insert(&self.conn, "alert_state", &states)
    }

    fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryRow>, StoreError> {
        let mut clauses = vec![format!("ts_ns >= {}", filter.since_ns.unwrap_or(0))];
        if let Some(until) = filter.until_ns {
            clauses.push(format!("ts_ns < {until}"));
        }
        if filter.fingerprint.is_some() {
            clauses.push("fingerprint = ?".into());
        }
        if filter.rule.is_some() {
            clauses.push("rule = ?".into());
        }
        // `seq` orders rows of the same nanosecond as they were written.
        let order = if filter.oldest_first {
            "ts_ns, seq"
        } else {
            "ts_ns DESC, seq DESC"
        };
        let mut query = self.conn.client.query(&format!(
            "SELECT ts_ns, seq, fingerprint, rule, state, severity, value, labels, annotations,
                    actor FROM {} WHERE {} ORDER BY {order} LIMIT {}",
            self.conn.table("alert_history"),
            clauses.join(" AND "),
            filter.limit.unwrap_or(1000).min(1_000_000)
        ));
        for value in [&filter.fingerprint, &filter.rule].into_iter().flatten() {
            query = query.bind(value.as_str());
        }
        let rows: Vec<HistoryRowCh> = self.conn.run(query.fetch_all())?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryRow {
                ts_ns: r.ts_ns,
                fingerprint: r.fingerprint,
                rule: r.rule,
                state: r.state,
                severity: r.severity,
                value: r.value,
                labels: labels_from_text(&r.labels),
                annotations: labels_from_text(&r.annotations),
                actor: r.actor,
            })
            .collect())
    }

    fn load_states(&self) -> Result<Vec<AlertStateRow>, StoreError> {
        let rows: Vec<StateRowCh> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT fingerprint, rule, state, severity, value, labels, annotations,
                            since_ns, fired_ns, last_notified_ns, clear_since_ns, acked_by,
                            deleted, updated_ns
                     FROM {} FINAL WHERE deleted = 0",
                    self.conn.table("alert_state")
                ))
                .fetch_all(),
        )?;
        Ok(rows
            .into_iter()
            .map(|r| AlertStateRow {
                labels: labels_from_text(&r.labels),
                annotations: labels_from_text(&r.annotations),
                fingerprint: r.fingerprint,
                rule: r.rule,
                state: r.state,
                severity: r.severity,
                value: r.value,
                since_ns: r.since_ns,
                fired_ns: r.fired_ns,
                last_notified_ns: r.last_notified_ns,
                clear_since_ns: r.clear_since_ns,
                acked_by: r.acked_by,
            })
            .collect())
    }

    fn add_silence(
        &mut self,
        matcher: &Matcher,
        until_ns: i64,
        created_ns: i64,
        comment: &str,
    ) -> Result<i64, StoreError> {
        let id = version();
        insert(
            &self.conn,
            "alert_silences",
            &[SilenceRowCh {
                id,
                matcher: matcher.to_text(),
                until_ns,
                created_ns,
                comment: comment.to_string(),
                updated_ns: version(),
            }],
        )?;
        Ok(id)
    }

    fn expire_silence(&mut self, id: i64, now_ns: i64) -> Result<bool, StoreError> {
        let Some(mut row) = self.silence_rows(&format!("WHERE id = {id}"))?.pop() else {
            return Ok(false);
        };
        row.until_ns = row.until_ns.min(now_ns);
        row.updated_ns = version();
        insert(&self.conn, "alert_silences", &[row])?;
        Ok(true)
    }

    fn silences(&self, now_ns: i64) -> Result<Vec<Silence>, StoreError> {
        Ok(self
            .silence_rows(&format!("WHERE until_ns > {now_ns}"))?
            .into_iter()
            .map(|r| Silence {
                id: r.id,
                matcher: Matcher::parse(&r.matcher).unwrap_or(Matcher::Rule(r.matcher)),
                until_ns: r.until_ns,
                created_ns: r.created_ns,
                comment: r.comment,
            })
            .collect())
    }

    fn heartbeat(&mut self, holder: &str, now_ns: i64) -> Result<(), StoreError> {
        insert(
            &self.conn,
            "alert_evaluators",
            &[EvaluatorRowCh {
                holder: holder.to_string(),
                heartbeat_ns: now_ns,
                resigned: 0,
            }],
        )
    }

    fn resign(&mut self, holder: &str, now_ns: i64) -> Result<(), StoreError> {
        // The newest row of a holder decides, so resigning is one more, later row.
        insert(
            &self.conn,
            "alert_evaluators",
            &[EvaluatorRowCh {
                holder: holder.to_string(),
                heartbeat_ns: now_ns,
                resigned: 1,
            }],
        )
    }

    fn evaluators(&self, since_ns: i64) -> Result<Vec<Evaluator>, StoreError> {
        // max() rather than FINAL: beats not yet merged away must not hide the newest one.
        let rows: Vec<EvaluatorRowCh> = self.conn.run(
            self.conn
                .client
                .query(&format!(
                    "SELECT holder, beat AS heartbeat_ns, gone AS resigned FROM
                       (SELECT holder, max(heartbeat_ns) AS beat,
                               argMax(resigned, heartbeat_ns) AS gone
                        FROM {} GROUP BY holder HAVING beat >= {since_ns} AND gone = 0)
                     ORDER BY holder",
                    self.conn.table("alert_evaluators")
                ))
                .fetch_all(),
        )?;
        Ok(rows
            .into_iter()
            .map(|r| Evaluator {
                holder: r.holder,
                heartbeat_ns: r.heartbeat_ns,
            })
            .collect())
    }
}
