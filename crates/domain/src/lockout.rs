//! Sign-in lockout (directory.md): 10 failures lock the account for 1 minute, doubling on each
//! further lockout up to 1 hour; repeating the same wrong password does not count twice.

use crate::time::{Duration, Timestamp};

pub const FAILURES_BEFORE_LOCKOUT: u32 = 10;
pub const FIRST_LOCKOUT: Duration = Duration::from_mins(1);
pub const LONGEST_LOCKOUT: Duration = Duration::from_hours(1);
/// How many recent wrong passwords are remembered (as keyed fingerprints, never as text).
pub const REMEMBERED_WRONG: usize = 3;

/// The sign-in failure state of one account.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Throttle {
    pub failures: u32,
    pub lockouts: u32,
    pub locked_until: Option<Timestamp>,
    /// Fingerprints of the last wrong passwords, newest last.
    pub recent_wrong: Vec<String>,
}

impl Throttle {
    /// Whether sign-in is refused without even checking the password.
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// Records a wrong password, given as a fingerprint.
    pub fn record_failure(&mut self, now: Timestamp, fingerprint: String) {
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

    /// A successful sign-in forgets the failures and the lockout history.
    pub fn record_success(&mut self) {
        *self = Self::default();
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
    fn success_resets() {
        let now = Timestamp::from_unix_millis(0);
        let mut t = Throttle::default();
        for i in 0..5 {
            t.record_failure(now, format!("f{i}"));
        }
        t.record_success();
        assert_eq!(t, Throttle::default());
    }
}
