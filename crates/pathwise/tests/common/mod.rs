//! Fixtures shared by the SDK's integration tests.
#![allow(dead_code)]

use pathwise_model::{Record, TraceEvent};

#[allow(unused_imports)] // each test binary uses some of them
pub use pathwise::testing::{one, spans};

/// Trace-start events among `records`.
pub fn trace_starts(records: &[Record]) -> usize {
    records
        .iter()
        .filter(|r| matches!(r, Record::Trace(TraceEvent::Started { .. })))
        .count()
}

/// A fresh database path in a temp dir that lives as long as the returned guard.
pub fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("pathwise.db");
    (dir, db)
}

/// A multi-threaded runtime with `workers` threads, so that polls move between threads.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
