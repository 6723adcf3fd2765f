//! Recording into a real SQLite file: what lands, zero loss under overload, retention and the
//! clear errors for bad setups. One test at a time: recording is process-global.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use pathwise::Config;
use pathwise_model::{Record, SpanKind, SpanRecord, TraceId};
use pathwise_store::{ReadStore, Store, TraceFilter};
use pathwise_store_sqlite::{SqliteReader, SqliteStore};
use rusqlite::Connection;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn traces_spans_paths_and_stats_land_in_the_database() {
    let _serial = serial();
    let (_dir, db) = common::temp_db();
    let pathwise = pathwise::init(Config {
        db_path: db.clone(),
        // The record counts below are exact.
        resource_interval: None,
        ..Config::default()
    })
    .unwrap();
    for i in 0..20 {
        let _root = pathwise::span("SearchService.search");
        let _geo = pathwise::span("GEOClient.search");
        if i == 3 {
            let mut cache = pathwise::span("GEOCache.get");
            cache.fail("CacheError", "evicted");
        }
    }
    let running = pathwise::trace("long-decision").metadata("customer", "acme");
    let thinking = running.step("thinking");
    assert!(pathwise.flush(Duration::from_secs(10)));
    // While the decision runs, it is visible as running to any reader, including sqlite3.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM traces_v WHERE status = 'running' AND metadata LIKE '%acme%'"
        ),
        1
    );
    // The sqlite3 CLI (installed by .ci/run) reads the live file too.
    if let Ok(out) = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*) FROM spans_v WHERE path LIKE 'SearchService.search → %'")
        .output()
    {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "21");
    }
    drop(thinking);
    drop(running);
    let stats = pathwise.shutdown();
    assert_eq!(
        (stats.dropped, stats.recorded, stats.written),
        (0, 44, 44),
        "{stats:?}"
    );

    let reader = SqliteReader::open(&db).unwrap();
    let page = reader
        .list_traces(&TraceFilter {
            limit: 100,
            ..TraceFilter::default()
        })
        .unwrap();
    assert_eq!(page.traces.len(), 21);
    let failed: Vec<_> = page.traces.iter().filter(|t| t.error_count > 0).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].span_count, 3);
    let spans = reader.spans(failed[0].trace_id, None, 100).unwrap();
    let cache = spans.iter().find(|s| s.name == "GEOCache.get").unwrap();
    assert_eq!(
        cache.path,
        "SearchService.search → GEOClient.search → GEOCache.get"
    );
    assert_eq!(cache.error_type.as_deref(), Some("CacheError"));
    assert_eq!(cache.error_message.as_deref(), Some("evicted"));
    let decision = page
        .traces
        .iter()
        .find(|t| t.name == "long-decision")
        .unwrap();
    assert_eq!(decision.status.as_str(), "completed");
    let latest = reader.latest_pipeline_stats().unwrap().unwrap();
    assert_eq!((latest.written, latest.dropped), (44, 0));
    // Keyset pagination walks every trace exactly once.
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let page = reader
            .list_traces(&TraceFilter {
                limit: 4,
                cursor,
                ..TraceFilter::default()
            })
            .unwrap();
        seen += page.traces.len();
        match page.next_cursor {
            Some(next) => cursor = pathwise_store::Cursor::decode(&next),
            None => break,
        }
    }
    assert_eq!(seen, 21);
}

#[test]
fn overload_spills_to_disk_and_loses_nothing() {
    let _serial = serial();
    let (_dir, db) = common::temp_db();
    let config = Config {
        db_path: db.clone(),
        queue_capacity: 1024,
        // Everything is written before shutdown returns, however long replay takes.
        shutdown_timeout: None,
        ..Config::default()
    };
    let pathwise = pathwise::init(config).unwrap();
    let producers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..5_000 {
                    let _root = pathwise::span("burst");
                    for _ in 0..9 {
                        let _child = pathwise::span("child");
                    }
                }
            })
        })
        .collect();
    producers.into_iter().for_each(|p| p.join().unwrap());
    let stats = pathwise.shutdown();
    assert_eq!(stats.dropped, 0);
    assert!(
        stats.spilled > 0,
        "a 1024-record queue must have spilled: {stats:?}"
    );
    assert_eq!(stats.replayed, stats.spilled);
    assert_eq!(count(&db, "SELECT count(*) FROM spans"), 200_000);
    assert_eq!(count(&db, "SELECT count(*) FROM traces"), 20_000);
    assert_eq!(count(&db, "SELECT sum(span_count) FROM traces"), 200_000);
    let spool = db.with_extension("db.spool");
    let leftovers = std::fs::read_dir(spool)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "pathwise.lock")
        .count();
    assert_eq!(leftovers, 0, "replayed segments are deleted");
}

#[test]
fn retention_deletes_old_rows_only() {
    let (_dir, db) = common::temp_db();
    let mut store = SqliteStore::open(&db).unwrap();
    let now_ms = 1_800_000_000_000u64;
    let records: Vec<Record> = [now_ms - 10 * 86_400_000, now_ms - 3_600_000, now_ms]
        .iter()
        .enumerate()
        .map(|(i, ms)| {
            let mut span = SpanRecord::new(
                TraceId::from_parts(*ms, i as u128),
                1,
                0,
                "op".into(),
                SpanKind::Span,
            );
            span.start_ns = *ms as i64 * 1_000_000;
            Record::Span(span)
        })
        .collect();
    store.write_records(&records).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM rollup_minute"), 3);
    store.delete_before(now_ms - 7 * 86_400_000).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM spans"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM rollup_minute"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM rollup_hour"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM traces"), 2);
    assert_eq!(
        count(&db, "SELECT min(start_ns) FROM traces"),
        (now_ms as i64 - 3_600_000) * 1_000_000
    );
}

#[test]
fn bad_setups_are_clear_errors_not_panics() {
    let _serial = serial();
    let invalid = pathwise::init(Config {
        sample_rate: f64::NAN,
        ..Config::default()
    });
    assert!(matches!(
        invalid,
        Err(pathwise::InitError::InvalidConfig(_))
    ));

    let unwritable = pathwise::init(Config {
        db_path: "/proc/no/such/dir/p.db".into(),
        ..Config::default()
    });
    let message = unwritable.err().unwrap().to_string();
    assert!(message.contains("/proc/no/such/dir/p.db"), "{message}");

    let (_dir, db) = common::temp_db();
    SqliteStore::open(&db).unwrap();
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let newer = pathwise::init(Config {
        db_path: db.clone(),
        ..Config::default()
    });
    let message = newer.err().unwrap().to_string();
    assert!(message.contains("newer"), "{message}");
    assert!(SqliteReader::open(&db).is_err());

    let not_a_db = db.with_extension("txt");
    std::fs::write(&not_a_db, "hello, I am text").unwrap();
    assert!(
        pathwise::init(Config {
            db_path: not_a_db,
            ..Config::default()
        })
        .is_err()
    );
}

#[test]
fn a_second_init_is_refused_while_one_runs() {
    let _serial = serial();
    let (_dir, db) = common::temp_db();
    let first = pathwise::init(Config {
        db_path: db.clone(),
        ..Config::default()
    })
    .unwrap();
    let second = pathwise::init(Config {
        db_path: db,
        ..Config::default()
    });
    assert!(matches!(second, Err(pathwise::InitError::Pipeline(_))));
    drop(first);
}

/// A request whose root stays open (here, for as long as the test likes) on a thread that has
/// gone quiet: the spans that already ended are in the store within a second, not when the
/// root ends or the thread's buffer fills.
#[test]
fn spans_of_a_quiet_thread_under_an_open_root_are_stored_within_a_second() {
    let _serial = serial();
    if !pathwise_pipeline::timed_handover_available() {
        eprintln!(
            "no process-wide memory barrier here: buffers are handed over by their threads only"
        );
        return;
    }
    let (_dir, db) = common::temp_db();
    let pathwise = pathwise::init(Config {
        db_path: db.clone(),
        resource_interval: None,
        ..Config::default()
    })
    .unwrap();
    let (ended, children_ended) = std::sync::mpsc::channel::<std::time::Instant>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let request = std::thread::spawn(move || {
        let _root = pathwise::span("slow-request");
        for i in 0..3 {
            let _child = pathwise::span(format!("step-{i}"));
        }
        ended.send(std::time::Instant::now()).unwrap();
        // Quiet: blocked in something slow, recording nothing, the root still open.
        released.recv().unwrap();
    });
    let at = children_ended.recv().unwrap();
    let children = "SELECT count(*) FROM spans_v WHERE name LIKE 'step-%'";
    while count(&db, children) < 3 {
        assert!(
            at.elapsed() < Duration::from_secs(1),
            "the ended spans were not stored within 1 s of ending"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let visible_after = at.elapsed();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM spans_v WHERE name = 'slow-request'"
        ),
        0
    );
    release.send(()).unwrap();
    request.join().unwrap();
    let stats = pathwise.shutdown();
    assert_eq!(
        (stats.dropped, stats.recorded, stats.written),
        (0, 4, 4),
        "{stats:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM spans_v"), 4);
    eprintln!("stored {visible_after:?} after they ended");
}
