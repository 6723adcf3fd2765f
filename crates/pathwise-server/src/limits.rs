//! The server's limits and timeouts, in one place so that operators find every figure (the
//! README's "Operating Pathwise" lists the defaults).

use std::time::Duration;

/// How much the server takes on before it says no.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time allowed for a request's headers to arrive, counted from when the connection opens
    /// or its previous response ends, so it is also the keep-alive idle timeout: a connection
    /// that sends nothing for this long is closed. Default 10 s.
    pub header_read_timeout: Duration,
    /// Longest a request may take, reading its body included; past it the answer is `503`.
    /// Default 30 s.
    pub request_timeout: Duration,
    /// Connections served at once. A new one past the cap takes the place of the oldest idle
    /// connection; when none is idle it waits briefly, then is closed. Default 1024.
    pub max_connections: usize,
    /// Longest a handler waits for the store or the alert engine; past it the answer is `503`
    /// with `Retry-After` (the query itself finishes in the background). Default 10 s.
    pub handler_budget: Duration,
    /// Store queries and alert-engine calls running at once, well under tokio's 512 blocking
    /// threads so that waiting work cannot starve the rest; past it the answer is `503` at once.
    /// Default 64.
    pub max_blocking: usize,
    /// How long a dashboard sign-in lasts. Default 12 h.
    pub session_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            handler_budget: Duration::from_secs(10),
            max_blocking: 64,
            session_ttl: Duration::from_secs(12 * 3600),
        }
    }
}

/// A `Retry-After` for a wait of `d`: whole seconds, rounded up, at least 1.
pub(crate) fn retry_after(d: Duration) -> u64 {
    d.as_secs()
        .saturating_add(u64::from(d.subsec_nanos() > 0))
        .max(1)
}
