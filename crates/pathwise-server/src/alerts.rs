//! Alert routes: every rule's state, active alerts and history, acknowledgements and silences
//! (made and ended). The engine runs on its own thread (see `pathwise-alerts`); handlers take
//! its lock (never held while rules run) on the blocking pool, within the handler budget.

use std::path::PathBuf;
use std::sync::Arc;

use pathwise_store::Backend;

use axum::Json;
use axum::extract::Path;
use pathwise_alerts::{
    Engine, EngineHandle, HistoryFilter, Lease, LeaseConfig, LeaseHandle, LogNotifier, Matcher,
    Notifier, RulesFile, StoreSource, WebhookConfig, WebhookNotifier,
};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::params::Params;

type Shared = crate::state::Scoped;

/// Starts the engine over `backend` with the rules in `rules` (hot-reloaded), logging every
/// notification and posting them to each webhook.
pub fn start(
    backend: &Arc<dyn Backend>,
    rules: PathBuf,
    webhooks: &[String],
) -> Result<EngineHandle, String> {
    let file = RulesFile::open(&rules).map_err(|e| format!("{}: {e}", rules.display()))?;
    let mut notifiers: Vec<Box<dyn Notifier>> = vec![Box::new(LogNotifier)];
    for url in webhooks {
        notifiers.push(Box::new(WebhookNotifier::new(WebhookConfig::new(
            url.clone(),
        ))));
    }
    let engine = Engine::new(
        file.rules().clone(),
        Box::new(StoreSource::new(backend.clone())),
        backend.alert_store().map_err(|e| e.to_string())?,
        notifiers,
    )?
    .with_rules_file(file);
    // Servers sharing a store elect one evaluator among them; a server alone leads at once.
    let lease = LeaseHandle::start(
        Lease::new(Lease::holder_for_this_process(), LeaseConfig::default()),
        backend.alert_store().map_err(|e| e.to_string())?,
    );
    Ok(engine.spawn_leased(None, lease))
}

/// Runs `f` with the engine on the blocking pool, within the handler budget; `None` when
/// alerting is not configured.
async fn with_engine<T: Send + 'static>(
    state: &crate::state::Scoped,
    f: impl FnOnce(&mut Engine) -> Result<T, String> + Send + 'static,
) -> Result<Option<T>, ApiError> {
    let Some(handle) = state.alerts().cloned() else {
        return Ok(None);
    };
    state
        .blocking("the alert engine", move || {
            f(&mut handle.engine()).map_err(ApiError::Internal)
        })
        .await
        .map(Some)
}

/// `(severity, title)` of firing alerts, for the health score: the local engine's, else what
/// the evaluating server stored.
pub async fn firing(state: &crate::state::Scoped) -> Result<Vec<(String, String)>, ApiError> {
    let active = match with_engine(state, |e| Ok(e.active())).await? {
        Some(active) => active,
        None => stored(
            state,
            HistoryFilter {
                limit: Some(0),
                ..HistoryFilter::default()
            },
        )
        .await
        .map(|s| s.active)
        .unwrap_or_default(),
    };
    Ok(active
        .into_iter()
        .filter(|a| a.state == pathwise_alerts::AlertState::Firing)
        .map(|a| (a.severity.as_str().to_string(), a.rule))
        .collect())
}

/// What another server's engine stored; `None` when the store keeps no alert state (or this
/// server may not open it, e.g. a read-only SQLite file).
async fn stored(
    state: &crate::state::Scoped,
    filter: HistoryFilter,
) -> Option<pathwise_alerts::StoredAlerts> {
    let now = pathwise_alerts::now_ns();
    state
        .read_alerts(move |store| {
            pathwise_alerts::read_stored(store, &filter, now).map_err(ApiError::Internal)
        })
        .await
        .ok()
}

/// `GET /api/alerts?rule=&since=&limit=`: every rule with its state, active alerts (each
/// marked silenced or not), recent history, silences in force and rule errors.
pub async fn list(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let filter = HistoryFilter {
        fingerprint: p.text("fingerprint", 64)?,
        rule: p.text("rule", 200)?,
        since_ns: p.time("since")?,
        limit: Some(p.limit(200, 5000)?),
        ..HistoryFilter::default()
    };
    let filter_again = filter.clone();
    // Asked before the engine: the lease answers from memory, without waiting on it.
    let evaluating = state.alerts().map(|h| (h.evaluating(), h.lease()));
    let answer = with_engine(&state, move |e| {
        let now = pathwise_alerts::now_ns();
        let (here, lease) = evaluating.unwrap_or((true, None));
        let active = e.active();
        let silences = e.silences(now)?;
        Ok(json!({
            "enabled": true,
            "evaluated_here": here,
            "evaluator": lease,
            "rules": pathwise_alerts::rule_states(&e.rules().rules, &active, &silences),
            "active": pathwise_alerts::listed_alerts(active, &silences),
            "history": e.history(&filter)?,
            "silences": silences,
            "rule_errors": e.rule_errors(),
        }))
    })
    .await?;
    if let Some(answer) = answer {
        return Ok(Json(answer));
    }
    // No engine here: show what the evaluating server (on the same store) recorded. Its rules
    // file is not read here, so no rule is listed.
    Ok(Json(match stored(&state, filter_again).await {
        Some(s) if !s.active.is_empty() || !s.history.is_empty() || !s.silences.is_empty() => {
            json!({
                "enabled": true,
                "evaluated_here": false,
                "rules": [],
                "active": pathwise_alerts::listed_alerts(s.active, &s.silences),
                "history": s.history,
                "silences": s.silences,
                "rule_errors": {},
            })
        }
        _ => {
            json!({ "enabled": false, "rules": [], "active": [], "history": [], "silences": [], "rule_errors": {} })
        }
    }))
}

fn require_engine(answer: Option<Value>) -> Result<Json<Value>, ApiError> {
    answer.map(Json).ok_or_else(|| {
        ApiError::NotFound("alerting is not configured (serve --alerts FILE)".into())
    })
}

/// `POST /api/alerts/{fingerprint}/ack?by=NAME`.
pub async fn acknowledge(
    state: Shared,
    Path(fingerprint): Path<String>,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let by = p.text("by", 100)?.unwrap_or_else(|| "api".into());
    if fingerprint.len() > 64 || !fingerprint.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::bad("fingerprint", "not an alert fingerprint"));
    }
    let fp = fingerprint.clone();
    let done = with_engine(&state, move |e| e.acknowledge(&fp, &by)).await?;
    match done {
        Some(false) => Err(ApiError::NotFound(format!("no active alert {fingerprint}"))),
        other => require_engine(other.map(|_| json!({ "acknowledged": fingerprint }))),
    }
}

/// `POST /api/silences?rule=NAME|fingerprint=FP&for=2h&comment=…`: mutes until then.
pub async fn silence(state: Shared, p: Params) -> Result<Json<Value>, ApiError> {
    let matcher = match (p.text("rule", 200)?, p.text("fingerprint", 64)?) {
        (Some(rule), None) => Matcher::Rule(rule),
        (None, Some(fp)) => Matcher::Fingerprint(fp),
        _ => {
            return Err(ApiError::bad(
                "rule",
                "give exactly one of rule or fingerprint",
            ));
        }
    };
    let length = p
        .age("for")?
        .ok_or_else(|| ApiError::bad("for", "required, e.g. 2h"))?;
    let comment = p.text("comment", 500)?.unwrap_or_default();
    let until = pathwise_alerts::now_ns().saturating_add(length);
    let id = with_engine(&state, move |e| e.silence(matcher, until, &comment)).await?;
    require_engine(id.map(|id| json!({ "silence": id, "until_ns": until })))
}

/// `POST /api/silences/{id}/end`: ends a silence now; 404 when none with that id is in force
/// (unknown, or already ended or expired).
pub async fn end_silence(state: Shared, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad("id", "not a silence id (an integer)"))?;
    let ended = with_engine(&state, move |e| e.unsilence(id)).await?;
    match ended {
        Some(false) => Err(ApiError::NotFound(format!("no silence {id} in force"))),
        other => require_engine(other.map(|_| json!({ "ended": id }))),
    }
}
