//! Rows as they travel in RowBinary: field order is column order (see [`crate::schema`]).

use clickhouse::Row;
use pathwise_store::PipelineStats;
use serde::{Deserialize, Serialize};

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct SpanRowCh {
    pub trace_id: [u8; 16],
    pub span_id: u64,
    pub parent_id: u64,
    pub name: String,
    pub path: String,
    pub group_name: Option<String>,
    pub kind: u8,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub status: u8,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub error_chain: Option<String>,
    pub attrs: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub reasoning: Option<String>,
    pub metadata: Option<String>,
}

pub(crate) const SPAN_COLUMNS: &str = "trace_id, span_id, parent_id, name, path, group_name, kind,
    start_ns, duration_ns, status, error_type, error_message, error_chain, attrs, input, output,
    reasoning, metadata";

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct TraceRowCh {
    pub trace_id: [u8; 16],
    pub name: String,
    pub start_ns: i64,
    pub end_ns: Option<i64>,
    pub duration_ns: Option<i64>,
    pub status: u8,
    pub metadata: Option<String>,
    /// 0: inferred from a span, 1: started, 2: the root arrived (the highest one wins).
    pub version: u8,
}

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct RollupRowCh {
    pub bucket: i64,
    pub path: String,
    pub node: String,
    pub parent: String,
    pub depth: i64,
    pub calls: i64,
    pub errors: i64,
    pub total_ns: i64,
    pub self_ns: i64,
    pub min_ns: i64,
    pub max_ns: i64,
    pub first_ns: i64,
    pub last_ns: i64,
    pub sketch: Vec<u8>,
    pub critical_ns: i64,
}

pub(crate) const ROLLUP_COLUMNS: &str = "bucket, path, node, parent, depth, calls, errors,
    total_ns, self_ns, min_ns, max_ns, first_ns, last_ns, sketch, critical_ns";

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct ErrorRowCh {
    pub minute: i64,
    pub path: String,
    pub error_type: String,
    pub count: i64,
}

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct CacheRowCh {
    pub ts_ns: i64,
    pub component: String,
    pub hits: i64,
    pub misses: i64,
}

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct StatsRowCh {
    pub ts_ns: i64,
    pub recorded: i64,
    pub written: i64,
    pub spilled: i64,
    pub replayed: i64,
    pub dropped: i64,
    pub sampled_out: i64,
    pub queue_depth: i64,
    pub write_lag_ns: i64,
}

impl From<&PipelineStats> for StatsRowCh {
    fn from(s: &PipelineStats) -> Self {
        StatsRowCh {
            ts_ns: s.ts_ns,
            recorded: signed(s.recorded),
            written: signed(s.written),
            spilled: signed(s.spilled),
            replayed: signed(s.replayed),
            dropped: signed(s.dropped),
            sampled_out: signed(s.sampled_out),
            queue_depth: signed(s.queue_depth),
            write_lag_ns: signed(s.write_lag_ns),
        }
    }
}

impl From<StatsRowCh> for PipelineStats {
    fn from(s: StatsRowCh) -> Self {
        let u = |v: i64| v.max(0) as u64;
        PipelineStats {
            ts_ns: s.ts_ns,
            recorded: u(s.recorded),
            written: u(s.written),
            spilled: u(s.spilled),
            replayed: u(s.replayed),
            dropped: u(s.dropped),
            sampled_out: u(s.sampled_out),
            queue_depth: u(s.queue_depth),
            write_lag_ns: u(s.write_lag_ns),
        }
    }
}

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct ResourceRowCh {
    pub ts_ns: i64,
    pub cpu_pct: f64,
    pub rss_bytes: i64,
    pub virtual_bytes: i64,
    pub disk_read_bytes: i64,
    pub disk_write_bytes: i64,
    pub threads: i64,
    pub open_fds: i64,
    pub host_cpu_pct: f64,
    pub mem_used_bytes: i64,
    pub mem_available_bytes: i64,
    pub net_rx_bytes: i64,
    pub net_tx_bytes: i64,
}

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct FunctionRowCh {
    pub name: String,
    pub group_name: Option<String>,
    pub module_path: String,
    pub file: String,
    pub line: u32,
    pub is_async: u8,
}

#[derive(Row, Serialize, Deserialize, Clone, Debug)]
pub(crate) struct BaselineRowCh {
    pub name: String,
    pub version: i64,
    pub learned_ns: i64,
    pub pinned: u8,
    pub samples: i64,
    pub kept: i64,
    pub outliers: i64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
    pub std_dev: f64,
    pub confidence: f64,
    pub updated_ns: i64,
}

pub(crate) const BASELINE_COLUMNS: &str = "name, version, learned_ns, pinned, samples, kept,
    outliers, p50, p95, p99, mean, std_dev, confidence, updated_ns";

/// Clamps a counter into ClickHouse's signed 64-bit columns.
pub(crate) fn signed(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

/// Nanoseconds since the epoch now: versions of replacing rows.
pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(i64::MAX as u128) as i64)
}

/// A trace id as the `unhex('…')` literal queries use (hex digits only, never user text).
pub(crate) fn id_literal(bytes: &[u8; 16]) -> String {
    let mut out = String::with_capacity(42);
    out.push_str("unhex('");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out.push_str("')");
    out
}

/// A span's key.
#[derive(Row, Serialize, Deserialize, Clone, Copy, Debug)]
pub(crate) struct SpanKeyCh {
    pub trace_id: [u8; 16],
    pub span_id: u64,
}

/// Spans and failed spans of one trace.
#[derive(Row, Serialize, Deserialize, Clone, Copy, Debug)]
pub(crate) struct TraceCountsCh {
    pub trace_id: [u8; 16],
    pub spans: u64,
    pub errors: u64,
}
