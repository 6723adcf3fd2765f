//! `pathwise sql`: a read-only query against the store, in its own dialect, with the payload
//! columns readable (`pw_text(output)` on SQLite, or the `span_details_v` view).

use pathwise_store::alerts::SqlRows;

use crate::SqlArgs;
use crate::error::{CliError, open_backend};

/// Runs `pathwise sql`.
pub fn run(args: &SqlArgs) -> Result<(), CliError> {
    let backend = open_backend(&args.db.db)?;
    let mut sql = backend
        .sql_rules()
        .map_err(|e| CliError::store(&args.db.db, e))?;
    let rows = sql
        .query_rows(&args.query, args.timeout, args.max_rows as usize)
        .map_err(|e| CliError::Input(format!("{} refused the query: {e}", sql.dialect())))?;
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n",
        "tsv" => tsv(&rows),
        _ => table(&rows),
    };
    crate::format::emit(&text)?;
    if rows.truncated {
        eprintln!(
            "pathwise: showing the first {} rows (--max-rows raises the limit)",
            args.max_rows
        );
    }
    Ok(())
}

/// Tab-separated with a header line; tabs and newlines inside values are escaped.
fn tsv(rows: &SqlRows) -> String {
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
    };
    let mut out = rows
        .columns
        .iter()
        .map(|c| escape(c))
        .collect::<Vec<_>>()
        .join("\t")
        + "\n";
    for row in &rows.rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| cell.as_deref().map_or("\\N".into(), escape))
            .collect();
        out += &(cells.join("\t") + "\n");
    }
    out
}

/// Columns padded to their widest value (at most 60 characters, longer values cut with `…`).
fn table(rows: &SqlRows) -> String {
    const WIDEST: usize = 60;
    let shown = |cell: &Option<String>| match cell {
        Some(text) => crate::format::excerpt(text, WIDEST),
        None => "NULL".into(),
    };
    let cells: Vec<Vec<String>> = rows
        .rows
        .iter()
        .map(|r| r.iter().map(shown).collect())
        .collect();
    let widths: Vec<usize> = (0..rows.columns.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([rows.columns[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: &[String]| {
        values
            .iter()
            .zip(&widths)
            .map(|(v, w)| crate::format::cell(v, *w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
            + "\n"
    };
    let mut out = line(&rows.columns);
    for row in &cells {
        out += &line(row);
    }
    out += &format!("({} rows)\n", rows.rows.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SqlRows {
        SqlRows {
            columns: vec!["name".into(), "output".into()],
            rows: vec![
                vec![Some("GEOCache.get".into()), Some("a\tb\nc".into())],
                vec![Some("x".into()), None],
            ],
            truncated: false,
        }
    }

    #[test]
    fn tsv_escapes_what_would_break_a_line_or_a_column() {
        assert_eq!(
            tsv(&sample()),
            "name\toutput\nGEOCache.get\ta\\tb\\nc\nx\t\\N\n"
        );
    }

    #[test]
    fn table_pads_columns_and_counts_rows() {
        let text = table(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "name          output");
        assert!(lines[2].starts_with("x             NULL"));
        assert_eq!(lines[3], "(2 rows)");
    }
}
