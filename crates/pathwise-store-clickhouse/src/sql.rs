//! SQL in ClickHouse's dialect, for alert rules and `pathwise sql`: read-only (`readonly = 2`),
//! one statement, and limited in time (`max_execution_time`), memory (`max_memory_usage`) and
//! rows (`max_result_rows`) by the server itself.

use std::time::Duration;

use pathwise_store::alerts::{SqlGuardError, SqlRows, SqlRules, describe_limit};

use crate::Conn;

/// Memory a SQL rule's query may use on the server.
pub const SQL_RULE_MEMORY_BYTES: u64 = 256 << 20;

/// SQL rules on ClickHouse.
pub(crate) struct ClickHouseSqlRules {
    conn: Conn,
}

impl ClickHouseSqlRules {
    pub(crate) fn new(conn: Conn) -> Self {
        ClickHouseSqlRules { conn }
    }
}

/// The server's error code in a failed response (`Code: 159. …`).
fn error_code(message: &str) -> Option<u32> {
    let rest = &message[message.find("Code: ")? + 6..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

impl SqlRules for ClickHouseSqlRules {
    fn query_number(&mut self, sql: &str, limit: Duration) -> Result<Option<f64>, SqlGuardError> {
        let text = self.fetch(sql, limit, 2)?;
        let lines: Vec<&str> = text.lines().collect();
        let [line] = lines.as_slice() else {
            return Err(SqlGuardError::NotANumber);
        };
        if line.contains('\t') {
            return Err(SqlGuardError::NotANumber);
        }
        if *line == "\\N" {
            return Ok(None);
        }
        line.parse::<f64>()
            .map(Some)
            .map_err(|_| SqlGuardError::NotANumber)
    }

    fn query_rows(
        &mut self,
        sql: &str,
        limit: Duration,
        max_rows: usize,
    ) -> Result<SqlRows, SqlGuardError> {
        // Names first; one row more than asked tells whether there were more. Without the
        // format's names line an empty result would have no columns.
        let text = self.fetch_format(sql, limit, max_rows as u64 + 1, "TabSeparatedWithNames")?;
        let mut lines = text.lines();
        let columns = lines
            .next()
            .map(|names| names.split('\t').map(unescape).collect())
            .unwrap_or_default();
        let mut out = SqlRows {
            columns,
            ..SqlRows::default()
        };
        for line in lines {
            if out.rows.len() == max_rows {
                out.truncated = true;
                break;
            }
            out.rows.push(
                line.split('\t')
                    .map(|cell| (cell != "\\N").then(|| unescape(cell)))
                    .collect(),
            );
        }
        Ok(out)
    }

    fn dialect(&self) -> &'static str {
        "ClickHouse"
    }
}

impl ClickHouseSqlRules {
    /// The query's result as TabSeparated text.
    fn fetch(&self, sql: &str, limit: Duration, max_rows: u64) -> Result<String, SqlGuardError> {
        self.fetch_format(sql, limit, max_rows, "TabSeparated")
    }

    /// Runs one read-only statement with the server's own limits on time, memory and rows.
    fn fetch_format(
        &self,
        sql: &str,
        limit: Duration,
        max_rows: u64,
        format: &str,
    ) -> Result<String, SqlGuardError> {
        let statement = sql.trim().trim_end_matches(';').trim_end();
        if statement.contains(';') {
            return Err(SqlGuardError::MultipleStatements);
        }
        let first = statement
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if first != "SELECT" && first != "WITH" {
            return Err(SqlGuardError::Writes);
        }
        let seconds = limit.as_secs_f64().ceil().max(1.0) as u64;
        let query = self
            .conn
            .client
            .query(statement)
            .with_setting("readonly", "2")
            .with_setting("max_execution_time", seconds.to_string())
            .with_setting("max_memory_usage", SQL_RULE_MEMORY_BYTES.to_string())
            .with_setting("max_result_rows", max_rows.to_string())
            .with_setting("result_overflow_mode", "break");
        let result = crate::block_on(&self.conn.runtime, async {
            let mut cursor = query.fetch_bytes(format)?;
            cursor.collect().await
        });
        match result {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) => {
                let text = e.to_string();
                Err(match error_code(&text) {
                    Some(159) => SqlGuardError::Timeout(describe_limit(limit)),
                    Some(241) => {
                        SqlGuardError::Memory(format!("{} MiB", SQL_RULE_MEMORY_BYTES >> 20))
                    }
                    Some(164) => SqlGuardError::Writes,
                    Some(396) | Some(158) => SqlGuardError::NotANumber,
                    _ => SqlGuardError::Failed(text),
                })
            }
        }
    }
}

/// A TabSeparated field's text (`\t`, `\n`, `\\` and the other escapes undone).
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tab_separated_escapes_are_undone() {
        assert_eq!(super::unescape(r"a\tb\nc\\d\'e"), "a\tb\nc\\d'e");
        assert_eq!(super::unescape("plain"), "plain");
        assert_eq!(super::unescape("ends\\"), "ends\\");
    }
}
