//! Sign-in lockout (directory.md): 10 failures lock the account for 1 minute, doubling on each
//! further lockout up to 1 hour; repeating the same wrong password does not count twice.
//!
//! An attempt is counted *before* its password is checked ([`Throttle::reserve`]), in the
//! same transaction that reads the lock, so that however many attempts run at once no more
//! than [`FAILURES_BEFORE_LOCKOUT`] passwords are ever checked in one lockout window; a right
//! password then takes its own count back ([`Throttle::succeed`]).
//!
//! Each account keeps one lockout per familiar network (one it signed in from before) and
//! one for every other source together, so that a burst of guesses from elsewhere does not
//! lock its owner out of its usual places, and spreading the guesses over many addresses
//! gains nothing ([`network_of`]).

use std::net::IpAddr;

use crate::time::{Duration, Timestamp};

pub const FAILURES_BEFORE_LOCKOUT: u32 = 10;
pub const FIRST_LOCKOUT: Duration = Duration::from_mins(1);
pub const LONGEST_LOCKOUT: Duration = Duration::from_hours(1);
/// How many recent wrong passwords are remembered (as keyed fingerprints, never as text).
pub const REMEMBERED_WRONG: usize = 3;

/// The bucket of attempts from every source that is not one of the account's familiar
/// networks.
pub const OTHER_SOURCES: &str = "*";

/// The network a sign-in comes from, as its lockout is kept: an IPv4 address, or the /64 of
/// an IPv6 address (one household or office gets a /64, and an attacker as many as it likes
/// of the addresses in it).
pub fn network_of(ip: IpAddr) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{prefix}/64")
        }
    }
}

/// The sign-in failure state of one account, from one source.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Throttle {
    pub failures: u32,
    pub lockouts: u32,
    pub locked_until: Option<Timestamp>,
    /// Fingerprints of the last wrong passwords, newest last.
    pub recent_wrong: Vec<String>,
    /// Every attempt ever counted; the n-th counted attempt holds ticket n.
    pub attempts: u64,
}

/// What [`Throttle::reserve`] made of an attempt.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reservation {
    /// Locked: refuse without checking the password.
    Locked,
    /// Counted as a failure until its password proves right; the ticket says which counted
    /// attempts came before it. A password known to be wrong (a repeat) counts nothing.
    Check(Ticket),
}

/// An attempt being checked, as [`Throttle::succeed`] needs it back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ticket {
    /// How many attempts were counted up to this one.
    pub number: u64,
    /// The lockout that counting this attempt began (it was the last one allowed).
    pub locked_until: Option<Timestamp>,
}

impl Throttle {
    /// Counts an attempt, given as its password's fingerprint, before the password is
    /// checked; may lock (the attempt that locks is still checked: it is the last allowed).
    pub fn reserve(&mut self, now: Timestamp, fingerprint: String) -> Reservation {
        if self.is_locked(now) {
            return Reservation::Locked;
        }
        let mut began = None;
        if !self.recent_wrong.contains(&fingerprint) {
            self.attempts += 1;
            self.record_failure(now, fingerprint);
            began = self.locked_until.filter(|_| self.is_locked(now));
        }
        Reservation::Check(Ticket {
            number: self.attempts,
            locked_until: began,
        })
    }

    /// The attempt that holds `ticket` had the right password (its fingerprint is
    /// `fingerprint`): it forgets its own count, every failure counted before it and the
    /// lockout history. Attempts counted after it, still being checked, keep counting; a
    /// lockout that others began meanwhile stands (one that its own count began goes: no
    /// attempt was counted after it).
    pub fn succeed(&mut self, now: Timestamp, ticket: Ticket, fingerprint: &str) {
        self.recent_wrong.retain(|f| f != fingerprint);
        if self.is_locked(now) && self.locked_until != ticket.locked_until {
            return;
        }
        let later = self.attempts.saturating_sub(ticket.number);
        self.failures = self.failures.min(u32::try_from(later).unwrap_or(u32::MAX));
        let keep = self.recent_wrong.len().min(self.failures as usize);
        self.recent_wrong.drain(..self.recent_wrong.len() - keep);
        self.lockouts = 0;
        self.locked_until = None;
    }

    /// Whether sign-in is refused without even checking the password.
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// Records a wrong password, given as a fingerprint.
    fn record_failure(&mut self, now: Timestamp, fingerprint: String) {
        if self.recent_wrong.contains(&fingerprint) {
            return;
        }
        self.recent_wrong.push(fingerprint);
        if self.recent_wrong.len() > REMEMBERED_WRONG {
            self.recent_wrong.remove(0);
        }
        self.failures += 1;
        if self.failures >= FAILURES_BEFORE_LOCKOUT {
            self.lockouts += 1;
            self.failures = 0;
            self.recent_wrong.clear();
            self.locked_until = Some(now.plus(lockout_length(self.lockouts)));
        }
    }
}

/// The length of the n-th lockout (n ≥ 1): 1 min, 2 min, 4 min, … at most 1 hour.
pub fn lockout_length(n: u32) -> Duration {
    let doublings = n.saturating_sub(1).min(20);
    let ms = FIRST_LOCKOUT.millis().saturating_mul(1_i64 << doublings);
    Duration::from_millis(ms.min(LONGEST_LOCKOUT.millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_double_up_to_an_hour() {
        let mins: Vec<i64> = (1..=8)
            .map(|n| lockout_length(n).millis() / 60_000)
            .collect();
        assert_eq!(mins, vec![1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn ten_distinct_failures_lock() {
        let now = Timestamp::from_unix_millis(1_000_000);
        let mut t = Throttle::default();
        for i in 0..9 {
            t.record_failure(now, format!("f{i}"));
            assert!(!t.is_locked(now));
        }
        t.record_failure(now, "f9".into());
        assert!(t.is_locked(now));
        assert!(t.is_locked(now.plus(Duration::from_secs(59))));
        assert!(!t.is_locked(now.plus(Duration::from_secs(60))));
        // The second lockout lasts two minutes.
        let later = now.plus(Duration::from_secs(61));
        for i in 0..10 {
            t.record_failure(later, format!("g{i}"));
        }
        assert!(t.is_locked(later.plus(Duration::from_secs(119))));
        assert!(!t.is_locked(later.plus(Duration::from_secs(120))));
    }

    #[test]
    fn the_same_wrong_password_counts_once() {
        let now = Timestamp::from_unix_millis(0);
        let mut t = Throttle::default();
        for _ in 0..50 {
            t.record_failure(now, "same".into());
        }
        assert_eq!(t.failures, 1);
        assert!(!t.is_locked(now));
    }

    #[test]
    fn success_forgets_what_came_before_it() {
        let now = Timestamp::from_unix_millis(0);
        let mut t = Throttle::default();
        for i in 0..5 {
            assert!(matches!(
                t.reserve(now, format!("f{i}")),
                Reservation::Check(_)
            ));
        }
        let Reservation::Check(ticket) = t.reserve(now, "right".into()) else {
            panic!("not locked")
        };
        t.succeed(now, ticket, "right");
        assert_eq!(t.failures, 0);
        assert!(t.recent_wrong.is_empty());
        assert_eq!(t.attempts, 6);
    }

    /// However many attempts run at once, ten are checked; the rest are refused unchecked.
    #[test]
    fn reservations_bound_the_checks_whatever_the_concurrency() {
        let now = Timestamp::from_unix_millis(0);
        let mut t = Throttle::default();
        let checked = (0..120)
            .filter(|i| matches!(t.reserve(now, format!("g{i}")), Reservation::Check(_)))
            .count();
        assert_eq!(checked, FAILURES_BEFORE_LOCKOUT as usize);
        assert_eq!(t.lockouts, 1, "one lockout, not twelve");
        assert!(t.is_locked(now));
    }

    /// A right password checked while others were in flight keeps their counts, and a
    /// lockout those others caused meanwhile stands.
    #[test]
    fn success_keeps_later_attempts_and_a_lockout_begun_meanwhile() {
        let now = Timestamp::from_unix_millis(0);
        let mut t = Throttle::default();
        for i in 0..3 {
            t.reserve(now, format!("a{i}"));
        }
        let Reservation::Check(ticket) = t.reserve(now, "right".into()) else {
            panic!("not locked")
        };
        for i in 0..4 {
            t.reserve(now, format!("b{i}"));
        }
        t.succeed(now, ticket, "right");
        assert_eq!(t.failures, 4, "the four after it still count");
        assert_eq!(t.recent_wrong, vec!["b1", "b2", "b3"]);
        // Now one in flight while others lock the account.
        let Reservation::Check(ticket) = t.reserve(now, "right".into()) else {
            panic!("not locked")
        };
        for i in 0..5 {
            t.reserve(now, format!("c{i}"));
        }
        assert!(t.is_locked(now));
        t.succeed(now, ticket, "right");
        assert!(t.is_locked(now), "the lockout stands");
        assert_eq!(t.lockouts, 1);
        assert!(!t.recent_wrong.iter().any(|f| f == "right"));
    }

    /// The right password as the tenth attempt locks while it is checked (so that nothing
    /// runs beside it), and lifts that lockout when it proves right.
    #[test]
    fn the_right_password_as_the_last_allowed_attempt_lifts_its_own_lockout() {
        let now = Timestamp::from_unix_millis(0);
        let mut t = Throttle::default();
        for i in 0..9 {
            t.reserve(now, format!("a{i}"));
        }
        let Reservation::Check(ticket) = t.reserve(now, "right".into()) else {
            panic!("not locked")
        };
        assert!(t.is_locked(now) && ticket.locked_until.is_some());
        assert_eq!(t.reserve(now, "other".into()), Reservation::Locked);
        t.succeed(now, ticket, "right");
        assert!(!t.is_locked(now));
        assert_eq!((t.failures, t.lockouts), (0, 0));
    }

    /// A repeat of a known wrong password counts nothing and is still checked.
    #[test]
    fn a_repeat_is_checked_without_counting() {
        let now = Timestamp::from_unix_millis(0);
        let mut t = Throttle::default();
        let first = Reservation::Check(Ticket {
            number: 1,
            locked_until: None,
        });
        assert_eq!(t.reserve(now, "same".into()), first);
        assert_eq!(t.reserve(now, "same".into()), first);
        assert_eq!((t.failures, t.attempts), (1, 1));
    }

    #[test]
    fn networks_are_addresses_and_ipv6_slash_64s() {
        let net = |s: &str| network_of(s.parse().unwrap());
        assert_eq!(net("203.0.113.7"), "203.0.113.7");
        assert_eq!(net("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(net("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(net("2001:db8:1:3::1"), net("2001:db8:1:2::1"));
    }
}
