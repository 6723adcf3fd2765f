//! Remote ingest: OpenTelemetry OTLP/HTTP trace exports become Pathwise spans, recorded
//! through the same never-drop pipeline as the SDK's own.
//!
//! ```text
//! POST /v1/traces ─► wire (gzip, protobuf | JSON) ─► map (span → SpanRecord)
//!                 ─► assemble (paths from parent chains, across requests) ─► SpanSink (pipeline)
//! ```
//!
//! The server owns the HTTP side; this crate owns everything after the body is read, so it can
//! be tested (and fuzzed) without a socket.
//!
//! ```
//! use pathwise_ingest::{Ingest, IngestConfig, MemorySink};
//! let sink = MemorySink::default();
//! let ingest = Ingest::with_sink(IngestConfig::default(), Box::new(sink.clone()));
//! let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"search"}}]},
//!   "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
//!   "name":"GET /search","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000"}]}]}]}"#;
//! let reply = ingest.export_traces(body, Some("application/json"), None).unwrap();
//! assert_eq!((reply.accepted, reply.rejected), (1, 0));
//! assert_eq!(sink.spans()[0].group.as_deref(), Some("search"));
//! ```

mod assemble;
mod llm;
mod map;
mod native;
mod route;
pub mod testing;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pathwise_model::{Record, SpanRecord};
use pathwise_pipeline::SubmitError;

pub use assemble::AssemblyConfig;
pub use native::{FRAMES_CONTENT_TYPE, FramesReply};
pub use route::{Decoded, Outcome};
pub use wire::Encoding;

/// Size limits on what one request may carry. A request beyond a body limit is refused as a
/// whole (`413`); a span beyond a per-span limit is rejected alone and counted in the reply's
/// partial success, so the rest of its batch is kept.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Request body as sent (compressed).
    pub max_body_bytes: usize,
    /// Request body after gzip.
    pub max_decoded_bytes: usize,
    /// Spans in one request.
    pub max_spans: usize,
    /// Span and attribute names.
    pub max_name_bytes: usize,
    /// One attribute's value.
    pub max_attribute_bytes: usize,
    /// Attributes on one span.
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 << 20,
            max_decoded_bytes: 64 << 20,
            max_spans: 50_000,
            max_name_bytes: 1024,
            max_attribute_bytes: 1 << 20,
            max_attributes: 512,
        }
    }
}

/// Limits, assembly and acknowledgement.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    pub limits: Limits,
    pub assembly: AssemblyConfig,
    /// A request is answered once its spans are committed to the store, or after this long
    /// with them still queued or spilled (they are then in the pipeline, which never drops).
    pub ack_timeout: Duration,
    /// Where native bodies of a newer record format are kept for a newer build (the server's
    /// spool); without one they are refused with `503`, so the sender keeps them.
    pub set_aside_dir: Option<std::path::PathBuf>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            limits: Limits::default(),
            assembly: AssemblyConfig::default(),
            ack_timeout: Duration::from_secs(2),
            set_aside_dir: None,
        }
    }
}

/// Why a request was refused as a whole. Each maps to the OTLP/HTTP status a client expects.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    TooLarge(String),
    /// The pipeline cannot take the spans now; the client should retry later.
    #[error("{0}")]
    Unavailable(String),
}

impl IngestError {
    /// The HTTP status: 415, 400, 413 or 503 (retryable, with `Retry-After`).
    pub fn status(&self) -> u16 {
        match self {
            IngestError::UnsupportedMediaType(_) => 415,
            IngestError::Malformed(_) => 400,
            IngestError::TooLarge(_) => 413,
            IngestError::Unavailable(_) => 503,
        }
    }
}

/// Where assembled spans go: the pipeline in a server, a [`MemorySink`] in tests.
pub trait SpanSink: Send + Sync {
    /// Takes the records or hands back why not (nothing is kept on error).
    fn submit(&self, records: Vec<Record>) -> Result<(), SubmitError>;
    /// Waits until what was submitted is committed; `false` on timeout.
    fn wait_committed(&self, timeout: Duration) -> bool;
}

/// The process's recording pipeline (`pathwise_pipeline::install`).
pub struct PipelineSink;

impl SpanSink for PipelineSink {
    fn submit(&self, records: Vec<Record>) -> Result<(), SubmitError> {
        pathwise_pipeline::submit_batch(records)
    }
    fn wait_committed(&self, timeout: Duration) -> bool {
        pathwise_pipeline::flush_committed(timeout)
    }
}

/// A pipeline of the ingest's own (one per project in a server with several).
impl SpanSink for Arc<pathwise_pipeline::BatchPipeline> {
    fn submit(&self, records: Vec<Record>) -> Result<(), SubmitError> {
        self.submit_batch(records)
    }
    fn wait_committed(&self, timeout: Duration) -> bool {
        self.flush_committed(timeout)
    }
}

/// Keeps records in memory (tests, examples).
#[derive(Clone, Default)]
pub struct MemorySink(Arc<Mutex<Vec<Record>>>);

impl MemorySink {
    /// The spans submitted so far, in order.
    pub fn spans(&self) -> Vec<SpanRecord> {
        self.0
            .lock()
            .iter()
            .filter_map(|r| match r {
                Record::Span(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }
}

impl SpanSink for MemorySink {
    fn submit(&self, records: Vec<Record>) -> Result<(), SubmitError> {
        self.0.lock().extend(records);
        Ok(())
    }
    fn wait_committed(&self, _: Duration) -> bool {
        true
    }
}

/// What a request achieved, and the body to answer it with.
#[derive(Debug)]
pub struct Reply {
    pub accepted: u64,
    pub rejected: u64,
    /// The response message in the request's encoding.
    pub body: Vec<u8>,
    pub content_type: &'static str,
}

/// Counters for `/metrics` and the pipeline page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestStats {
    pub requests: u64,
    pub refused_requests: u64,
    pub accepted_spans: u64,
    pub rejected_spans: u64,
    /// Spans rooted because their parent never arrived.
    pub orphans: u64,
    /// Spans waiting for their parent right now.
    pub held_spans: u64,
}

/// One ingest endpoint's state.
pub struct Ingest {
    config: IngestConfig,
    assembler: Mutex<assemble::Assembler>,
    /// Spans assembled by a sweep whose submission failed; sent first next time.
    unsent: Mutex<Vec<Record>>,
    sink: Box<dyn SpanSink>,
    requests: AtomicU64,
    refused: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
}

impl Ingest {
    /// Ingest into this process's recording pipeline.
    pub fn new(config: IngestConfig) -> Self {
        Self::with_sink(config, Box::new(PipelineSink))
    }

    /// Ingest into any sink.
    pub fn with_sink(config: IngestConfig, sink: Box<dyn SpanSink>) -> Self {
        Ingest {
            assembler: Mutex::new(assemble::Assembler::new(config.assembly.clone())),
            config,
            unsent: Mutex::new(Vec::new()),
            sink,
            requests: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// The limits in force (the server applies `max_body_bytes` while reading the body).
    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// Handles one OTLP/HTTP `POST /v1/traces` body.
    pub fn export_traces(
        &self,
        body: &[u8],
        content_type: Option<&str>,
        content_encoding: Option<&str>,
    ) -> Result<Reply, IngestError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = self.export(body, content_type, content_encoding);
        if result.is_err() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    fn export(
        &self,
        body: &[u8],
        content_type: Option<&str>,
        content_encoding: Option<&str>,
    ) -> Result<Reply, IngestError> {
        let decoded = Decoded::read(body, content_type, content_encoding, &self.config.limits)?;
        let encoding = decoded.encoding;
        let outcome = self.export_decoded(decoded)?;
        Ok(outcome.reply(encoding))
    }

    /// Maps, assembles and records an already decoded request (a server that routes a
    /// request's resources to projects hands each project's [`Ingest`] its part).
    pub fn export_decoded(&self, decoded: Decoded) -> Result<Outcome, IngestError> {
        let limits = &self.config.limits;
        let mut mapped = Vec::with_capacity(decoded.spans());
        let mut outcome = Outcome::default();
        for resource_spans in decoded.request.resource_spans {
            let attributes = resource_spans
                .resource
                .map(|r| r.attributes)
                .unwrap_or_default();
            let service = map::service_name(&attributes);
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    match map::map_span(span, service, limits) {
                        Ok(m) => mapped.push(m),
                        Err(why) => outcome.reject(1, why),
                    }
                }
            }
        }
        outcome.accepted = mapped.len() as u64;
        let mut records = std::mem::take(&mut *self.unsent.lock());
        self.assembler
            .lock()
            .add(mapped, Instant::now(), now_ms(), &mut records);
        self.send(records)?;
        self.sink.wait_committed(self.config.ack_timeout);
        self.accepted.fetch_add(outcome.accepted, Ordering::Relaxed);
        self.rejected.fetch_add(outcome.rejected, Ordering::Relaxed);
        Ok(outcome)
    }

    /// Submits, keeping the records for the next attempt when the sink refuses them: the
    /// assembler has already placed them and will not produce them again.
    fn send(&self, records: Vec<Record>) -> Result<(), IngestError> {
        if records.is_empty() {
            return Ok(());
        }
        let keep = records.clone();
        self.sink.submit(records).map_err(|e| {
            self.unsent.lock().extend(keep);
            IngestError::Unavailable(format!("spans cannot be recorded now: {e}"))
        })
    }

    /// Roots spans whose parent has not arrived in time; call about once a second.
    pub fn sweep(&self) -> Result<(), IngestError> {
        let mut records = std::mem::take(&mut *self.unsent.lock());
        self.assembler.lock().sweep(Instant::now(), &mut records);
        self.send(records)
    }

    /// Roots and submits everything still held (before the process stops).
    pub fn finish(&self) -> Result<(), IngestError> {
        let mut records = std::mem::take(&mut *self.unsent.lock());
        self.assembler.lock().drain(&mut records);
        self.send(records)?;
        self.sink.wait_committed(self.config.ack_timeout);
        Ok(())
    }

    /// Sweeps every `every` on a thread of its own, until the last `Arc` of `self` is gone.
    pub fn spawn_sweeper(
        self: &Arc<Self>,
        every: Duration,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("pathwise-ingest-sweep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    let Some(ingest) = weak.upgrade() else { return };
                    // A refused sweep keeps its spans for the next attempt.
                    let _ = ingest.sweep();
                }
            })
    }

    /// Counters since start.
    pub fn stats(&self) -> IngestStats {
        let assembler = self.assembler.lock();
        IngestStats {
            requests: self.requests.load(Ordering::Relaxed),
            refused_requests: self.refused.load(Ordering::Relaxed),
            accepted_spans: self.accepted.load(Ordering::Relaxed),
            rejected_spans: self.rejected.load(Ordering::Relaxed),
            orphans: assembler.orphans,
            held_spans: assembler.held_spans as u64,
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests;
