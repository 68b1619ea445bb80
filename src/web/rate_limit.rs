//! Limits on requests per minute and key: anonymous POSTs to the ACS per
//! client address (issue 12: validation is bounded, but not free, and
//! anybody may post), SCIM requests per configuration token (issue 15). A
//! fixed window of one minute per key; the map of keys is bounded too.
//! Per process: with several processes each counts its own.
//!
//! Behind a reverse proxy every request comes from the proxy's address:
//! raise or switch off the ACS limit there (`acs_rate_limit = 0`) and limit
//! at the proxy instead.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Keys remembered at most; past this, finished windows are dropped, and
/// if every window is still running, all are (an attacker with that many
/// addresses is not stopped by a per-address limit anyway).
const MAX_CLIENTS: usize = 100_000;

pub struct RateLimit<K> {
    per_minute: NonZeroU32,
    clients: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq + Copy> RateLimit<K> {
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        Self {
            per_minute,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request from `client` at `now`; `Err` carries how long
    /// until it may post again.
    pub fn check(&self, client: K, now: Instant) -> Result<(), Duration> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&client) {
            clients.retain(|_, (started, _)| now.duration_since(*started) < WINDOW);
            if clients.len() >= MAX_CLIENTS {
                clients.clear();
            }
        }
        let (started, count) = clients.entry(client).or_insert((now, 0));
        if now.duration_since(*started) >= WINDOW {
            *started = now;
            *count = 0;
        }
        if *count >= self.per_minute.get() {
            return Err(WINDOW.saturating_sub(now.duration_since(*started)));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn each_address_gets_its_own_window() {
        let limit = RateLimit::per_minute(NonZeroU32::new(2).expect("non-zero"));
        let (a, b): (IpAddr, IpAddr) = (
            "192.0.2.1".parse().expect("address"),
            "192.0.2.2".parse().expect("address"),
        );
        let start = Instant::now();
        assert!(limit.check(a, start).is_ok());
        assert!(limit.check(a, start).is_ok());
        let wait = limit
            .check(a, start + Duration::from_secs(20))
            .expect_err("third in the minute");
        assert_eq!(wait, Duration::from_secs(40));
        assert!(
            limit.check(b, start).is_ok(),
            "another address is not held up"
        );
        assert!(limit.check(a, start + WINDOW).is_ok(), "a new window");
    }
}
