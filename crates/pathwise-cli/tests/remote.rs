//! The SDK's remote exporter against a real `pathwise serve` in another process, which is
//! stopped for 10 s in the middle of the run: every span arrives, none twice, in order of
//! recording per thread, and the server's analytics count each call once.

mod remote_support;

use std::time::{Duration, Instant};

use pathwise_store::{Backend, Window};
use remote_support::{TOKEN, free_port, start_server, stop};

#[test]
fn spans_recorded_while_the_server_is_down_arrive_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    // An empty database the server can open.
    drop(pathwise_store_sqlite::SqliteBackend::create(&db).unwrap());
    let port = free_port();
    let mut server = Some(start_server(&db, port));

    let pathwise = pathwise::init(pathwise::Config {
        data_dir: Some(dir.path().join("app-spool")),
        export: vec![pathwise::Export::Pathwise {
            url: format!("http://127.0.0.1:{port}"),
            key: Some(TOKEN.into()),
        }],
        keep_local: false,
        resource_interval: None,
        flush_interval: Duration::from_millis(50),
        ..pathwise::Config::default()
    })
    .unwrap();

    // ~14 s of requests, each a root with two children; the server is away from 2 s to 12 s.
    let started = Instant::now();
    let mut requests = 0u64;
    let mut restarted = false;
    while started.elapsed() < Duration::from_secs(14) {
        {
            let _root = pathwise::span("remote.request");
            let _a = pathwise::span("remote.load");
            drop(_a);
            let _b = pathwise::span("remote.render");
        }
        requests += 1;
        let t = started.elapsed();
        if t > Duration::from_secs(2) && server.is_some() && !restarted {
            stop(server.take().unwrap());
        }
        if t > Duration::from_secs(12) && !restarted {
            server = Some(start_server(&db, port));
            restarted = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = pathwise.shutdown();
    let server = server.unwrap();
    assert_eq!(stats.dropped, 0);
    // The records made while the server was away waited on disk.
    assert!(stats.spilled > 0, "{stats:?}");
    eprintln!("{requests} requests; {stats:?}");
    stop(server);

    let backend = pathwise_store_sqlite::SqliteBackend::open(&db).unwrap();
    let reader = backend.reader().unwrap();
    let rollups = reader.path_rollups(Window::all()).unwrap();
    let calls = |path: &str| {
        rollups
            .iter()
            .filter(|r| r.path.text == path)
            .map(|r| r.bucket.calls)
            .sum::<i64>()
    };
    assert!(requests > 500, "only {requests} requests in 14 s");
    assert_eq!(calls("remote.request"), requests as i64);
    assert_eq!(calls("remote.request → remote.load"), requests as i64);
    assert_eq!(calls("remote.request → remote.render"), requests as i64);
    // None twice: the file holds exactly three spans per request.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let spans: i64 = conn
        .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
        .unwrap();
    assert_eq!(spans, 3 * requests as i64);
}
