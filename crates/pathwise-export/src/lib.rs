//! Where the recording pipeline's writer sends records, besides the local store.
//!
//! The writer's sink is [`pathwise_store::Store`]; these implement it:
//! - [`RemoteStore`]: a Pathwise server, natively (versioned record frames, acknowledged after
//!   the server commits).
//! - [`OtlpStore`]: any OpenTelemetry collector, Jaeger, Tempo or Phoenix (OTLP/HTTP protobuf).
//! - [`TeeStore`]: two sinks at once (say, the local SQLite file and a server).
//!
//! All block on plain HTTP (TLS with the `tls` feature) on the writer thread: no async runtime
//! enters the host application. When a sink is down, the writer keeps the records on disk and
//! sends them again in order, so nothing is lost.
//!
//! ```
//! use pathwise_export::TeeStore;
//! use pathwise_store::{MemoryStore, NoPaths, Store, WriteBatch};
//! let (a, b) = (MemoryStore::default(), MemoryStore::default());
//! let mut tee = TeeStore::new(Box::new(a.clone()), Box::new(b.clone()));
//! tee.write_batch(&WriteBatch::EMPTY, &NoPaths).unwrap();
//! ```

mod http;
mod otlp;
mod remote;

pub use otlp::{OtlpStore, to_otlp};
pub use remote::{RemoteStore, encode_frames};

use pathwise_store::{BaselineRow, FunctionInfo, PathDictionary, Store, StoreError, WriteBatch};

/// Records per request: well inside a receiver's limits (Pathwise: 50,000 spans and 16 MiB per
/// request; a span with captured arguments is a few hundred bytes to a few KiB).
const RECORDS_PER_REQUEST: usize = 2_000;

/// A writer round cut into request-sized pieces.
fn chunks(records: &[pathwise_model::Record]) -> std::slice::Chunks<'_, pathwise_model::Record> {
    records.chunks(RECORDS_PER_REQUEST)
}

/// Writes every batch to two sinks. A batch counts as written only when both took it; when
/// one fails the writer sends it again to both, which stores absorb (one copy per span id).
pub struct TeeStore {
    first: Box<dyn Store>,
    second: Box<dyn Store>,
}

impl TeeStore {
    /// Sends to `first`, then to `second`.
    pub fn new(first: Box<dyn Store>, second: Box<dyn Store>) -> Self {
        TeeStore { first, second }
    }
}

impl Store for TeeStore {
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        let first = self.first.write_batch(batch, paths);
        let second = self.second.write_batch(batch, paths);
        first.and(second)
    }

    fn register_functions(&mut self, functions: &[FunctionInfo]) -> Result<(), StoreError> {
        let first = self.first.register_functions(functions);
        let second = self.second.register_functions(functions);
        first.and(second)
    }

    fn delete_before(&mut self, cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        let first = self.first.delete_before(cutoff_unix_ms)?;
        Ok(first + self.second.delete_before(cutoff_unix_ms)?)
    }

    /// Baselines live in the first sink (the local store).
    fn save_baseline(&mut self, baseline: &BaselineRow) -> Result<i64, StoreError> {
        self.first.save_baseline(baseline)
    }

    fn pin_baseline(&mut self, name: &str, pinned: bool) -> Result<Option<i64>, StoreError> {
        self.first.pin_baseline(name, pinned)
    }
}

#[cfg(test)]
mod tests {
    use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};

    #[test]
    fn rounds_go_out_in_request_sized_pieces() {
        let span = Record::Span(SpanRecord::new(
            TraceId(1),
            1,
            0,
            "s".into(),
            SpanKind::Span,
        ));
        let round = vec![span; 2 * super::RECORDS_PER_REQUEST + 1];
        let sizes: Vec<usize> = super::chunks(&round).map(<[Record]>::len).collect();
        assert_eq!(
            sizes,
            vec![super::RECORDS_PER_REQUEST, super::RECORDS_PER_REQUEST, 1]
        );
        assert_eq!(super::chunks(&[]).count(), 0);
    }
}
