//! The limits that keep Roster answering under floods: how much work may wait, and how often
//! one source or one partner may ask. Each is a setting with a default (docs/OPERATIONS.md).
//!
//! The rate limits are kept in this server's memory (governor's GCRA, one state per key),
//! which is enough for what they guard: the hashing threads and the request handlers of this
//! server. What must hold across every server on one PostgreSQL, the lockout of an account
//! after repeated failures, is kept in the database (`roster_domain::lockout`).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use roster_domain::authz::Actor;
use roster_domain::{ApplicationId, PartnerId};

/// The limits of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; a connection beyond them is answered 503 and closed.
    pub max_connections: usize,
    /// Requests being handled at once at most; one beyond them is answered 503.
    pub max_requests_in_flight: usize,
    /// Hashes (sign-ins, new passwords) waiting for a hashing thread at most; one beyond them
    /// is answered 503.
    pub hash_queue: usize,
    /// Password sign-ins (the token endpoint's password grant, the portal's sign-in, the
    /// password change) per minute from one source address; 0: no limit.
    pub sign_in_per_minute_per_address: u32,
    /// Authenticated API requests per minute of one partner (all its users and
    /// applications together); 0: no limit.
    pub api_per_minute_per_partner: u32,
    /// Authenticated API requests per minute through one application (App+User or
    /// App-only); 0: no limit.
    pub api_per_minute_per_application: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 2048,
            max_requests_in_flight: 1024,
            hash_queue: 64,
            sign_in_per_minute_per_address: 60,
            api_per_minute_per_partner: 60_000,
            api_per_minute_per_application: 30_000,
        }
    }
}

/// A refusal: try again after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least one: what `Retry-After` says.
    pub fn seconds(self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }
}

/// One rate per key (a source address, a partner, an application): up to the minute's count
/// at once, then one more each 1/count minute.
#[derive(Debug)]
pub struct KeyedRate<K: Hash + Eq + Clone> {
    limiter: Option<RateLimiter<K, HashMapStateStore<K>, DefaultClock>>,
    clock: DefaultClock,
    /// The `limit` label of its refusals in `roster_rate_limited_total`.
    name: &'static str,
}

/// Keys kept before the forgotten ones are dropped (an address or a partner whose rate is
/// full again needs no state).
const KEYS_BEFORE_CLEANUP: usize = 10_000;

impl<K: Hash + Eq + Clone> KeyedRate<K> {
    /// `per_minute` requests a minute per key; 0: every request passes.
    pub fn per_minute(name: &'static str, per_minute: u32) -> Self {
        let clock = DefaultClock::default();
        let limiter = NonZeroU32::new(per_minute)
            .map(|n| RateLimiter::hashmap_with_clock(Quota::per_minute(n), clock.clone()));
        Self {
            limiter,
            clock,
            name,
        }
    }

    /// Counts one request of `key`: `Err` when its rate is used up.
    pub fn check(&self, key: &K) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > KEYS_BEFORE_CLEANUP {
            limiter.retain_recent();
        }
        limiter.check_key(key).map_err(|not_until| {
            metrics::counter!("roster_rate_limited_total", "limit" => self.name).increment(1);
            RetryAfter(not_until.wait_time_from(self.clock.now()))
        })
    }
}

/// The rate limits of one server.
#[derive(Debug)]
pub(crate) struct Rates {
    pub(crate) sign_in: KeyedRate<IpAddr>,
    partner: KeyedRate<PartnerId>,
    application: KeyedRate<ApplicationId>,
}

impl Rates {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            sign_in: KeyedRate::per_minute("sign_in", limits.sign_in_per_minute_per_address),
            partner: KeyedRate::per_minute("partner", limits.api_per_minute_per_partner),
            application: KeyedRate::per_minute(
                "application",
                limits.api_per_minute_per_application,
            ),
        }
    }
}

impl crate::Roster {
    /// Counts one authenticated API request of `actor` against its partner's rate and its
    /// application's: `Err` (429) when either is used up.
    pub fn check_api_rate(&self, actor: &Actor) -> crate::Result<()> {
        let rates = self.rates();
        if let Some(app) = &actor.application {
            rates
                .application
                .check(app)
                .map_err(crate::ServiceError::RateLimited)?;
        }
        rates
            .partner
            .check(&actor.partner)
            .map_err(crate::ServiceError::RateLimited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_lets_its_minute_through_then_says_when() {
        let rate = KeyedRate::per_minute("test", 3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            rate.check(&a).unwrap();
        }
        let refused = rate.check(&a).unwrap_err();
        // One more each 20 s.
        assert!((1..=20).contains(&refused.seconds()), "{refused:?}");
        // Another key has a rate of its own.
        rate.check(&b).unwrap();
    }

    #[test]
    fn zero_is_no_limit() {
        let rate = KeyedRate::per_minute("test", 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..10_000 {
            rate.check(&a).unwrap();
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_and_at_least_one() {
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(10)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_secs(2)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_millis(2001)).seconds(), 3);
    }
}
