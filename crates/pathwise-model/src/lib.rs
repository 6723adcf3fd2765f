//! The one data model every Pathwise crate speaks.
//!
//! Everything recorded is a [`SpanRecord`] inside a trace: a monitored function call, a manual
//! span, a decision step and an operation recorded after the fact differ only by [`SpanKind`] and
//! by which optional [`SpanDetails`] are set. Trace lifecycle events ([`TraceEvent`]) carry what a
//! span cannot: a trace that is still running, and trace-level metadata.
//!
//! ```
//! use pathwise_model::{Record, SpanKind, SpanRecord, Status, TraceId};
//! let span = SpanRecord::new(TraceId(7), 1, 0, "main".into(), SpanKind::Span);
//! assert_eq!(span.status, Status::Ok);
//! let bytes = pathwise_model::codec::encode(&Record::Span(span.clone())).unwrap();
//! let back: Record = pathwise_model::codec::decode(&bytes).unwrap();
//! assert_eq!(back, Record::Span(span));
//! ```

pub mod codec;
mod error_identity;
mod ids;
mod record;

pub use error_identity::{error_identity, short_type_name};
pub use ids::{SpanId, TraceId};
pub use record::{
    AttrValue, ErrorInfo, HostResources, Name, ProcessResources, Record, ResourceSample,
    SpanDetails, SpanKind, SpanRecord, Status, TraceEvent, TraceStatus, UNTYPED_ERROR,
};
