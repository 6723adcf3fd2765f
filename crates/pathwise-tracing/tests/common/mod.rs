//! Fixtures shared by the layer's integration tests.
#![allow(dead_code)]

use std::sync::Once;

use pathwise::AttrValue;
use pathwise_model::SpanRecord;
use tracing_subscriber::layer::SubscriberExt;

#[allow(unused_imports)] // each test binary uses some of them
pub use pathwise::testing::{named, one, spans};

/// Installs registry + Pathwise layer as the global subscriber of this test binary, so that
/// executor threads see it too. Each test still records into its own `Recorder`, and those
/// are exclusive, so tests sharing the layer do not see each other's spans.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(pathwise_tracing::layer());
        tracing::subscriber::set_global_default(subscriber)
            .expect("one global subscriber per test binary");
    });
}

/// How many times attribute `key` occurs on `span`.
pub fn attr_count(span: &SpanRecord, key: &str) -> usize {
    span.details
        .as_ref()
        .map_or(0, |d| d.attrs.iter().filter(|(k, _)| k == key).count())
}

/// A string attribute value.
pub fn text(value: &str) -> AttrValue {
    AttrValue::Str(value.to_string().into())
}
