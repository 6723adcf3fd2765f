//! The accept loop: HTTP/1.1 on hyper with a header-read timeout (which hyper restarts when a
//! keep-alive connection goes idle, so it is the idle timeout too) and a cap on open
//! connections. At the cap a new connection takes the place of the oldest idle one, so a client
//! holding thousands of idle connections cannot lock others out: they are closed as others
//! arrive, and on their own after the timeout.
//!
//! HTTP/1.1 only: the dashboard, the exporters and OTLP/HTTP clients speak it, and detecting
//! HTTP/2 first (as `hyper_util`'s auto builder does) would read the preface with no timeout.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;

use crate::limits::Limits;

/// How long a connection past the cap waits for a place when no open connection is idle.
const ADMIT_WAIT: Duration = Duration::from_millis(250);

/// One open connection, as the cap sees it.
struct Open {
    /// Requests in progress, from their headers' arrival to the end of their response body.
    busy: Arc<AtomicUsize>,
    /// Closes the connection (asked only of an idle one).
    evict: Arc<Notify>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Table {
    next_id: u64,
    open: BTreeMap<u64, Open>,
}

impl Table {
    /// Takes the oldest connection with no request in progress off the table.
    fn take_oldest_idle(&mut self) -> Option<Open> {
        let id = *self
            .open
            .iter()
            .find(|(_, c)| c.busy.load(Ordering::Acquire) == 0)?
            .0;
        self.open.remove(&id)
    }
}

/// Counts a request as in progress while it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in progress finish and closes idle connections.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // At least one of each, or nothing could ever be served.
    let max_connections = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(max_connections));
    let table = Arc::new(Mutex::new(Table::default()));
    let (stop, stopping) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: the listener stays usable, so pause and go on.
                    eprintln!("pathwise server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(permit) = admit(&slots, &table).await else {
            continue; // dropping the stream closes it
        };
        let _ = stream.set_nodelay(true);
        spawn_connection(
            &http,
            stream,
            remote,
            app.clone(),
            permit,
            &table,
            stopping.clone(),
        );
    }
    drop(listener);
    // Every connection task holds a slot: all slots back means all connections are done.
    let _ = stop.send(());
    let _ = slots.acquire_many(max_connections as u32).await;
    Ok(())
}

/// A place for a new connection: a free slot, else the slot of the oldest idle connection
/// (closed for it), else one that frees within [`ADMIT_WAIT`]; `None` refuses the connection.
async fn admit(slots: &Arc<Semaphore>, table: &Mutex<Table>) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = slots.clone().try_acquire_owned() {
        return Some(permit);
    }
    if let Some(idle) = table.lock().take_oldest_idle() {
        idle.evict.notify_one();
    }
    tokio::time::timeout(ADMIT_WAIT, slots.clone().acquire_owned())
        .await
        .ok()?
        .ok()
}

fn spawn_connection(
    http: &hyper::server::conn::http1::Builder,
    stream: TcpStream,
    remote: SocketAddr,
    app: Router,
    permit: OwnedSemaphorePermit,
    table: &Arc<Mutex<Table>>,
    mut stopping: watch::Receiver<()>,
) {
    let busy = Arc::new(AtomicUsize::new(0));
    let evict = Arc::new(Notify::new());
    let id = {
        let mut table = table.lock();
        let id = table.next_id;
        table.next_id += 1;
        table.open.insert(
            id,
            Open {
                busy: busy.clone(),
                evict: evict.clone(),
            },
        );
        id
    };
    let in_progress = busy.clone();
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        // The client's address, for extractors (login attempts are limited per address).
        request.extensions_mut().insert(ConnectInfo(remote));
        let guard = InFlight::enter(&in_progress);
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await?;
            // The request stays in progress until its body is sent: the guard goes with it.
            Ok::<_, Infallible>(response.map(|body| {
                axum::body::Body::new(body.map_frame(move |frame| {
                    let _ = &guard;
                    frame
                }))
            }))
        }
    });
    let conn = http.serve_connection(TokioIo::new(stream), service);
    let table = table.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let mut conn = std::pin::pin!(conn);
        let mut draining = false;
        loop {
            tokio::select! {
                // Errors here are the client's (a reset, a header timeout): nothing to report.
                _ = conn.as_mut() => break,
                () = evict.notified() => {
                    if busy.load(Ordering::Acquire) == 0 {
                        break; // dropped: closed now, its slot goes to the new connection
                    }
                    // A request arrived since it was picked: answer it, then close.
                    conn.as_mut().graceful_shutdown();
                }
                changed = stopping.changed(), if !draining => {
                    let _ = changed;
                    draining = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
        table.lock().open.remove(&id);
    });
}
