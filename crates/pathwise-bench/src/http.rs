//! The real server, started in-process on a loopback port, and a real HTTP client to time it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use pathwise_server::{Server, ServerConfig};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::BoxError;
use crate::report::Latencies;

/// A running server and a keep-alive client talking to it.
pub struct LiveServer {
    runtime: Runtime,
    base: String,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

/// A timed response.
pub struct Timed {
    pub elapsed: Duration,
    pub body: Vec<u8>,
}

impl Timed {
    pub fn json(&self) -> Result<serde_json::Value, BoxError> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

impl LiveServer {
    /// Binds `127.0.0.1:0` over `db` and serves on a 2-worker runtime (the machine's cores).
    pub fn start(db: &Path) -> Result<Self, BoxError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let config = ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..ServerConfig::new(std::sync::Arc::new(
                pathwise_store_sqlite::SqliteBackend::open(db)?,
            ))
        };
        let server = runtime.block_on(Server::bind(config))?;
        let base = format!("http://{}", server.local_addr());
        let (tx, rx) = oneshot::channel::<()>();
        runtime.spawn(server.run_until(async {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .build()?;
        Ok(LiveServer {
            runtime,
            base,
            client,
            shutdown: Some(tx),
        })
    }

    /// One `GET`, timed from sending the request to the last byte of the body. Anything but
    /// 2xx is an error.
    pub fn get(&self, path: &str) -> Result<Timed, BoxError> {
        let url = format!("{}{path}", self.base);
        self.runtime.block_on(async {
            let start = Instant::now();
            let response = self.client.get(&url).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            let elapsed = start.elapsed();
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body);
                return Err(format!("GET {path}: {status}: {text}").into());
            }
            Ok(Timed {
                elapsed,
                body: body.to_vec(),
            })
        })
    }

    /// `warmup` untimed requests, then `runs` timed ones (fewer when one request takes more
    /// than a second: at least 5, at most 60 s in all).
    pub fn time(&self, path: &str, runs: usize, warmup: usize) -> Result<Latencies, BoxError> {
        let mut first = Duration::ZERO;
        for _ in 0..warmup.max(1) {
            first = self.get(path)?.elapsed;
        }
        let runs = adapt_runs(runs, first);
        let mut latencies = Latencies::default();
        for _ in 0..runs {
            latencies.push(self.get(path)?.elapsed);
        }
        Ok(latencies)
    }
}

/// Runs to make of something whose first run took `first`: all of them when fast, otherwise
/// as many as fit in about a minute, at least 5.
pub fn adapt_runs(runs: usize, first: Duration) -> usize {
    if first <= Duration::from_secs(1) {
        return runs;
    }
    let fit = (60.0 / first.as_secs_f64()) as usize;
    runs.min(fit.max(5))
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
