//! A full disk, for real: the kernel refuses every write past a file-size limit
//! (`RLIMIT_FSIZE`; with `SIGXFSZ` ignored, `write` fails with `EFBIG`), to the SQLite file and
//! its log, to spill segments and to the error lane alike — what `ENOSPC` does, without the
//! privileges a small filesystem would need. The only test in this binary: the limit is
//! process-wide.

use std::time::{Duration, Instant};

use pathwise::Config;

#[derive(Debug)]
struct PaymentDeclined;

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment declined")
    }
}

impl std::error::Error for PaymentDeclined {}

#[pathwise::monitor(group = "checkout")]
fn charge(order: u64) -> Result<u64, PaymentDeclined> {
    if order.is_multiple_of(10) {
        Err(PaymentDeclined)
    } else {
        Ok(order)
    }
}

#[pathwise::monitor(group = "checkout")]
fn checkout(order: u64) -> u64 {
    // Most of a request's spans succeed; its `charge` fails for every tenth order.
    for step in 0..20 {
        let _s = pathwise::span("validate").attr("step", step);
    }
    charge(order).unwrap_or(0)
}

/// Sets the soft limit on the size of any file this process writes.
fn limit_file_size(bytes: libc::rlim_t) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
        limit.rlim_cur = bytes.min(limit.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count(db: &std::path::Path, sql: &str) -> u64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    let n: i64 = conn.query_row(sql, [], |row| row.get(0)).unwrap();
    n as u64
}

#[test]
fn a_full_disk_keeps_every_error_span_while_memory_lasts_and_counts_the_rest() {
    // SAFETY: ignoring a signal; the default action would kill the process at the limit.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pathwise.db");
    let recording = pathwise::init(Config {
        db_path: db.clone(),
        data_dir: Some(dir.path().join("spool")),
        resource_interval: None,
        // A small queue, so that producers outrun the writer and have to spill.
        queue_capacity: 2_000,
        shutdown_timeout: None,
        ..Config::default()
    })
    .unwrap();

    // Before: the disk has room.
    for order in 1..=9 {
        checkout(order);
    }
    assert!(recording.flush(Duration::from_secs(10)));
    let spans_before = count(&db, "SELECT count(*) FROM spans");
    assert_eq!(spans_before, 9 * 22);

    // The disk fills: no file may grow any more.
    limit_file_size(0);
    let orders = 2_000u64;
    let made_while_full = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2u64)
            .map(|w| {
                scope.spawn(move || {
                    for i in 0..orders / 2 {
                        checkout(1_000 + w * orders / 2 + i);
                    }
                    pathwise::flush_thread();
                })
            })
            .collect();
        workers.into_iter().for_each(|w| w.join().unwrap());
        orders * 22
    });
    let failures = orders / 10;
    // Every failed `charge` waits in memory.
    wait_until(
        "the error spans to reach the reserve",
        Duration::from_secs(30),
        || pathwise::reserved_errors() == failures,
    );
    let during = recording.stats();
    assert!(
        during.dropped > 0,
        "with no room on disk the successful spans are dropped (and counted): {during:?}"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM spans"),
        spans_before,
        "nothing could be written"
    );

    // Room again: the reserve is stored without anything being recorded anew.
    limit_file_size(libc::RLIM_INFINITY);
    wait_until("the reserve to be stored", Duration::from_secs(30), || {
        pathwise::reserved_errors() == 0
    });
    assert!(recording.flush(Duration::from_secs(30)));
    let stats = recording.shutdown();

    let failed_charges = count(
        &db,
        "SELECT count(*) FROM spans_v WHERE name = 'disk_full::charge' AND status = 'error'",
    );
    assert_eq!(
        failed_charges, failures,
        "every error span made while the disk was full is stored"
    );
    let stored = count(&db, "SELECT count(*) FROM spans");
    assert_eq!(
        stored - spans_before + stats.dropped,
        made_while_full,
        "every span made while the disk was full is stored or counted as dropped, none both: {stats:?}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("spool"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".damaged") || name.ends_with(".unreadable"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "a write cut short leaves no torn file behind: {leftovers:?}"
    );
}
