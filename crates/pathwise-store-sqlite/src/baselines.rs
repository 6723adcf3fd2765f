//! Versioned, pinnable baselines per operation.

use pathwise_store::BaselineRow;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::Error;

fn row(r: &Row<'_>) -> rusqlite::Result<BaselineRow> {
    Ok(BaselineRow {
        name: r.get(0)?,
        version: r.get(1)?,
        learned_ns: r.get(2)?,
        pinned: r.get(3)?,
        samples: r.get(4)?,
        kept: r.get(5)?,
        outliers: r.get(6)?,
        p50: r.get(7)?,
        p95: r.get(8)?,
        p99: r.get(9)?,
        mean: r.get(10)?,
        std_dev: r.get(11)?,
        confidence: r.get(12)?,
    })
}

const COLUMNS: &str = "name, version, learned_ns, pinned, samples, kept, outliers, p50, p95, p99, mean, std_dev, confidence";

/// The baseline in force per operation: the pinned version if any, else the newest.
pub(crate) fn in_force(conn: &Connection) -> Result<Vec<BaselineRow>, Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM baselines b WHERE version = (
           SELECT version FROM baselines c WHERE c.name = b.name ORDER BY pinned DESC, version DESC LIMIT 1)
         ORDER BY name"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Saves a new version of `baseline` (its `version` and `pinned` are ignored); returns the
/// version number given.
pub(crate) fn save(conn: &Connection, b: &BaselineRow) -> Result<i64, Error> {
    let version: i64 = conn.query_row(
        "SELECT coalesce(max(version), 0) + 1 FROM baselines WHERE name = ?1",
        [&b.name],
        |r| r.get(0),
    )?;
    conn.execute(
        &format!("INSERT INTO baselines ({COLUMNS}) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![b.name, version, b.learned_ns, b.samples, b.kept, b.outliers, b.p50, b.p95, b.p99, b.mean, b.std_dev, b.confidence],
    )?;
    Ok(version)
}

/// Pins the newest version of `name` (unpinning the others) or unpins all; `None` when the
/// operation has no stored baseline.
pub(crate) fn pin(conn: &Connection, name: &str, pinned: bool) -> Result<Option<i64>, Error> {
    let newest: Option<i64> = conn
        .query_row(
            "SELECT max(version) FROM baselines WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(version) = newest else {
        return Ok(None);
    };
    conn.execute("UPDATE baselines SET pinned = 0 WHERE name = ?1", [name])?;
    if pinned {
        conn.execute(
            "UPDATE baselines SET pinned = 1 WHERE name = ?1 AND version = ?2",
            params![name, version],
        )?;
    }
    Ok(Some(version))
}
