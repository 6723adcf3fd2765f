//! The statement normaliser, case by case: what must become `?`, what must stay as written.
//! (Kept here rather than beside the code: `scripts/check-seams` allows no SQL text in the
//! SDK's sources, and these cases are all SQL.)

use pathwise::db::normalize_statement;

fn sqlite(statement: &str) -> String {
    normalize_statement("sqlite", statement)
}

#[test]
fn numbers_of_every_form_become_placeholders() {
    assert_eq!(
        sqlite("SELECT * FROM t WHERE a = 42 AND b = 3.25 AND c = .5 AND d = 1e10 AND e = 2.5E-3"),
        "SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ? AND e = ?"
    );
    assert_eq!(
        sqlite("UPDATE t SET flags = 0x1F, mask = 0XfF WHERE id=7"),
        "UPDATE t SET flags = ?, mask = ? WHERE id=?"
    );
}

#[test]
fn negative_numbers_are_one_value_but_subtraction_stays() {
    assert_eq!(
        sqlite("SELECT * FROM t WHERE a = -42 AND b > - 1.5 AND c IN (-1, +2)"),
        "SELECT * FROM t WHERE a = ? AND b > ? AND c IN (?)"
    );
    assert_eq!(
        sqlite("SELECT a - 1, a-1, (b) - 2, f(x) -3 FROM t LIMIT -1"),
        "SELECT a - ?, a-?, (b) - ?, f(x) -? FROM t LIMIT ?"
    );
    assert_eq!(sqlite("SELECT -1"), "SELECT ?");
    assert_eq!(
        sqlite("SELECT CASE WHEN x THEN -1 ELSE -2 END - 3"),
        "SELECT CASE WHEN x THEN ? ELSE ? END - ?"
    );
}

#[test]
fn strings_with_escaped_quotes_are_one_value() {
    assert_eq!(
        sqlite("SELECT * FROM users WHERE name = 'O''Brien' AND note = '' AND x = 'a''''b'"),
        "SELECT * FROM users WHERE name = ? AND note = ? AND x = ?"
    );
    // Standard SQL: a backslash is an ordinary character, the quote after it closes.
    assert_eq!(
        sqlite("SELECT * FROM t WHERE path = 'C:\\' AND y = 'z'"),
        "SELECT * FROM t WHERE path = ? AND y = ?"
    );
    // MySQL: a backslash escapes the quote; "…" is a string too.
    assert_eq!(
        normalize_statement(
            "mysql",
            "SELECT * FROM t WHERE a = 'it\\'s' AND b = \"say \\\"hi\\\"\" AND c = 'd''e'"
        ),
        "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?"
    );
    // PostgreSQL escape strings and dollar quoting.
    assert_eq!(
        normalize_statement(
            "postgresql",
            "SELECT E'it\\'s', $$a 'quoted' $ b$$, $fn$ body; $$ $fn$, 'plain'"
        ),
        "SELECT ?, ?, ?, ?"
    );
}

#[test]
fn unclosed_strings_never_leak_the_rest() {
    assert_eq!(
        sqlite("SELECT * FROM t WHERE secret = 'hunter2 AND other = 1"),
        "SELECT * FROM t WHERE secret = ?"
    );
    assert_eq!(sqlite("SELECT $$never closed"), "SELECT ?");
}

#[test]
fn hex_blob_bit_and_national_literals_become_placeholders() {
    assert_eq!(
        sqlite("INSERT INTO files (hash, bits, label) VALUES (X'DEADbeef', B'0101', N'naïve')"),
        "INSERT INTO files (hash, bits, label) VALUES (?, ?, ?)"
    );
    assert_eq!(
        sqlite("SELECT x'00' FROM blobs WHERE b = x'FF'"),
        "SELECT ? FROM blobs WHERE b = ?"
    );
}

#[test]
fn identifiers_with_digits_and_quoted_identifiers_stay() {
    assert_eq!(
        sqlite(
            "SELECT t1.col2, \"Order 2024\".\"3d\", `weird``name` FROM t1 JOIN t2 ON t1.id = t2.t1_id WHERE t1.v9 = 9"
        ),
        "SELECT t1.col2, \"Order 2024\".\"3d\", `weird``name` FROM t1 JOIN t2 ON t1.id = t2.t1_id WHERE t1.v9 = ?"
    );
    assert_eq!(
        sqlite("SELECT 1st_place FROM podium"),
        "SELECT 1st_place FROM podium"
    );
    assert_eq!(
        sqlite("SELECT a FROM t WHERE b = -1st_place"),
        "SELECT a FROM t WHERE b = -1st_place"
    );
    assert_eq!(
        sqlite("SELECT naïve_col2 FROM café"),
        "SELECT naïve_col2 FROM café"
    );
}

#[test]
fn placeholders_stay_as_written() {
    assert_eq!(
        sqlite("SELECT * FROM t WHERE a = ? AND b = ?2 AND c = :name AND d = @other AND e = $tcl"),
        "SELECT * FROM t WHERE a = ? AND b = ?2 AND c = :name AND d = @other AND e = $tcl"
    );
    assert_eq!(
        normalize_statement(
            "postgresql",
            "SELECT * FROM t WHERE a = $1 AND b = $12::int"
        ),
        "SELECT * FROM t WHERE a = $1 AND b = $12::int"
    );
    assert_eq!(
        normalize_statement("postgresql", "SELECT '2024-01-01'::date, x::text FROM t"),
        "SELECT ?::date, x::text FROM t"
    );
}

#[test]
fn in_lists_collapse_to_one_value() {
    assert_eq!(
        sqlite("SELECT * FROM t WHERE id IN (1, 2, 3) AND k NOT IN ('a','b') AND z in ( ?, ?, ? )"),
        "SELECT * FROM t WHERE id IN (?) AND k NOT IN (?) AND z in (?)"
    );
    assert_eq!(
        normalize_statement("postgresql", "DELETE FROM t WHERE id IN ($1, $2, $3)"),
        "DELETE FROM t WHERE id IN (?)"
    );
    // Lists of anything else (a subquery, expressions) are left alone.
    assert_eq!(
        sqlite("SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = 1) OR x IN (a, b + 1)"),
        "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE v = ?) OR x IN (a, b + ?)"
    );
    // Every length gives the same text.
    let one = sqlite("SELECT * FROM t WHERE id IN (7)");
    let many = sqlite("SELECT * FROM t WHERE id IN (7, 8, 9, 10, 11)");
    assert_eq!(one, many);
}

#[test]
fn repeated_value_rows_are_kept_once() {
    assert_eq!(
        sqlite("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')"),
        "INSERT INTO t (a, b) VALUES (?, ?)"
    );
    assert_eq!(
        normalize_statement(
            "postgresql",
            "INSERT INTO t VALUES ($1, $2), ($3, $4) RETURNING id"
        ),
        "INSERT INTO t VALUES ($1, $2) RETURNING id"
    );
    // Rows of another shape stay.
    assert_eq!(
        sqlite("INSERT INTO t VALUES (1, now()), (2, 3)"),
        "INSERT INTO t VALUES (?, now()), (?, ?)"
    );
}

#[test]
fn comments_and_whitespace_go() {
    assert_eq!(
        sqlite(
            "  SELECT a,\n\t\tb -- the columns\nFROM /* outer /* nested */ still comment */ t\r\n  WHERE c = 1 ;  "
        ),
        "SELECT a, b FROM t WHERE c = ?"
    );
    assert_eq!(sqlite("SELECT a/**/FROM t"), "SELECT a FROM t");
    assert_eq!(
        normalize_statement("mysql", "SELECT a # the column\nFROM t"),
        "SELECT a FROM t"
    );
    // `#` is an operator outside MySQL, `--` inside a string is text.
    assert_eq!(
        normalize_statement(
            "postgresql",
            "SELECT data #> '{a,b}' FROM t WHERE s = '--x'"
        ),
        "SELECT data #> ? FROM t WHERE s = ?"
    );
    assert_eq!(sqlite("SELECT 1; SELECT 2;;"), "SELECT ?; SELECT ?");
}

#[test]
fn statements_that_differ_only_in_values_are_one_statement() {
    let a = sqlite("SELECT name FROM users WHERE id = 42 AND tag = 'red' /* request 1 */");
    let b = sqlite("SELECT   name FROM users\nWHERE id = 43 AND tag = 'blue' /* request 2 */");
    assert_eq!(a, b);
    assert_eq!(a, "SELECT name FROM users WHERE id = ? AND tag = ?");
}

#[test]
fn nothing_and_odd_input_do_not_panic() {
    assert_eq!(sqlite(""), "");
    assert_eq!(sqlite("   -- only a comment"), "");
    for odd in [
        "'", "\"", "`", "/*", "$", "$a", "0x", "-", "- -", "?", ":", "@", "é'", "1e", "1e+",
    ] {
        let _ = sqlite(odd);
        let _ = normalize_statement("mysql", odd);
        let _ = normalize_statement("postgresql", odd);
    }
}
