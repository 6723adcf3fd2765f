//! Privacy through the whole path: values recorded by the SDK with hashing configured reach
//! the SQLite file only as keyed hashes, and the hashes still group in error patterns exactly
//! as the values would have.

use std::time::Duration;

use pathwise::{Config, Privacy};
use pathwise_analysis::{Window, error_patterns};
use pathwise_store::ReadStore;
use pathwise_store_sqlite::SqliteReader;
use serde::Serialize;

#[derive(Serialize)]
struct Payment {
    email: String,
    card_number: String,
    amount_cents: u64,
}

#[derive(Debug)]
struct Declined;
impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("declined")
    }
}
impl std::error::Error for Declined {}

#[pathwise::monitor(group = "billing")]
fn charge(payment: &Payment, fail: bool) -> Result<u64, Declined> {
    pathwise::current_span().set_attr("user.email", payment.email.clone());
    if fail {
        Err(Declined)
    } else {
        Ok(payment.amount_cents)
    }
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn hashed_values_never_reach_the_file_and_still_group_in_error_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pathwise.db");
    let privacy = Privacy {
        hash: vec!["user.email".into(), "email".into()],
        drop: vec!["card_number".into()],
        key: Some("a key shared by every process recording into this store".into()),
    };
    let recording = pathwise::init(Config {
        db_path: db.clone(),
        data_dir: Some(dir.path().join("spool")),
        resource_interval: None,
        privacy: Some(privacy),
        ..Config::default()
    })
    .unwrap();
    // alice: 10 payments, 8 declined; bob: 20 payments, 1 declined.
    let people = [("alice@example.com", 10, 8), ("bob@example.com", 20, 1)];
    for (email, payments, declined) in people {
        for i in 0..payments {
            let payment = Payment {
                email: email.into(),
                card_number: "4111111111111111".into(),
                amount_cents: 1_000 + i,
            };
            let _ = charge(&payment, i < declined);
        }
    }
    assert!(recording.flush(Duration::from_secs(10)));
    drop(recording);

    let reader = SqliteReader::open(&db).unwrap();
    let patterns = error_patterns(&reader, Window::all(), "user.email").unwrap();
    let groups: Vec<(i64, i64)> = patterns
        .values
        .iter()
        .map(|v| (v.spans, v.errors))
        .collect();
    assert_eq!(
        groups,
        vec![(20, 1), (10, 8)],
        "one group per person, as with the raw values"
    );
    assert!(patterns.values[1].flagged, "alice's declines stand out");
    for value in &patterns.values {
        assert!(value.value.starts_with("hmac:"), "{}", value.value);
    }
    assert_ne!(patterns.values[0].value, patterns.values[1].value);

    // The captured argument: the e-mail hashed to the same value as the attribute, the card
    // number dropped, the amount kept.
    let traces = reader
        .list_traces(&pathwise_store::TraceFilter::default())
        .unwrap();
    let spans = reader.spans(traces.traces[0].trace_id, None, 10).unwrap();
    let input = spans[0].input.as_ref().unwrap();
    let payment = &input["payment"];
    let attr_hash = spans[0].attrs.as_ref().unwrap()["user.email"].clone();
    assert_eq!(payment["email"], attr_hash, "{input}");
    assert_eq!(payment["card_number"], "[dropped]", "{input}");
    assert!(payment["amount_cents"].is_u64(), "{input}");

    // No file written anywhere (the database, its log, the spool) holds a raw value.
    for file in files_under(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [&b"example.com"[..], &b"4111111111111111"[..]] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "{file:?} holds {:?}",
                String::from_utf8_lossy(secret)
            );
        }
    }
}
