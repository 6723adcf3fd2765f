//! `pathwise loadtest` end to end, small and fast: the built-in work (pairwise dedupe, O(n²);
//! indexing, O(n)) recorded and analysed; a command driven with its step in the environment
//! and recording into the same store; and `pathwise report --scaling` over what was recorded.

mod common;

use common::{BIN, db_arg, pathwise, stderr, stdout};
use serde_json::Value;

const DEDUPE: &str = "SearchService.dedupe_results";
const INDEX: &str = "SearchService.index_results";

fn fit<'a>(json: &'a Value, node: &str) -> &'a Value {
    let report = json["scaling"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["node"] == node)
        .unwrap_or_else(|| panic!("no scaling of {node}: {json}"));
    assert!(report["fit"].is_object(), "{node}: {report}");
    &report["fit"]
}

#[test]
fn loadtest_drives_the_built_in_work_and_prints_the_exponents() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("load.db");
    let run = |format: &str| {
        pathwise(&[
            "loadtest",
            "--db",
            db_arg(&db),
            "--sizes",
            "16,32,64,128,256",
            "--concurrency",
            "1,2",
            "--requests",
            "6",
            "--format",
            format,
        ])
    };
    let output = run("text");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(&format!("SCALING OF {DEDUPE} BY dataset_count")),
        "{text}"
    );
    assert!(text.contains("≈ O(n"), "{text}");
    assert!(text.contains("exponent"), "{text}");
    assert!(
        text.contains("fitted 60"),
        "5 sizes × 2 levels × 6 requests: {text}"
    );
    let progress = stderr(&output);
    assert!(progress.contains("10 steps"), "{progress}");
    assert_eq!(progress.matches("requests in").count(), 10, "{progress}");

    // A second run is analysed alone (its own calls), here as JSON.
    let output = run("json");
    assert!(output.status.success(), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let (dedupe, index) = (fit(&json, DEDUPE), fit(&json, INDEX));
    let (quadratic, linear) = (
        dedupe["exponent"].as_f64().unwrap(),
        index["exponent"].as_f64().unwrap(),
    );
    // Real CPU time on a shared machine: the orders, not the decimals.
    assert!(
        quadratic > linear + 0.5,
        "dedupe {quadratic}, index {linear}"
    );
    assert!((0.6..1.4).contains(&linear), "index {linear}: {index}");
    assert_eq!(dedupe["super_linear"], true, "{dedupe}");
    assert_eq!(index["super_linear"], false, "{index}");
    assert_eq!(json["scaling"][0]["used"], 60);

    // The same store through `pathwise report --scaling`: everything recorded, both runs.
    let report = pathwise(&[
        "report",
        "--db",
        db_arg(&db),
        "--format",
        "json",
        "--scaling",
        &format!("{DEDUPE}=dataset_count"),
    ]);
    assert!(report.status.success(), "{}", stderr(&report));
    let json: Value = serde_json::from_str(&stdout(&report)).unwrap();
    assert!(json["hot_paths"].is_array(), "the report itself is there");
    assert_eq!(json["scaling"][0]["used"], 120);
    assert!(fit(&json, DEDUPE)["exponent"].as_f64().unwrap() > 1.3);
    let text = stdout(&pathwise(&[
        "report",
        "--db",
        db_arg(&db),
        "--scaling",
        &format!("{INDEX}=dataset_count"),
    ]));
    assert!(
        text.contains(&format!("SCALING OF {INDEX} BY dataset_count")),
        "{text}"
    );
    let html = stdout(&pathwise(&[
        "report",
        "--db",
        db_arg(&db),
        "--format",
        "html",
        "--scaling",
        &format!("{DEDUPE}=dataset_count"),
    ]));
    assert!(html.contains("<h2>Scaling of SearchService.dedupe_results by dataset_count</h2>"));
    assert!(html.trim_end().ends_with("</html>"));

    // What cannot be answered is refused as bad input.
    for (args, says) in [
        (
            vec!["--format", "csv", "--scaling", "a=b"],
            "one row per path",
        ),
        (vec!["--scaling", "no-equals-sign"], "expected NODE=FIELD"),
        (vec!["--scaling", "node=input."], "needs an argument name"),
    ] {
        let mut all = vec!["report", "--db", db_arg(&db)];
        all.extend(args);
        let output = pathwise(&all);
        assert_eq!(output.status.code(), Some(2), "{all:?}");
        assert!(
            stderr(&output).contains(says),
            "{all:?}: {}",
            stderr(&output)
        );
    }
    let csv = stdout(&run("csv"));
    assert!(csv.starts_with("node,size,calls,used,exponent,"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
}

/// The command is the `pathwise` binary itself, sizing its built-in work by the step it is
/// told and recording into the store named by `PATHWISE_STORE` (no `--db` given to it).
#[test]
fn loadtest_drives_a_command_that_records_into_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("command.db");
    let log = dir.path().join("steps.log");
    let script = format!(
        "echo \"$PATHWISE_LOAD_SIZE $PATHWISE_LOAD_CONCURRENCY $PATHWISE_LOAD_RUN\" >> '{}' && \
         \"$0\" loadtest --sizes \"$PATHWISE_LOAD_SIZE\" --concurrency \"$PATHWISE_LOAD_CONCURRENCY\" --requests 3",
        log.display()
    );
    let output = pathwise(&[
        "loadtest",
        "--db",
        db_arg(&db),
        "--sizes",
        "16,64,256",
        "--concurrency",
        "1,2",
        "--requests",
        "2",
        "--scaling",
        &format!("{DEDUPE}=dataset_count"),
        "--format",
        "json",
        "--",
        "sh",
        "-c",
        &script,
        BIN,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let steps = std::fs::read_to_string(&log).unwrap();
    let steps: Vec<&str> = steps.lines().collect();
    assert_eq!(
        steps,
        [
            "16 1 0", "16 1 1", "64 1 0", "64 1 1", "256 1 0", "256 1 1", "16 2 0", "16 2 1",
            "64 2 0", "64 2 1", "256 2 0", "256 2 1"
        ]
    );
    // The command's own output went to standard error: standard output is the analysis.
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["scaling"][0]["used"], 36, "12 runs × 3 requests");
    assert!(
        fit(&json, DEDUPE)["exponent"].as_f64().unwrap() > 1.3,
        "{json}"
    );
    assert!(
        stderr(&output).contains("SCALING OF"),
        "the runs' own analyses"
    );

    // A command needs to be told what to analyse; a failing command stops the test.
    let output = pathwise(&["loadtest", "--db", db_arg(&db), "--", "true"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--scaling NODE=FIELD"),
        "{}",
        stderr(&output)
    );
    let output = pathwise(&[
        "loadtest",
        "--db",
        db_arg(&db),
        "--sizes",
        "4,16",
        "--scaling",
        "a=n",
        "--",
        "false",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("failed"), "{}", stderr(&output));
    assert!(stderr(&output).contains("at size 4, concurrency 1, run 0"));
}
