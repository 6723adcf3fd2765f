//! Fixtures shared by the layer's integration tests.
#![allow(dead_code)]

use std::sync::Once;

use pathwise::AttrValue;
use pathwise_model::{Record, SpanRecord};
use tracing_subscriber::layer::SubscriberExt;

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

/// The span records among `records`.
pub fn spans(records: &[Record]) -> Vec<&SpanRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s),
            Record::Trace(_) | Record::Resource(_) => None,
        })
        .collect()
}

/// Every span named `name`.
pub fn named<'a>(records: &'a [Record], name: &str) -> Vec<&'a SpanRecord> {
    spans(records)
        .into_iter()
        .filter(|s| s.name == name)
        .collect()
}

/// The one span named `name`; panics with the list of names otherwise.
pub fn one<'a>(records: &'a [Record], name: &str) -> &'a SpanRecord {
    let found = named(records, name);
    assert_eq!(
        found.len(),
        1,
        "expected one span {name:?}, names: {:?}",
        spans(records)
            .iter()
            .map(|s| s.name.as_ref())
            .collect::<Vec<_>>()
    );
    found[0]
}

/// The value of attribute `key` of `span`, if it has one.
pub fn attr<'a>(span: &'a SpanRecord, key: &str) -> Option<&'a AttrValue> {
    span.details
        .as_ref()?
        .attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
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
