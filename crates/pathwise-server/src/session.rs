//! Dashboard sign-ins: the cookie holds a random session id, never the credential, and the
//! server keeps what it stands for until it expires. Sign-in attempts are rate-limited per
//! client address and overall, so a token cannot be guessed at thousands of tries a second.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use rand::RngCore;

use crate::error::ApiError;

/// Sign-ins kept at once; past it the one closest to expiry makes room.
const MAX_SESSIONS: usize = 10_000;
/// Attempts per second from one client address, and the burst allowed.
const PER_CLIENT: (u32, u32) = (5, 10);
/// Attempts per second from everyone together, and the burst allowed.
const OVERALL: (u32, u32) = (20, 40);

struct Session {
    /// The token or API key that signed in: checked again on every request, so a revoked key
    /// ends its sessions.
    credential: String,
    expires: Instant,
}

/// Sessions by id.
pub struct Sessions {
    ttl: Duration,
    by_id: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// No sessions yet; each lasts `ttl`.
    pub fn new(ttl: Duration) -> Sessions {
        Sessions {
            ttl,
            by_id: Mutex::new(HashMap::new()),
        }
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A new session for `credential`; returns its id (64 hex digits, 256 random bits).
    pub fn open(&self, credential: &str) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut sessions = self.by_id.lock();
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS {
            let soonest = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(id, _)| id.clone());
            if let Some(soonest) = soonest {
                sessions.remove(&soonest);
            }
        }
        sessions.insert(
            id.clone(),
            Session {
                credential: credential.to_string(),
                expires: now + self.ttl,
            },
        );
        id
    }

    /// The credential of session `id`, while it has not expired.
    pub fn credential(&self, id: &str) -> Option<String> {
        let mut sessions = self.by_id.lock();
        let session = sessions.get(id)?;
        if session.expires <= Instant::now() {
            sessions.remove(id);
            return None;
        }
        Some(session.credential.clone())
    }
}

/// Rate limits of `POST /login`.
pub struct LoginLimiter {
    per_client: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>,
    overall: DefaultDirectRateLimiter,
}

fn quota((per_second, burst): (u32, u32)) -> Quota {
    let nonzero = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(nonzero(per_second)).allow_burst(nonzero(burst))
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            per_client: RateLimiter::hashmap(quota(PER_CLIENT)),
            overall: RateLimiter::direct(quota(OVERALL)),
        }
    }
}

impl LoginLimiter {
    /// Counts an attempt from `client` (unknown when served without an address); `429` with
    /// `Retry-After` past either limit.
    pub fn attempt(&self, client: Option<IpAddr>) -> Result<(), ApiError> {
        let clock = DefaultClock::default();
        let refused = |wait: Duration| ApiError::TooManyRequests {
            message: "too many sign-in attempts: try again later".into(),
            retry_after_s: crate::limits::retry_after(wait),
        };
        if let Some(ip) = client {
            // Forget addresses that have been quiet long enough to be back at a full burst.
            if self.per_client.len() > MAX_SESSIONS {
                self.per_client.retain_recent();
            }
            self.per_client
                .check_key(&ip)
                .map_err(|n| refused(n.wait_time_from(clock.now())))?;
        }
        self.overall
            .check()
            .map_err(|n| refused(n.wait_time_from(clock.now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_and_ids_are_fresh() {
        let sessions = Sessions::new(Duration::from_millis(50));
        let a = sessions.open("token");
        let b = sessions.open("token");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(sessions.credential(&a).as_deref(), Some("token"));
        assert_eq!(sessions.credential("nope"), None);
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(sessions.credential(&a), None);
    }

    #[test]
    fn a_burst_of_attempts_is_refused_past_the_limit() {
        let limiter = LoginLimiter::default();
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        let allowed = (0..30).filter(|_| limiter.attempt(ip).is_ok()).count();
        assert_eq!(allowed, PER_CLIENT.1 as usize);
        let other = Some(IpAddr::from([127, 0, 0, 2]));
        assert!(
            limiter.attempt(other).is_ok(),
            "each address has its own limit"
        );
    }
}
