//! Fixtures shared by the monitoring tests: a seeded latency generator and a writer of
//! root spans into a real SQLite store.

#![allow(dead_code)] // each test binary uses part of it

use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceId};
use pathwise_store::{PathList, Store, WriteBatch};
use pathwise_store_sqlite::SqliteStore;

/// Lognormal-ish latency from a seeded generator (xorshift, Box–Muller).
pub struct Rng(pub u64);

impl Rng {
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn lognormal(&mut self, median_ms: f64, sigma: f64) -> f64 {
        let z = (-2.0 * self.unit().ln()).sqrt() * (2.0 * std::f64::consts::PI * self.unit()).cos();
        median_ms * (sigma * z).exp()
    }
}

/// One root call: when it started (Unix ms), its operation (root path number and name, group),
/// its duration and whether it failed.
pub struct Call {
    pub at_ms: u64,
    pub path: u32,
    pub name: &'static str,
    pub group: &'static str,
    pub ms: f64,
    pub failed: bool,
}

/// Writes `calls` as one-span traces, in batches; `paths` names the root paths used.
pub fn write_calls(
    store: &mut SqliteStore,
    paths: &PathList,
    calls: impl IntoIterator<Item = Call>,
) {
    let mut batch = Vec::new();
    let flush = |store: &mut SqliteStore, batch: &mut Vec<Record>| {
        store
            .write_batch(
                &WriteBatch {
                    records: batch,
                    ..WriteBatch::EMPTY
                },
                paths,
            )
            .unwrap();
        batch.clear();
    };
    for (i, call) in calls.into_iter().enumerate() {
        let mut span = SpanRecord::new(
            TraceId::from_parts(call.at_ms, i as u128 + 1),
            1,
            0,
            call.name.into(),
            SpanKind::Function,
        );
        span.path = call.path;
        span.group = Some(call.group.into());
        span.start_ns = call.at_ms as i64 * 1_000_000;
        span.duration_ns = (call.ms * 1e6) as u64;
        if call.failed {
            span.status = Status::Error;
        }
        batch.push(Record::Span(span));
        if batch.len() >= 20_000 {
            flush(store, &mut batch);
        }
    }
    flush(store, &mut batch);
}
