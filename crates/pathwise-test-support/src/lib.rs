//! What Pathwise's benchmarks and tests share: the peers they measure against, set up once so
//! that every figure compares with the same configuration, and the local servers more than one
//! crate's tests talk to ([`smtp::SmtpSink`]).
//!
//! ```
//! let peer = pathwise_test_support::TracingOtel::new();
//! tracing::dispatcher::with_default(&peer.dispatch, || {
//!     let _span = tracing::info_span!("request").entered();
//! });
//! peer.flush();
//! assert_eq!(peer.exported(), 1);
//! ```

pub mod payload;
pub mod smtp;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// OpenTelemetry exporter that counts the spans it is given and keeps none.
#[derive(Debug, Clone, Default)]
pub struct CountingExporter(Arc<AtomicU64>);

impl opentelemetry_sdk::trace::SpanExporter for CountingExporter {
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// What most Rust users pick to export traces: `tracing` spans through the
/// `tracing-opentelemetry` layer into an OpenTelemetry SDK provider with its defaults (the batch
/// processor: a background thread and a 2,048-span queue that drops when full), exporting to a
/// [`CountingExporter`].
pub struct TracingOtel {
    pub dispatch: tracing::Dispatch,
    pub provider: opentelemetry_sdk::trace::SdkTracerProvider,
    exporter: CountingExporter,
}

impl TracingOtel {
    pub fn new() -> TracingOtel {
        use opentelemetry::trace::TracerProvider as _;
        let exporter = CountingExporter::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_batch_exporter(exporter.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
        let subscriber =
            tracing_subscriber::layer::SubscriberExt::with(tracing_subscriber::registry(), layer);
        TracingOtel {
            dispatch: tracing::Dispatch::new(subscriber),
            provider,
            exporter,
        }
    }

    /// Waits until the batch processor has handed every queued span to the exporter.
    pub fn flush(&self) {
        let _ = self.provider.force_flush();
    }

    /// Spans the exporter received so far (fewer than were made when the queue dropped some).
    pub fn exported(&self) -> u64 {
        self.exporter.0.load(Ordering::Relaxed)
    }
}

impl Default for TracingOtel {
    fn default() -> Self {
        TracingOtel::new()
    }
}

impl Drop for TracingOtel {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}
