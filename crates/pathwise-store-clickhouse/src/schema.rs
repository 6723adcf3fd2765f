//! The tables, made for ClickHouse and for the server found: the version decides the variant.
//!
//! - `spans` and `traces` are ReplacingMergeTree keyed by trace id (trace ids begin with the
//!   trace's start time, so a time window is a key range too), partitioned by day: a replayed
//!   span or a trace's later row replaces the earlier one; reads use `FINAL`.
//! - Rollups are appended as partial rows per batch (minute and hour) and merged by the reader,
//!   whose DDSketches merge exactly as SQLite's do, so percentiles agree with SQLite's.
//! - With a cluster, each table is `<name>_local` on every shard plus a Distributed `<name>`
//!   sharded by trace id (a trace's spans live on one shard).
//! - ClickHouse ≥ 19 stores repeated names as `LowCardinality(String)`; 18.x (Debian's 18.16)
//!   has it only behind a setting, so names stay `String` there. Neither variant uses TTL
//!   (18.x lacks it): retention drops whole day partitions.

/// Which DDL the server understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// 18.x: no TTL, no LowCardinality by default, no DateTime64.
    Legacy,
    /// 19.x and later.
    Modern,
}

impl Variant {
    /// The variant for a `SELECT version()` answer; `None` for a server too old (before 18.14,
    /// whose custom partitioning and `Nullable` the schema needs).
    ///
    /// ```
    /// use pathwise_store_clickhouse::schema::Variant;
    /// assert_eq!(Variant::for_version("18.16.1"), Some(Variant::Legacy));
    /// assert_eq!(Variant::for_version("25.3.2.1"), Some(Variant::Modern));
    /// assert_eq!(Variant::for_version("1.1.54394"), None);
    /// ```
    pub fn for_version(version: &str) -> Option<Variant> {
        let mut parts = version
            .trim()
            .split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let (major, minor) = (parts.next()?, parts.next().unwrap_or(0));
        match (major, minor) {
            (19.., _) => Some(Variant::Modern),
            (18, 14..) => Some(Variant::Legacy),
            _ => None,
        }
    }

    fn name_type(self) -> &'static str {
        match self {
            Variant::Legacy => "String",
            Variant::Modern => "LowCardinality(String)",
        }
    }
}

/// One table: its columns, its engine and keys on a shard, and how rows spread over shards.
struct Table {
    name: &'static str,
    columns: &'static str,
    engine: &'static str,
    keys: &'static str,
    shard_by: &'static str,
}

const DAY_OF_NS: &str = "toYYYYMMDD(toDateTime(intDiv(start_ns, 1000000000)))";

fn tables() -> Vec<Table> {
    vec![
        Table {
            name: "spans",
            columns: "trace_id FixedString(16), span_id UInt64, parent_id UInt64, name NAME,
                path String, group_name Nullable(String), kind UInt8, start_ns Int64,
                duration_ns Int64, status UInt8, error_type Nullable(String),
                error_message Nullable(String), error_chain Nullable(String),
                attrs Nullable(String), input Nullable(String), output Nullable(String),
                reasoning Nullable(String), metadata Nullable(String)",
            engine: "ReplacingMergeTree",
            keys: "PARTITION BY DAY ORDER BY (trace_id, span_id)",
            shard_by: "cityHash64(trace_id)",
        },
        Table {
            name: "traces",
            columns: "trace_id FixedString(16), name NAME, start_ns Int64,
                end_ns Nullable(Int64), duration_ns Nullable(Int64), status UInt8,
                metadata Nullable(String), version UInt8",
            engine: "ReplacingMergeTree(version)",
            keys: "PARTITION BY DAY ORDER BY trace_id",
            shard_by: "cityHash64(trace_id)",
        },
        Table {
            name: "rollup_minute",
            columns: "bucket Int64, path String, node NAME, parent String, depth Int64,
                calls Int64, errors Int64, total_ns Int64, self_ns Int64, min_ns Int64,
                max_ns Int64, first_ns Int64, last_ns Int64, sketch String,
                critical_ns Int64 DEFAULT 0",
            engine: "MergeTree",
            keys: "PARTITION BY intDiv(bucket, 1440) ORDER BY (bucket, path)",
            shard_by: "rand()",
        },
        Table {
            name: "rollup_hour",
            columns: "bucket Int64, path String, node NAME, parent String, depth Int64,
                calls Int64, errors Int64, total_ns Int64, self_ns Int64, min_ns Int64,
                max_ns Int64, first_ns Int64, last_ns Int64, sketch String,
                critical_ns Int64 DEFAULT 0",
            engine: "MergeTree",
            keys: "PARTITION BY intDiv(bucket, 24) ORDER BY (bucket, path)",
            shard_by: "rand()",
        },
        Table {
            name: "rollup_errors",
            columns: "minute Int64, path String, error_type NAME, count Int64",
            engine: "MergeTree",
            keys: "PARTITION BY intDiv(minute, 1440) ORDER BY (minute, path)",
            shard_by: "rand()",
        },
        Table {
            name: "cache_stats",
            columns: "ts_ns Int64, component NAME, hits Int64, misses Int64",
            engine: "MergeTree",
            keys: "ORDER BY ts_ns",
            shard_by: "rand()",
        },
        Table {
            name: "pipeline_stats",
            columns: "ts_ns Int64, recorded Int64, written Int64, spilled Int64, replayed Int64,
                dropped Int64, sampled_out Int64, queue_depth Int64, write_lag_ns Int64",
            engine: "MergeTree",
            keys: "ORDER BY ts_ns",
            shard_by: "rand()",
        },
        Table {
            name: "resource_samples",
            columns: "ts_ns Int64, cpu_pct Float64, rss_bytes Int64, virtual_bytes Int64,
                disk_read_bytes Int64, disk_write_bytes Int64, threads Int64, open_fds Int64,
                host_cpu_pct Float64, mem_used_bytes Int64, mem_available_bytes Int64,
                net_rx_bytes Int64, net_tx_bytes Int64",
            engine: "MergeTree",
            keys: "ORDER BY ts_ns",
            shard_by: "rand()",
        },
        Table {
            name: "functions",
            columns: "name String, group_name Nullable(String), module_path String, file String,
                line UInt32, is_async UInt8",
            engine: "ReplacingMergeTree",
            keys: "ORDER BY name",
            shard_by: "cityHash64(name)",
        },
        Table {
            name: "baselines",
            columns: "name String, version Int64, learned_ns Int64, pinned UInt8, samples Int64,
                kept Int64, outliers Int64, p50 Float64, p95 Float64, p99 Float64,
                mean Float64, std_dev Float64, confidence Float64, updated_ns Int64",
            engine: "ReplacingMergeTree(updated_ns)",
            keys: "ORDER BY (name, version)",
            shard_by: "cityHash64(name)",
        },
        Table {
            name: "alert_state",
            columns: "fingerprint String, rule String, state String, severity String,
                value Nullable(Float64), labels String, annotations String, since_ns Int64,
                fired_ns Nullable(Int64), last_notified_ns Nullable(Int64),
                clear_since_ns Nullable(Int64), acked_by Nullable(String), deleted UInt8,
                updated_ns Int64",
            engine: "ReplacingMergeTree(updated_ns)",
            keys: "ORDER BY fingerprint",
            shard_by: "cityHash64(fingerprint)",
        },
        Table {
            name: "alert_history",
            columns: "ts_ns Int64, seq Int64, fingerprint String, rule String, state String,
                severity String, value Nullable(Float64), labels String, annotations String,
                actor String",
            engine: "MergeTree",
            keys: "ORDER BY (ts_ns, seq)",
            shard_by: "rand()",
        },
        Table {
            name: "alert_silences",
            columns: "id Int64, matcher String, until_ns Int64, created_ns Int64, comment String,
                updated_ns Int64",
            engine: "ReplacingMergeTree(updated_ns)",
            keys: "ORDER BY id",
            shard_by: "cityHash64(id)",
        },
        Table {
            // Heartbeats of the servers' alert engines, from which they elect the evaluator;
            // merges keep the newest beat of each.
            name: "alert_evaluators",
            columns: "holder String, heartbeat_ns Int64, resigned UInt8",
            engine: "ReplacingMergeTree(heartbeat_ns)",
            keys: "ORDER BY holder",
            shard_by: "cityHash64(holder)",
        },
        Table {
            name: "api_keys",
            columns:
                "id String, name String, scopes String, secret_sha256 String, created_ns Int64,
                revoked_ns Nullable(Int64), last_used_ns Nullable(Int64), uses Int64,
                updated_ns Int64",
            engine: "ReplacingMergeTree(updated_ns)",
            keys: "ORDER BY id",
            shard_by: "cityHash64(id)",
        },
    ]
}

/// The name a query reads: the Distributed table with a cluster, else the table itself.
pub(crate) fn local_name(table: &str, cluster: Option<&str>) -> String {
    match cluster {
        Some(_) => format!("{table}_local"),
        None => table.to_string(),
    }
}

/// `CREATE` statements for one shard (local tables) and, with a cluster, the Distributed
/// tables over them, for database `db`.
///
/// ```
/// use pathwise_store_clickhouse::schema::{Variant, ddl};
/// let statements = ddl(Variant::Legacy, "pw", Some("pathwise"));
/// assert!(statements.iter().any(|s| s.contains("spans_local") && s.contains("ReplacingMergeTree")));
/// assert!(statements.iter().any(|s| s.contains("Distributed(pathwise, pw, spans_local, cityHash64(trace_id))")));
/// assert!(!statements.iter().any(|s| s.contains("LowCardinality")));
/// assert!(ddl(Variant::Modern, "pw", None).iter().any(|s| s.contains("LowCardinality")));
/// ```
pub fn ddl(variant: Variant, db: &str, cluster: Option<&str>) -> Vec<String> {
    let mut out = vec![format!("CREATE DATABASE IF NOT EXISTS {db}")];
    for t in tables() {
        let columns = t.columns.replace("NAME", variant.name_type());
        let keys = t.keys.replace("DAY", DAY_OF_NS);
        let local = local_name(t.name, cluster);
        out.push(format!(
            "CREATE TABLE IF NOT EXISTS {db}.{local} ({columns}) ENGINE = {} {keys}",
            t.engine
        ));
        if let Some(cluster) = cluster {
            out.push(format!(
                "CREATE TABLE IF NOT EXISTS {db}.{} ({columns}) ENGINE = Distributed({cluster}, {db}, {local}, {})",
                t.name, t.shard_by
            ));
        }
    }
    out
}
