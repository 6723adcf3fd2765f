use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::TraceId;

/// A name: `&'static str` from instrumentation macros (no allocation), owned when built at run
/// time (decision steps with dynamic names, records read back from spill files).
pub type Name = Cow<'static, str>;

/// What produced a span. The store keeps it as a small integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum SpanKind {
    /// A manual span (`pathwise::span`).
    Span = 0,
    /// A `#[monitor]`ed function call.
    Function = 1,
    /// A decision-trace step.
    Step = 2,
    /// An operation recorded after the fact (`record_operation`).
    Operation = 3,
    /// The root span of a decision trace (`pathwise::trace`).
    Trace = 4,
    /// Iteration over a monitored iterator or stream.
    Iteration = 5,
}

impl SpanKind {
    /// All kinds, in code order.
    pub const ALL: [SpanKind; 6] = [
        SpanKind::Span,
        SpanKind::Function,
        SpanKind::Step,
        SpanKind::Operation,
        SpanKind::Trace,
        SpanKind::Iteration,
    ];

    /// Lowercase name used in the API and the SQL views.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Span => "span",
            SpanKind::Function => "function",
            SpanKind::Step => "step",
            SpanKind::Operation => "operation",
            SpanKind::Trace => "trace",
            SpanKind::Iteration => "iteration",
        }
    }

    /// Inverse of `kind as u8`.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }
}

/// Outcome of a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[repr(u8)]
pub enum Status {
    #[default]
    Ok = 0,
    Error = 1,
}

impl Status {
    /// `"ok"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
        }
    }
}

/// Lifecycle state of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum TraceStatus {
    Running = 0,
    Completed = 1,
    Failed = 2,
}

impl TraceStatus {
    /// `"running"`, `"completed"` or `"failed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TraceStatus::Running => "running",
            TraceStatus::Completed => "completed",
            TraceStatus::Failed => "failed",
        }
    }

    /// Parses the names produced by [`TraceStatus::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(TraceStatus::Running),
            "completed" => Some(TraceStatus::Completed),
            "failed" => Some(TraceStatus::Failed),
            _ => None,
        }
    }

    /// Inverse of `status as u8`.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(TraceStatus::Running),
            1 => Some(TraceStatus::Completed),
            2 => Some(TraceStatus::Failed),
            _ => None,
        }
    }
}

/// A typed attribute value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AttrValue {
    Bool(bool),
    I64(i64),
    F64(f64),
    Str(Name),
}

macro_rules! attr_from {
    ($($t:ty => $variant:ident as $conv:ty),* $(,)?) => {$(
        impl From<$t> for AttrValue {
            fn from(value: $t) -> Self {
                AttrValue::$variant(value as $conv)
            }
        }
    )*};
}
attr_from!(i8 => I64 as i64, i16 => I64 as i64, i32 => I64 as i64, i64 => I64 as i64,
    u8 => I64 as i64, u16 => I64 as i64, u32 => I64 as i64, isize => I64 as i64,
    f32 => F64 as f64, f64 => F64 as f64);

impl From<u64> for AttrValue {
    /// Values above `i64::MAX` keep their exact digits as a string.
    fn from(value: u64) -> Self {
        i64::try_from(value)
            .map_or_else(|_| AttrValue::Str(value.to_string().into()), AttrValue::I64)
    }
}
impl From<usize> for AttrValue {
    fn from(value: usize) -> Self {
        AttrValue::from(value as u64)
    }
}
impl From<bool> for AttrValue {
    fn from(value: bool) -> Self {
        AttrValue::Bool(value)
    }
}
impl From<&'static str> for AttrValue {
    fn from(value: &'static str) -> Self {
        AttrValue::Str(Cow::Borrowed(value))
    }
}
impl From<String> for AttrValue {
    fn from(value: String) -> Self {
        AttrValue::Str(Cow::Owned(value))
    }
}

/// Why a span failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct ErrorInfo {
    /// What the error is: its short type name and, for an enum, its variant
    /// (`OpenAlexError::RateLimit`; see [`error_identity`](crate::error_identity)), or
    /// `"panic"`.
    pub error_type: Name,
    /// The error's `Display`.
    pub message: String,
    /// `Display` of each `source()` in turn.
    pub chain: Vec<String>,
}

impl ErrorInfo {
    /// An error of type `error_type` saying `message`, with no source chain.
    ///
    /// ```
    /// let info = pathwise_model::ErrorInfo::new("NoCandidates", "all filtered out");
    /// assert_eq!((&*info.error_type, info.message.as_str()), ("NoCandidates", "all filtered out"));
    /// assert!(info.chain.is_empty());
    /// ```
    pub fn new(error_type: impl Into<Name>, message: impl Into<String>) -> Self {
        ErrorInfo {
            error_type: error_type.into(),
            message: message.into(),
            chain: Vec::new(),
        }
    }

    /// Describes any `std::error::Error`, walking its source chain.
    ///
    /// ```
    /// let err = std::io::Error::other("disk on fire");
    /// let info = pathwise_model::ErrorInfo::from_error(&err);
    /// assert_eq!(info.message, "disk on fire");
    /// assert_eq!(info.error_type, "io::Error");
    /// ```
    pub fn from_error<E: std::error::Error + ?Sized>(error: &E) -> Self {
        let mut chain = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            if chain.len() == 16 {
                break; // a cyclic or absurdly deep chain must not hang the host
            }
            chain.push(cause.to_string());
            source = cause.source();
        }
        ErrorInfo {
            error_type: Cow::Owned(crate::error_identity(error)),
            message: error.to_string(),
            chain,
        }
    }
}

/// The optional, heavier parts of a span; boxed so that a bare span stays small.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct SpanDetails {
    pub attrs: Vec<(Name, AttrValue)>,
    pub error: Option<ErrorInfo>,
    /// JSON text.
    pub input: Option<String>,
    /// JSON text.
    pub output: Option<String>,
    pub reasoning: Option<String>,
    /// JSON text (an object).
    pub metadata: Option<String>,
}

/// One finished span.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpanRecord {
    pub trace_id: TraceId,
    pub span_id: u64,
    /// `0` for the root of a trace.
    pub parent_id: u64,
    /// Wall-clock start, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// Monotonic duration in nanoseconds.
    pub duration_ns: u64,
    pub name: Name,
    /// The component this span belongs to (`#[monitor(group = ..)]`).
    pub group: Option<Name>,
    /// Process-local id of the root→span path (see the pipeline's path interner); 0 = unknown.
    pub path: u32,
    pub kind: SpanKind,
    pub status: Status,
    /// `false` when the trace lost the sampling draw: kept only if the trace turns out to hold
    /// an error.
    pub sampled: bool,
    pub details: Option<Box<SpanDetails>>,
}

impl SpanRecord {
    /// A bare, successful, sampled span with zero timing.
    pub fn new(
        trace_id: TraceId,
        span_id: u64,
        parent_id: u64,
        name: Name,
        kind: SpanKind,
    ) -> Self {
        SpanRecord {
            trace_id,
            span_id,
            parent_id,
            start_ns: 0,
            duration_ns: 0,
            name,
            group: None,
            path: 0,
            kind,
            status: Status::Ok,
            sampled: true,
            details: None,
        }
    }

    /// The value of attribute `key`, if the span has one (the first, if set twice).
    ///
    /// ```
    /// use pathwise_model::{AttrValue, SpanKind, SpanRecord, TraceId};
    /// let mut span = SpanRecord::new(TraceId(1), 2, 0, "load".into(), SpanKind::Span);
    /// span.details_mut().attrs.push(("rows".into(), AttrValue::I64(12)));
    /// assert_eq!(span.attr("rows"), Some(&AttrValue::I64(12)));
    /// assert_eq!(span.attr("cols"), None);
    /// ```
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.details
            .as_ref()?
            .attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The details, created on first use.
    pub fn details_mut(&mut self) -> &mut SpanDetails {
        self.details.get_or_insert_with(Default::default)
    }

    /// The error, if the span failed with one.
    pub fn error(&self) -> Option<&ErrorInfo> {
        self.details.as_ref().and_then(|d| d.error.as_ref())
    }

    /// The type of the span's failure: its error's, or [`UNTYPED_ERROR`] for a span marked
    /// failed without one (a client that sent only a status), so every failed span is
    /// counted as an error wherever errors are counted by type; `None` for a span that
    /// succeeded.
    ///
    /// ```
    /// use pathwise_model::{SpanKind, SpanRecord, Status, TraceId, UNTYPED_ERROR};
    /// let mut s = SpanRecord::new(TraceId::from_parts(1, 1), 1, 0, "a".into(), SpanKind::Span);
    /// assert_eq!(s.error_type(), None);
    /// s.status = Status::Error;
    /// assert_eq!(s.error_type(), Some(UNTYPED_ERROR));
    /// ```
    pub fn error_type(&self) -> Option<&str> {
        match (self.error(), self.status) {
            (Some(e), _) => Some(&e.error_type),
            (None, Status::Error) => Some(UNTYPED_ERROR),
            (None, Status::Ok) => None,
        }
    }
}

/// The error type of a failed span that carries no error: what OTLP ingest also names a
/// span whose status is ERROR without an exception.
pub const UNTYPED_ERROR: &str = "error";

/// A trace's lifecycle, for what spans alone cannot say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TraceEvent {
    /// A decision trace began: it is visible as `running` until its root span arrives.
    Started {
        trace_id: TraceId,
        name: Name,
        start_ns: i64,
        metadata: Option<String>,
    },
}

/// What the instrumented process itself uses at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessResources {
    /// CPU used since the previous sample, in % of one core (up to `100 × cores`).
    pub cpu_pct: f32,
    /// Resident set size.
    pub rss_bytes: u64,
    pub virtual_bytes: u64,
    /// Bytes read from storage since the process started (cumulative).
    pub disk_read_bytes: u64,
    /// Bytes written to storage since the process started (cumulative).
    pub disk_write_bytes: u64,
    /// Threads of the process (0 where unknown).
    pub threads: u32,
    /// Open file descriptors (0 where unknown).
    pub open_fds: u32,
}

/// What the whole host uses at one instant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostResources {
    /// CPU used by everything since the previous sample, in % of all cores (0–100).
    pub cpu_pct: f32,
    pub mem_used_bytes: u64,
    pub mem_available_bytes: u64,
    /// Bytes received by the network interfaces other than loopback (cumulative).
    pub net_rx_bytes: u64,
    /// Bytes sent by the network interfaces other than loopback (cumulative).
    pub net_tx_bytes: u64,
}

/// One sample of process and host resources, taken by the SDK's resource sampler. Belongs to
/// no trace and is never sampled out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceSample {
    /// Wall-clock time of the sample, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    pub process: ProcessResources,
    pub host: HostResources,
}

/// Anything that travels through the pipeline.
// New variants go at the end: spill files and the error lane store the variant's index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Record {
    Span(SpanRecord),
    Trace(TraceEvent),
    Resource(ResourceSample),
}

impl Record {
    /// The trace this record belongs to; `None` for records of no trace (resource samples).
    pub fn trace_id(&self) -> Option<TraceId> {
        match self {
            Record::Span(span) => Some(span.trace_id),
            Record::Trace(TraceEvent::Started { trace_id, .. }) => Some(*trace_id),
            Record::Resource(_) => None,
        }
    }
}
