//! `pathwise alerts check` runs what an evaluation runs (the rules file's durations within
//! their bounds, the store's SQL guard, every signal read once) and prints one readable line
//! per rule; `alerts list` prints the engine's saved state.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use common::pathwise;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A small demo database, recorded once for the tests of this binary.
fn db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        let out = pathwise(&[
            "demo",
            "--iterations",
            "50",
            "--no-serve",
            "--db",
            db.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        (dir, db)
    })
    .1
}

/// `alerts check` of `rules` against the demo database.
fn check(rules: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.toml");
    std::fs::write(&file, rules).unwrap();
    pathwise(&[
        "alerts",
        "check",
        file.to_str().unwrap(),
        "--db",
        db().to_str().unwrap(),
    ])
}

fn sql_rule(name: &str, query: &str) -> String {
    format!(
        "[[rule]]\nname = \"{name}\"\nkind = \"sql\"\nquery = \"{query}\"\nop = \">\"\nthreshold = 0\n\n"
    )
}

#[test]
fn valid_rules_print_one_readable_line_each_with_the_value_now() {
    let rules = format!(
        "check_interval = \"5s\"\n\n[[rule]]\nname = \"errors\"\nkind = \"threshold\"\nsignal = \"error_rate\"\nwindow = \"5m\"\nop = \">\"\nthreshold = 0.05\nseverity = \"critical\"\n\n{}",
        sql_rule("spans", "SELECT count(*) FROM spans")
    );
    let out = check(&rules);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(!stdout.contains("\\n"), "no literal escapes: {stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and one line per rule: {stdout}");
    assert!(lines[0].ends_with("2 rules, checked every 5s"), "{stdout}");
    assert!(
        lines[1].starts_with("ok ")
            && lines[1].contains("errors (critical, threshold error_rate of overall over 5m)")
            && lines[1].contains("fires when > 0.05"),
        "{stdout}"
    );
    assert!(
        lines[2].starts_with("ok ") && lines[2].contains("spans (warning, sql"),
        "{stdout}"
    );
}

#[test]
fn the_stores_sql_guard_refuses_what_evaluation_would() {
    let cases = [
        ("drop", "DROP TABLE spans", "query writes"),
        ("attach", "ATTACH DATABASE 'x.db' AS x", "ATTACH"),
        ("pragma", "PRAGMA cache_size = 1000000", "PRAGMA"),
        ("two", "SELECT 1; SELECT 2", "single statement"),
        ("typo", "SELECT count(*) FROM spanz", "no such table"),
        ("text", "SELECT 'x'", "one number"),
    ];
    let rules: String = cases
        .iter()
        .map(|(name, query, _)| sql_rule(name, query))
        .collect();
    let out = check(&format!("{}{rules}", sql_rule("fine", "SELECT 1")));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        text(&out.stderr).contains("6 of 7 rules"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ok ") && l.contains("fine")),
        "{stdout}"
    );
    for (name, _, reason) in cases {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} (")))
            .unwrap_or_else(|| panic!("no line for {name}: {stdout}"));
        assert!(
            line.starts_with("problem ") && line.contains(reason),
            "{name}: {line}"
        );
        assert!(
            line.contains("alerts.toml:"),
            "names the file and line: {line}"
        );
    }
}

#[test]
fn durations_out_of_bounds_are_refused_with_their_line() {
    for (setting, line) in [
        (
            "[[rule]]\nname = \"slow\"\nkind = \"sql\"\nquery = \"SELECT 1\"\nop = \">\"\nthreshold = 0\ntimeout = \"100y\"\n",
            7,
        ),
        ("check_interval = \"0s\"\n", 1),
        (
            "[[rule]]\nname = \"w\"\nkind = \"threshold\"\nsignal = \"p95_ms\"\nop = \">\"\nthreshold = 1\nwindow = \"1000y\"\n",
            7,
        ),
    ] {
        let out = check(setting);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{setting}: {stderr}");
        assert!(
            stderr.contains(&format!("alerts.toml:{line}: ")),
            "{setting}: {stderr}"
        );
        assert!(stderr.contains("must be from"), "{setting}: {stderr}");
    }
}

#[test]
fn check_without_a_store_says_so_and_list_reads_saved_state() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alerts.toml");
    std::fs::write(&file, sql_rule("spans", "SELECT count(*) FROM spans")).unwrap();
    let missing = dir.path().join("missing.db");
    let out = pathwise(&[
        "alerts",
        "check",
        file.to_str().unwrap(),
        "--db",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no database at"),
        "{}",
        text(&out.stderr)
    );

    let copy = dir.path().join("alerts.db");
    std::fs::copy(db(), &copy).unwrap();
    let listed = pathwise(&["alerts", "list", "--db", copy.to_str().unwrap()]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert_eq!(text(&listed.stdout), "no active alerts\n");
}
