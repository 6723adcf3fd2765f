//! Versioned migrations. `PRAGMA user_version` holds the schema version; each migration runs in
//! its own transaction, so a crash mid-upgrade leaves the previous version intact.

use rusqlite::Connection;

use crate::Error;

/// Migrations in order; index + 1 is the version they produce.
const MIGRATIONS: &[&str] = &[
    // v1: the core model. Dictionary tables keep repeated strings out of the span rows: a bare
    // span is ~60 bytes. Spans are clustered by (trace_id, span_id) and trace ids start with the
    // trace's start time, so inserts append and retention is a range delete.
    r#"
    CREATE TABLE names (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE paths (
        id        INTEGER PRIMARY KEY,
        parent_id INTEGER NOT NULL,
        name_id   INTEGER NOT NULL,
        depth     INTEGER NOT NULL,
        path      TEXT NOT NULL,
        UNIQUE (parent_id, name_id)
    );
    CREATE TABLE spans (
        trace_id      BLOB NOT NULL,
        span_id       INTEGER NOT NULL,
        parent_id     INTEGER NOT NULL,
        name_id       INTEGER NOT NULL,
        path_id       INTEGER NOT NULL,
        group_id      INTEGER,
        kind          INTEGER NOT NULL,
        start_ns      INTEGER NOT NULL,
        duration_ns   INTEGER NOT NULL,
        status        INTEGER NOT NULL,
        error_type_id INTEGER,
        PRIMARY KEY (trace_id, span_id)
    ) WITHOUT ROWID;
    CREATE TABLE span_details (
        trace_id      BLOB NOT NULL,
        span_id       INTEGER NOT NULL,
        attrs         TEXT,
        error_message TEXT,
        error_chain   TEXT,
        input         TEXT,
        output        TEXT,
        reasoning     TEXT,
        metadata      TEXT,
        PRIMARY KEY (trace_id, span_id)
    ) WITHOUT ROWID;
    CREATE TABLE traces (
        trace_id    BLOB PRIMARY KEY,
        name_id     INTEGER NOT NULL,
        start_ns    INTEGER NOT NULL,
        end_ns      INTEGER,
        duration_ns INTEGER,
        status      INTEGER NOT NULL,
        span_count  INTEGER NOT NULL DEFAULT 0,
        error_count INTEGER NOT NULL DEFAULT 0,
        metadata    TEXT
    ) WITHOUT ROWID;
    CREATE INDEX traces_by_start ON traces (start_ns);
    CREATE INDEX traces_by_status ON traces (status, start_ns);
    CREATE INDEX traces_by_name ON traces (name_id, start_ns);
    CREATE TABLE functions (
        name          TEXT PRIMARY KEY,
        group_name    TEXT,
        module_path   TEXT NOT NULL,
        file          TEXT NOT NULL,
        line          INTEGER NOT NULL,
        is_async      INTEGER NOT NULL,
        registered_ns INTEGER NOT NULL
    );
    CREATE TABLE pipeline_stats (
        ts_ns        INTEGER PRIMARY KEY,
        recorded     INTEGER NOT NULL,
        written      INTEGER NOT NULL,
        spilled      INTEGER NOT NULL,
        replayed     INTEGER NOT NULL,
        dropped      INTEGER NOT NULL,
        sampled_out  INTEGER NOT NULL,
        queue_depth  INTEGER NOT NULL,
        write_lag_ns INTEGER NOT NULL
    );
    CREATE TABLE cache_stats (
        ts_ns     INTEGER NOT NULL,
        component TEXT NOT NULL,
        hits      INTEGER NOT NULL,
        misses    INTEGER NOT NULL
    );
    CREATE INDEX cache_stats_by_ts ON cache_stats (ts_ns);

    -- Human-friendly views for the sqlite3 CLI and SQL alert rules.
    CREATE VIEW spans_v AS
    SELECT lower(hex(s.trace_id)) AS trace_id, s.span_id, s.parent_id,
           n.name, p.path, g.name AS group_name,
           CASE s.kind WHEN 0 THEN 'span' WHEN 1 THEN 'function' WHEN 2 THEN 'step'
                       WHEN 3 THEN 'operation' WHEN 4 THEN 'trace' ELSE 'iteration' END AS kind,
           s.start_ns, s.duration_ns,
           CASE s.status WHEN 0 THEN 'ok' ELSE 'error' END AS status,
           e.name AS error_type
    FROM spans s
    JOIN names n ON n.id = s.name_id
    JOIN paths p ON p.id = s.path_id
    LEFT JOIN names g ON g.id = s.group_id
    LEFT JOIN names e ON e.id = s.error_type_id;
    CREATE VIEW traces_v AS
    SELECT lower(hex(t.trace_id)) AS trace_id, n.name, t.start_ns, t.end_ns, t.duration_ns,
           CASE t.status WHEN 0 THEN 'running' WHEN 1 THEN 'completed' ELSE 'failed' END AS status,
           t.span_count, t.error_count, t.metadata
    FROM traces t JOIN names n ON n.id = t.name_id;
    "#,
    // v2: rollups per (minute, path) and (hour, path), with a DDSketch of durations, and error
    // counts by type; maintained by the writer so analytics never scan spans.
    r#"
    CREATE TABLE rollup_minute (
        bucket   INTEGER NOT NULL,
        path_id  INTEGER NOT NULL,
        calls    INTEGER NOT NULL,
        errors   INTEGER NOT NULL,
        total_ns INTEGER NOT NULL,
        self_ns  INTEGER NOT NULL,
        min_ns   INTEGER NOT NULL,
        max_ns   INTEGER NOT NULL,
        first_ns INTEGER NOT NULL,
        last_ns  INTEGER NOT NULL,
        sketch   BLOB NOT NULL,
        PRIMARY KEY (bucket, path_id)
    ) WITHOUT ROWID;
    CREATE TABLE rollup_hour (
        bucket   INTEGER NOT NULL,
        path_id  INTEGER NOT NULL,
        calls    INTEGER NOT NULL,
        errors   INTEGER NOT NULL,
        total_ns INTEGER NOT NULL,
        self_ns  INTEGER NOT NULL,
        min_ns   INTEGER NOT NULL,
        max_ns   INTEGER NOT NULL,
        first_ns INTEGER NOT NULL,
        last_ns  INTEGER NOT NULL,
        sketch   BLOB NOT NULL,
        PRIMARY KEY (bucket, path_id)
    ) WITHOUT ROWID;
    CREATE TABLE rollup_errors_minute (
        bucket        INTEGER NOT NULL,
        path_id       INTEGER NOT NULL,
        error_type_id INTEGER NOT NULL,
        count         INTEGER NOT NULL,
        PRIMARY KEY (bucket, path_id, error_type_id)
    ) WITHOUT ROWID;
    CREATE TABLE rollup_errors_hour (
        bucket        INTEGER NOT NULL,
        path_id       INTEGER NOT NULL,
        error_type_id INTEGER NOT NULL,
        count         INTEGER NOT NULL,
        PRIMARY KEY (bucket, path_id, error_type_id)
    ) WITHOUT ROWID;
    "#,
    // v3: most traces complete; indexing only the others keeps a trace row small. Lists of
    // completed traces walk `traces_by_start` instead.
    r#"
    DROP INDEX traces_by_status;
    CREATE INDEX traces_by_status ON traces (status, start_ns) WHERE status <> 1;
    "#,
    // v4: process and host resource samples from the SDK's sampler thread, one row per sample.
    // Keyed by time (a rowid alias): inserts append, retention and time windows are range scans.
    r#"
    CREATE TABLE resource_samples (
        ts_ns               INTEGER PRIMARY KEY,
        cpu_pct             REAL,
        rss_bytes           INTEGER,
        virtual_bytes       INTEGER,
        disk_read_bytes     INTEGER,
        disk_write_bytes    INTEGER,
        threads             INTEGER,
        open_fds            INTEGER,
        host_cpu_pct        REAL,
        mem_used_bytes      INTEGER,
        mem_available_bytes INTEGER,
        net_rx_bytes        INTEGER,
        net_tx_bytes        INTEGER
    );
    "#,
    // v5: baselines per operation, versioned (each re-learning adds a version) and pinnable
    // (a pinned version is used until unpinned, whatever is learned later).
    r#"
    CREATE TABLE baselines (
        name       TEXT NOT NULL,
        version    INTEGER NOT NULL,
        learned_ns INTEGER NOT NULL,
        pinned     INTEGER NOT NULL DEFAULT 0,
        samples    INTEGER NOT NULL,
        kept       INTEGER NOT NULL,
        outliers   INTEGER NOT NULL,
        p50        REAL NOT NULL,
        p95        REAL NOT NULL,
        p99        REAL NOT NULL,
        mean       REAL NOT NULL,
        std_dev    REAL NOT NULL,
        confidence REAL NOT NULL,
        PRIMARY KEY (name, version)
    ) WITHOUT ROWID;
    "#,
    // v6: the alert engine (pathwise-alerts). `alert_history` is append-only (one row per state
    // change, acknowledgement or failed delivery), `alert_silences` holds mutes until a time,
    // and `alert_state` mirrors the active alerts so a restarted engine resumes without
    // re-notifying. Labels and annotations are JSON objects.
    r#"
    CREATE TABLE alert_history (
        ts_ns       INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        rule        TEXT NOT NULL,
        state       TEXT NOT NULL,
        severity    TEXT NOT NULL,
        value       REAL,
        labels      TEXT NOT NULL,
        annotations TEXT NOT NULL,
        actor       TEXT NOT NULL
    );
    CREATE INDEX alert_history_by_ts ON alert_history (ts_ns);
    CREATE INDEX alert_history_by_fingerprint ON alert_history (fingerprint, ts_ns);
    CREATE TABLE alert_silences (
        id         INTEGER PRIMARY KEY,
        matcher    TEXT NOT NULL,
        until_ns   INTEGER NOT NULL,
        created_ns INTEGER NOT NULL,
        comment    TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE alert_state (
        fingerprint      TEXT PRIMARY KEY,
        rule             TEXT NOT NULL,
        state            TEXT NOT NULL,
        severity         TEXT NOT NULL,
        value            REAL,
        labels           TEXT NOT NULL,
        annotations      TEXT NOT NULL,
        since_ns         INTEGER NOT NULL,
        fired_ns         INTEGER,
        last_notified_ns INTEGER,
        clear_since_ns   INTEGER,
        acked_by         TEXT
    ) WITHOUT ROWID;
    "#,
    // v7: API keys for the server (ingest, read, admin). Only the SHA-256 of a key's secret
    // is kept; `uses` and `last_used_ns` are flushed by the server every few seconds.
    r#"
    CREATE TABLE api_keys (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        scopes        TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL,
        created_ns    INTEGER NOT NULL,
        revoked_ns    INTEGER,
        last_used_ns  INTEGER,
        uses          INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    "#,
    // v8: latency attribution — each path's time on its traces' critical paths. Rows written
    // before it count 0 (their traces were never walked).
    r#"
    ALTER TABLE rollup_minute ADD COLUMN critical_ns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rollup_hour ADD COLUMN critical_ns INTEGER NOT NULL DEFAULT 0;
    "#,
    // v9: heartbeats of the alert engines of servers sharing this file, from which they elect
    // the one that evaluates (one row per engine, replaced on every beat).
    r#"
    CREATE TABLE alert_evaluators (
        holder       TEXT PRIMARY KEY,
        heartbeat_ns INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // v10: compressed payload columns (see `payload`). A value in `span_details`' input,
    // output, reasoning, metadata and error_chain is plain text as before, or a zstd blob whose
    // dictionary (trained per span name) is a row here; `pw_text(column)` reads either.
    // Rows written before stay as they are.
    r#"
    CREATE TABLE payload_dicts (
        id         INTEGER PRIMARY KEY,
        name_id    INTEGER NOT NULL,
        dict       BLOB NOT NULL,
        samples    INTEGER NOT NULL,
        created_ns INTEGER NOT NULL
    );
    CREATE INDEX payload_dicts_by_name ON payload_dicts (name_id, id);
    CREATE VIEW span_details_v AS
    SELECT lower(hex(trace_id)) AS trace_id, span_id, attrs, error_message,
           pw_text(error_chain) AS error_chain, pw_text(input) AS input,
           pw_text(output) AS output, pw_text(reasoning) AS reasoning,
           pw_text(metadata) AS metadata
    FROM span_details;
    "#,
    // v11: the slow traces (1 s and longer) by duration, so a list filtered to long traces
    // reads them, not every trace (`read::trace_table`). Partial: a fast trace costs nothing.
    r#"
    CREATE INDEX traces_slow ON traces (duration_ns) WHERE duration_ns >= 1000000000;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`]; refuses a database from a newer build.
pub fn migrate(conn: &mut Connection) -> Result<(), Error> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    check_version(found)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Errors when `found` is a schema this build cannot read.
pub fn check_version(found: i64) -> Result<(), Error> {
    if found > SCHEMA_VERSION {
        return Err(pathwise_store::StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        }
        .into());
    }
    Ok(())
}
