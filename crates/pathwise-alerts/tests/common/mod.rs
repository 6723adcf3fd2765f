//! Shared test parts: a real HTTP receiver on a TcpListener and a settable signal source.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pathwise_alerts::{Rule, SignalSource};

pub const SEC: i64 = 1_000_000_000;
pub const T0: i64 = 1_790_000_000 * SEC;

/// Records the JSON bodies POSTed to it; answers 200, or never answers when `hang`.
pub struct Receiver {
    pub url: String,
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Receiver {
    pub fn start(hang: bool) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let sink = bodies.clone();
        std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if hang {
                    held.push(stream); // accepted, never read or answered
                    continue;
                }
                let sink = sink.clone();
                std::thread::spawn(move || serve(stream, sink));
            }
        });
        Receiver { url, bodies }
    }

    pub fn statuses(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["status"].as_str().unwrap().to_string())
            .collect()
    }

    /// Waits until `n` bodies arrived (or the timeout passed), then returns how many did.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.bodies.lock().unwrap().len();
            if got >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn serve(stream: TcpStream, sink: Arc<Mutex<Vec<serde_json::Value>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    sink.lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap());
    let mut stream = stream;
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

/// A signal the test sets by hand.
#[derive(Clone, Default)]
pub struct Knob(pub Arc<Mutex<Option<f64>>>);

impl Knob {
    pub fn set(&self, v: f64) {
        *self.0.lock().unwrap() = Some(v);
    }
}

impl SignalSource for Knob {
    fn value(&self, _rule: &Rule, _now_ns: i64) -> Result<Option<f64>, String> {
        Ok(*self.0.lock().unwrap())
    }
}

/// The SQLite alert store of `db` (created if needed).
pub fn alert_store(db: &std::path::Path) -> Box<dyn pathwise_store::alerts::AlertStateStore> {
    Box::new(pathwise_store_sqlite::SqliteAlertStore::open(db).unwrap())
}
