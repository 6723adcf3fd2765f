//! API keys end to end: `pathwise keys` makes and revokes them, a real `pathwise serve` asks
//! each request for the scope it needs, and key use is visible.

mod remote_support;

use std::time::Duration;

use remote_support::{TOKEN, free_port, http, pathwise, start_server, stop};

/// An empty but well-formed OTLP/JSON export.
const EMPTY_EXPORT: &[u8] = br#"{"resourceSpans":[]}"#;

#[test]
fn scoped_keys_guard_ingest_reading_and_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    drop(pathwise_store_sqlite::SqliteBackend::create(&db).unwrap());
    let db_arg = db.to_str().unwrap();
    let created = pathwise(&[
        "keys", "create", "--name", "checkout", "--scope", "ingest", "--db", db_arg,
    ]);
    let ingest_key = created.lines().next().unwrap().to_string();
    assert!(ingest_key.starts_with("pwk_"), "{created}");
    let reader_key = pathwise(&[
        "keys", "create", "--name", "grafana", "--scope", "read", "--db", db_arg,
    ])
    .lines()
    .next()
    .unwrap()
    .to_string();
    let port = free_port();
    let server = start_server(&db, port);
    let bearer = |key: &str| format!("Bearer {key}");
    let post_export = |auth: Option<String>| {
        let mut headers = vec![("content-type", "application/json".to_string())];
        if let Some(a) = auth {
            headers.push(("authorization", a));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        http(port, "POST", "/v1/traces", &headers, EMPTY_EXPORT)
    };
    assert_eq!(post_export(Some(bearer(&ingest_key))).0, 200);
    // The scheme is case-insensitive.
    assert_eq!(post_export(Some(format!("bearer {ingest_key}"))).0, 200);
    let (code, head, _) = post_export(Some(bearer(&reader_key)));
    assert_eq!(code, 401);
    assert!(
        head.to_ascii_lowercase()
            .contains("www-authenticate: bearer realm=\"pathwise\", scope=\"ingest\""),
        "{head}"
    );
    assert_eq!(post_export(None).0, 401);
    assert_eq!(
        post_export(Some(bearer(TOKEN))).0,
        200,
        "the token is the admin key"
    );
    // A longer secret is always a wrong one (replacing the last digit may keep it).
    let wrong = format!("{ingest_key}0");
    assert_eq!(post_export(Some(bearer(&wrong))).0, 401);

    let get = |key: &str| {
        http(
            port,
            "GET",
            "/api/traces?limit=1",
            &[("authorization", &bearer(key))],
            b"",
        )
        .0
    };
    assert_eq!(get(&reader_key), 200);
    assert_eq!(get(&ingest_key), 401);
    let silence = |key: &str| {
        http(
            port,
            "POST",
            "/api/silences?rule=slow&for=1h",
            &[("authorization", &bearer(key))],
            b"",
        )
        .0
    };
    assert_eq!(silence(&reader_key), 401, "changing needs admin");
    assert_ne!(
        silence(TOKEN),
        401,
        "the token may (this server has no alert engine: 404)"
    );

    // Use is counted and flushed within the refresh period.
    std::thread::sleep(pathwise_server::keys::REFRESH + Duration::from_secs(1));
    let listed: serde_json::Value =
        serde_json::from_str(&pathwise(&["keys", "list", "--json", "--db", db_arg])).unwrap();
    let checkout = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "checkout")
        .unwrap();
    assert_eq!(checkout["uses"], 3, "{listed}");
    assert!(checkout["last_used_ns"].as_i64().is_some());
    assert!(!pathwise(&["keys", "list", "--db", db_arg]).contains("never used"));

    let id = checkout["id"].as_str().unwrap();
    pathwise(&["keys", "revoke", id, "--db", db_arg]);
    std::thread::sleep(pathwise_server::keys::REFRESH + Duration::from_secs(1));
    assert_eq!(
        post_export(Some(bearer(&ingest_key))).0,
        401,
        "revoked keys stop working"
    );
    stop(server);
}
