//! Limits on requests per minute and key, one mechanism for every endpoint
//! anybody can reach: posts to the ACS per client address and per
//! organization (validation is bounded, but not free), administrator
//! sign-ins and invitation and setup links per client address, SCIM
//! requests per configuration token. A fixed window of one minute per key;
//! the map of keys is bounded too. Past a limit: 429 with `Retry-After`.
//! Per process: with several processes each counts its own.
//!
//! Behind a reverse proxy every request comes from the proxy's address:
//! name the proxy in `trusted_proxies` and the client address is read from
//! its `X-Forwarded-For` ([`client_address`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
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

/// Every limit of this process; `None` where switched off.
pub struct Limits {
    pub acs: Option<RateLimit<IpAddr>>,
    pub acs_org: Option<RateLimit<crate::ids::OrgId>>,
    pub admin_login: Option<RateLimit<IpAddr>>,
    pub links: Option<RateLimit<IpAddr>>,
    pub scim: Option<RateLimit<crate::ids::ScimConfigId>>,
    trusted_proxies: Vec<IpAddr>,
}

impl Limits {
    pub fn new(settings: &crate::config::Settings) -> Self {
        Self {
            acs: settings.acs_rate_limit.map(RateLimit::per_minute),
            acs_org: settings.acs_org_rate_limit.map(RateLimit::per_minute),
            admin_login: settings.admin_login_rate_limit.map(RateLimit::per_minute),
            links: settings.link_rate_limit.map(RateLimit::per_minute),
            scim: settings.scim_rate_limit.map(RateLimit::per_minute),
            trusted_proxies: settings.trusted_proxies.clone(),
        }
    }

    /// Counts a request against `limit` (if on) for the request's client
    /// address; `Err` carries how long to wait.
    pub fn by_address(
        &self,
        limit: &Option<RateLimit<IpAddr>>,
        request: &actix_web::HttpRequest,
    ) -> Result<(), Duration> {
        match (limit, client_address(request, &self.trusted_proxies)) {
            (Some(limit), Some(client)) => limit.check(client, Instant::now()),
            _ => Ok(()),
        }
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy;
/// then the last address in `X-Forwarded-For` that is not a trusted proxy
/// (each proxy appends the address it received from: what comes before
/// the first untrusted one could be made up by the client).
pub fn client_address(request: &actix_web::HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = request.peer_addr()?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    forwarded_client(peer, &forwarded, trusted)
}

fn forwarded_client(peer: IpAddr, forwarded: &[&str], trusted: &[IpAddr]) -> Option<IpAddr> {
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) if trusted.contains(&address) => continue,
            Ok(address) => return Some(address),
            // A hop we cannot read: count the request against the proxy.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_address_comes_from_trusted_proxies_only() {
        let proxy: IpAddr = "10.0.0.5".parse().expect("address");
        let trusted = [proxy];
        let client = |forwarded: &[&str]| forwarded_client(proxy, forwarded, &trusted);
        assert_eq!(client(&["203.0.113.7"]), "203.0.113.7".parse().ok());
        // A client that sends its own X-Forwarded-For cannot choose its address.
        assert_eq!(
            client(&["198.51.100.1", "203.0.113.7"]),
            "203.0.113.7".parse().ok()
        );
        assert_eq!(
            client(&["203.0.113.7", "10.0.0.5"]),
            "203.0.113.7".parse().ok()
        );
        assert_eq!(client(&["not an address"]), Some(proxy));
        assert_eq!(client(&[]), Some(proxy));
    }

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
