//! Performance monitoring (snapshot, health, regressions, baselines, trends, resources) and
//! alerting.

use serde_json::{Value, json};

use super::schemas::{list, nullable, object, refer};
use super::{age, answers, get, int, limit, param, post, text, time};

/// `at`, `recent_s` and `baseline_h`: the instant and the monitor settings a request may set.
fn settings() -> Vec<Value> {
    vec![
        time("at"),
        int(
            "recent_s",
            10,
            86_400,
            Some(60),
            "recent window compared with the baseline, seconds",
        ),
        int(
            "baseline_h",
            1,
            2_160,
            Some(24),
            "history a baseline is learned from, hours",
        ),
    ]
}

fn names() -> Value {
    list(json!({ "type": "string" }))
}

fn operation() -> Value {
    json!({ "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } })
}

/// The monitoring routes.
pub(super) fn paths() -> Value {
    let generated = || json!({ "type": "integer" });
    json!({
        "/api/snapshot": get("point-in-time monitoring state: operations (baselines, recent figures, latency/error-rate/throughput shifts, p95 trend), health per component and overall, regressions",
            settings(), answers("the snapshot", object(json!({
                "generated_ns": generated(), "overall": refer("Health"), "components": list(refer("Component")),
                "operations": list(operation()), "regressions": names(), "improvements": names() })), &[])),
        "/api/health": get("health score 0–100 overall and per component (span group), with the reasons that cost points",
            settings(), answers("the scores", object(json!({
                "generated_ns": generated(), "overall": refer("Health"), "components": list(refer("Component")) })), &[])),
        "/api/regressions": get("operations whose latency (Mann–Whitney), error rate or throughput shifted against their baseline",
            settings(), answers("the shifts", object(json!({
                "generated_ns": generated(), "regressions": names(), "improvements": names(), "shifts": list(operation()) })), &[])),
        "/api/baselines": get("the baseline in force per operation (stored, pinned or learned) or its learning progress",
            settings(), answers("the baselines", object(json!({
                "generated_ns": generated(), "baselines": list(object(json!({
                    "name": { "type": "string" }, "baseline": {}, "source": { "type": "string" }, "learning": {}, "recent": { "type": "object" } }))) })), &[])),
        "/api/trends": get("p95 latency slope per operation (ms per hour) over the last hour, or why there is none (`outlook.status`: not_enough_data, stale)",
            settings(), answers("the slopes", object(json!({
                "generated_ns": generated(), "latency": list(json!({ "type": "object", "required": ["name", "outlook"], "properties": {
                    "name": { "type": "string" }, "p95_ms_per_hour": { "type": "number" },
                    "r_squared": { "type": "number" }, "points": { "type": "integer" },
                    "outlook": outlook() } })) })), &[])),
        "/api/resources": get("process and host resource samples (thinned to `limit`) and the RSS trend: slope, 1-hour forecast, time until the limit",
            vec![time("since"), time("until"), limit(600, 10_000, "points returned"),
                int("rss_limit_mb", 1, 1 << 30, None, "RSS limit for the forecast; default the host's memory")],
            answers("the samples", object(json!({
                "samples": list(json!({ "type": "object", "required": ["ts_ns", "process", "host"], "properties": {
                    "ts_ns": { "type": "integer" }, "process": { "type": "object" }, "host": { "type": "object" } } })),
                "total": { "type": "integer" },
                "rss_trend": { "oneOf": [ { "type": "null" }, object(json!({
                    "slope_bytes_per_hour": { "type": "number" }, "r_squared": { "type": "number" },
                    "forecast_bytes_in_1h": { "type": "number" }, "limit_bytes": nullable("number"),
                    "time_to_limit_s": nullable("number"), "description": { "type": "string" } })) ] } })), &[])),
    })
}

/// A fingerprint: what the engine makes (hex) within the bounds the server checks.
fn fingerprint(location: &str, required: bool) -> Value {
    param(
        "fingerprint",
        location,
        required,
        json!({ "type": "string", "pattern": "^[0-9A-Za-z]{1,64}$" }),
        "alert fingerprint",
    )
}

/// The alerting routes. `404` from ack and silences also means alerting is off (no rules file).
pub(super) fn alerts() -> Value {
    let ack = answers(
        "acknowledged",
        object(json!({ "acknowledged": { "type": "string" } })),
        &["404", "413"],
    );
    let silence = answers(
        "the silence",
        object(json!({ "silence": { "type": "integer" }, "until_ns": { "type": "integer" } })),
        &["404", "413"],
    );
    let ended = answers(
        "the silence ended",
        object(json!({ "ended": { "type": "integer" } })),
        &["404", "413"],
    );
    json!({
        "/api/alerts": get("every rule in force with its state (ok, pending, firing, silenced), active alerts, history (newest first), silences in force and rule errors; `enabled: false` without a rules file", vec![
                text("rule", 200, "history of one rule"),
                text("fingerprint", 64, "history of one alert"),
                time("since"),
                limit(200, 5000, "history rows")],
            answers("the alerts", alert_list(), &[])),
        "/api/alerts/{fingerprint}/ack": post("acknowledge an active alert (stops repeats; recorded in history)", vec![
                fingerprint("path", true), text("by", 100, "who acknowledges"), same_site()], ack),
        "/api/silences": post("mute a rule or one alert for a while: give exactly one of rule and fingerprint", vec![
                text("rule", 200, "rule name"),
                text("fingerprint", 64, "alert fingerprint"),
                age("for", true, "how long, e.g. 2h"),
                text("comment", 500, "why"), same_site()], silence),
        "/api/silences/{id}/end": post("end a silence now (it stays in the record, ending now); 404 when no silence with that id is in force", vec![
                param("id", "path", true, json!({ "type": "integer", "format": "int64" }), "silence id, as `POST /api/silences` and `GET /api/alerts` give it"),
                same_site()], ended),
    })
}

/// `GET /api/alerts`: with a rules file also whether this server evaluates, and where it
/// stands in the election among servers sharing the store.
fn alert_list() -> Value {
    let mut schema = object(json!({
        "enabled": { "type": "boolean" }, "rules": list(rule_status()),
        "active": list(refer("Alert")), "history": list(refer("HistoryRow")),
        "silences": list(refer("Silence")), "rule_errors": { "type": "object", "additionalProperties": { "type": "string" } } }));
    schema["properties"]["evaluated_here"] = json!({ "type": "boolean",
        "description": "this server's engine evaluates the rules (false: another server on the store does)" });
    schema["properties"]["evaluator"] = json!({ "oneOf": [{ "type": "null" }, object(json!({
        "holder": { "type": "string", "description": "this engine: start time, host, process id" },
        "leader": { "type": ["string", "null"], "description": "the engine that evaluates, as last seen" },
        "evaluating": { "type": "boolean" },
        "error": { "type": ["string", "null"], "description": "why the last heartbeat failed" } }))] });
    schema
}

/// One rule of `GET /api/alerts`: what the rules file says and where it stands. Empty on a
/// server that shows what another server's engine stored (it does not read the rules file).
fn rule_status() -> Value {
    let string = || json!({ "type": "string" });
    let number = || json!({ "type": "number" });
    object(json!({
        "name": string(),
        "severity": { "enum": ["info", "warning", "error", "critical", "emergency"] },
        "kind": { "enum": ["threshold", "baseline", "sql"] },
        "signal": { "type": ["string", "null"], "description": "what a threshold rule measures (p95_ms, error_rate, …)" },
        "trigger": { "type": ["string", "null"], "description": "what a baseline rule reacts to" },
        "scope": { "type": ["string", "null"], "description": "node, component or overall (threshold and baseline rules)" },
        "op": { "enum": [">", ">=", "<", "<="] },
        "threshold": number(), "recovery": number(),
        "unit": { "enum": ["ms", "ratio", "percent", "count", "per_second", "bytes", "score", "number"],
            "description": "the unit of threshold, recovery and value: ratio is 0..1, percent 0..100 (CPU: per core), number has none (SQL rules)" },
        "for_s": number(),
        "window_s": { "type": ["number", "null"], "description": "the window a threshold rule measures over, seconds" },
        "condition": { "type": "string", "description": "the condition in words, as notifications show it" },
        "state": { "enum": ["ok", "pending", "firing", "silenced"],
            "description": "silenced when a silence in force names the rule or one of its active alerts; else firing or pending from its active alerts; else ok" },
        "alert_state": { "oneOf": [{ "type": "null" }, { "enum": ["pending", "firing"] }],
            "description": "the state of the rule's active alert, also when silenced" },
        "value": { "type": ["number", "null"], "description": "the value its active alert last measured" },
        "silenced_by": list(json!({ "type": "integer" })),
    }))
}

/// Whether a series may be forecast: `status` is `forecast`, `not_enough_data` or `stale`,
/// with the reason in words.
fn outlook() -> Value {
    json!({ "type": "object", "required": ["status"], "properties": {
        "status": { "type": "string" }, "reason": { "type": "string" } } })
}

/// The header that marks a state-changing call as the dashboard's (or a script's), not a
/// forged cross-site form: needed unless the call has a bearer token or a JSON body.
fn same_site() -> Value {
    json!({ "name": "X-Pathwise-Request", "in": "header", "required": false,
        "schema": { "type": "string" },
        "description": "any value (the dashboard sends 1): its presence is what counts; needed unless the request carries a bearer token or a JSON content type (else 403)" })
}
