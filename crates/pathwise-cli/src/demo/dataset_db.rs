//! The demo's simulated databases, as the Queries page sees them: each search-cache lookup and
//! store is a query of the local cache (`db.sqlite`), each dataset lookup and hit count one of
//! the dataset database (`db.postgresql`), timed with `pathwise::db_query` over the simulated
//! latency, with the rows they return or change.
//!
//! The statements are data, in `dataset_db.sql`: `scripts/check-seams` keeps SQL text out of
//! the Rust sources outside the store crates (none of these runs against a store: they only
//! name the simulated work), and applications typically write values into the text, which is
//! what the normaliser has to take back out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::sleep;

use super::plan::SourcePlan;
use super::search::Dataset;

/// The statements, each after a `-- name:` line.
const STATEMENTS: &str = include_str!("dataset_db.sql");
/// The search cache's database.
const CACHE_SYSTEM: &str = "sqlite";
/// The dataset database.
const DATASET_SYSTEM: &str = "postgresql";
/// Rows a dataset lookup asks for.
const SEARCH_LIMIT: i64 = 50;
/// How long a cached answer stays.
const CACHE_TTL_S: i64 = 3600;
/// One hit-counter update in this many loses a deadlock (decided by the plan's latency, so
/// the same seed fails the same ones).
const DEADLOCK_ONE_IN: u32 = 20;

/// A statement of `dataset_db.sql`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Statement {
    CacheLookup,
    CacheStore,
    DatasetSearch,
    HitCounter,
}

impl Statement {
    fn name(self) -> &'static str {
        match self {
            Statement::CacheLookup => "cache_lookup",
            Statement::CacheStore => "cache_store",
            Statement::DatasetSearch => "dataset_search",
            Statement::HitCounter => "hit_counter",
        }
    }

    /// The line after this statement's `-- name:` line.
    fn template(self) -> &'static str {
        let mut lines = STATEMENTS.lines();
        while let Some(line) = lines.next() {
            if line.strip_prefix("-- name: ") == Some(self.name()) {
                return lines.next().unwrap_or_default();
            }
        }
        ""
    }
}

/// A value written into a statement.
#[derive(Clone, Debug)]
enum Value<'a> {
    Text(&'a str),
    Int(i64),
    List(Vec<Value<'a>>),
}

fn write_value(out: &mut String, value: &Value<'_>) {
    match value {
        Value::Text(text) => {
            out.push('\'');
            out.push_str(&text.replace('\'', "''"));
            out.push('\'');
        }
        Value::Int(n) => out.push_str(&n.to_string()),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
        }
    }
}

/// `which` with each `{name}` replaced by its value (an unknown name stays as written).
fn render(which: Statement, values: &[(&str, Value<'_>)]) -> String {
    let mut out = String::new();
    let mut rest = which.template();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        match values.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => write_value(&mut out, value),
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Looks `key` up in `source`'s cache, taking `latency`; `found` says whether it was there.
pub async fn cache_lookup(
    source: &str,
    key: &str,
    latency: Duration,
    found: impl FnOnce() -> Option<Vec<Dataset>>,
) -> Option<Vec<Dataset>> {
    let statement = render(
        Statement::CacheLookup,
        &[
            ("source", Value::Text(source)),
            ("key", Value::Text(key)),
            ("now", Value::Int(now_s())),
        ],
    );
    let mut query = pathwise::db_query(CACHE_SYSTEM, &statement);
    sleep(latency).await;
    let found = found();
    query.set_rows(u64::from(found.is_some()));
    found
}

/// Keeps what the dataset database found for `key` in `source`'s cache.
pub async fn cache_store(source: &str, key: &str, rows: &[Dataset], plan: &SourcePlan) {
    let payload = rows
        .iter()
        .map(|d| d.accession.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let statement = render(
        Statement::CacheStore,
        &[
            ("source", Value::Text(source)),
            ("key", Value::Text(key)),
            ("payload", Value::Text(&payload)),
            ("expires", Value::Int(now_s() + CACHE_TTL_S)),
        ],
    );
    let query = pathwise::db_query(CACHE_SYSTEM, &statement);
    sleep(plan.cache_latency / 2).await;
    query.rows(1).end();
}

/// Searches the dataset database for `text` in `source`, taking the plan's database latency;
/// `found` gives the rows.
pub async fn dataset_search(
    source: &str,
    text: &str,
    plan: &SourcePlan,
    found: impl FnOnce() -> Vec<Dataset>,
) -> Vec<Dataset> {
    let statement = render(
        Statement::DatasetSearch,
        &[
            ("source", Value::Text(source)),
            ("query", Value::Text(text)),
            ("limit", Value::Int(SEARCH_LIMIT)),
        ],
    );
    let mut query = pathwise::db_query(DATASET_SYSTEM, &statement);
    sleep(plan.db_latency).await;
    let rows = found();
    query.set_rows(rows.len() as u64);
    rows
}

/// Counts a hit on each dataset found; now and then the update loses a deadlock, which only
/// costs the count (the search goes on).
pub async fn count_hits(rows: &[Dataset], plan: &SourcePlan) {
    let accessions: Vec<Value<'_>> = rows
        .iter()
        .map(|d| Value::Text(d.accession.as_str()))
        .collect();
    let statement = render(
        Statement::HitCounter,
        &[
            ("now", Value::Int(now_s())),
            ("accessions", Value::List(accessions)),
        ],
    );
    let mut query = pathwise::db_query(DATASET_SYSTEM, &statement);
    sleep(plan.db_latency / 4).await;
    let deadlocked = plan
        .db_latency
        .subsec_nanos()
        .is_multiple_of(DEADLOCK_ONE_IN);
    if deadlocked {
        query.fail(
            "DeadlockDetected",
            "deadlock detected: process waited for ShareLock on transaction",
        );
    } else {
        query.set_rows(rows.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_is_in_the_file_and_takes_all_its_values() {
        for which in [
            Statement::CacheLookup,
            Statement::CacheStore,
            Statement::DatasetSearch,
            Statement::HitCounter,
        ] {
            assert!(!which.template().is_empty(), "{which:?}");
        }
        let filled = render(
            Statement::HitCounter,
            &[
                ("now", Value::Int(7)),
                (
                    "accessions",
                    Value::List(vec![Value::Text("GSE1"), Value::Text("it's")]),
                ),
            ],
        );
        assert!(filled.contains("= 7 "), "{filled}");
        assert!(filled.contains("('GSE1', 'it''s')"), "{filled}");
        assert!(!filled.contains('{'), "{filled}");
        let normalized = pathwise::db::normalize_statement(DATASET_SYSTEM, &filled);
        assert!(normalized.ends_with("IN (?)"), "{normalized}");
    }
}
