//! A process that forks while recording: the child neither writes into its parent's pipeline
//! nor hangs on its threads, cannot take over the parent's data directory, and once it records
//! on its own (into the same database) makes ids that never collide with its parent's. Its own
//! binary with one test: forking a process that runs other tests' threads is asking for trouble.

use std::time::Duration;

use pathwise::Config;
use pathwise_store::ReadStore;
use pathwise_store_sqlite::SqliteReader;

const EACH: usize = 2_000;

fn record(name: &str) {
    for _ in 0..EACH {
        let _root = pathwise::span(name.to_string());
        let _child = pathwise::span("step");
    }
}

#[test]
fn a_forked_child_records_on_its_own_without_colliding_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pathwise.db");
    let config = Config {
        db_path: db.clone(),
        data_dir: Some(dir.path().join("parent.spool")),
        resource_interval: Some(Duration::from_millis(200)),
        ..Config::default()
    };
    let recording = pathwise::init(config.clone()).unwrap();
    {
        let _span = pathwise::span("parent.before");
    }
    // SAFETY: the child only uses Pathwise and exits with `_exit`, never returning into the
    // test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            in_child(&config, recording)
        }))
        .unwrap_or(4);
        // SAFETY: leaves the child without running the harness's exit path.
        unsafe { libc::_exit(code) };
    }
    record("parent.work");
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(libc::WIFEXITED(status), "the child did not exit: {status}");
    assert_eq!(libc::WEXITSTATUS(status), 0, "the child's checks failed");
    let stats = recording.shutdown();
    assert_eq!(stats.dropped, 0);

    let reader = SqliteReader::open(&db).unwrap();
    // Every span of both processes is there: no id of one replaced or hid one of the other.
    let spans = reader.error_rate_since(0).unwrap().spans;
    assert_eq!(spans as usize, 1 + 4 * EACH);
    assert_eq!(
        reader
            .trace_stats(&pathwise_store::TraceFilter::default())
            .unwrap()
            .total as usize,
        1 + 2 * EACH
    );
    // Ids are random, not the parent's sequence replayed: no child span shares an id with a
    // parent span (a copied generator would repeat every one of them).
    let shared: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM spans_v c JOIN spans_v p ON c.span_id = p.span_id
             WHERE c.path LIKE 'child.work%' AND p.path LIKE 'parent.work%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(shared, 0, "child spans reuse the parent's ids");
}

/// The child's checks; its exit code (0: all held).
fn in_child(config: &Config, parents: pathwise::Pathwise) -> i32 {
    // The parent's pipeline is not this process's: this span goes nowhere, at once.
    {
        let _span = pathwise::span("child.ignored");
    }
    // The guard copied from the parent lets go without waiting on threads only it has.
    drop(parents);
    // The directory is the parent's: refused, naming the parent.
    let refused = pathwise::init(config.clone()).err().map(|e| e.to_string());
    let parent = std::os::unix::process::parent_id().to_string();
    if !refused.is_some_and(|e| e.contains("in use") && e.contains(&parent)) {
        return 2;
    }
    // Its own directory, the same database.
    let mine = pathwise::init(Config {
        data_dir: Some(std::path::PathBuf::from(format!(
            "{}.child",
            config.data_dir().display()
        ))),
        ..config.clone()
    })
    .unwrap();
    record("child.work");
    let stats = mine.shutdown();
    if stats.dropped != 0 || stats.written != stats.recorded {
        return 3;
    }
    0
}
