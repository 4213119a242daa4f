//! Failed logins slow down further tries, per account and per client address, for HTTP and
//! Postgres alike: the first 5 failures within 15 minutes cost nothing, then each further try must
//! wait twice as long as the one before (1 s, 2 s, 4 s, ... up to 15 minutes) after the last
//! failure. A success forgets the account's failures. Guessing a generated password this way
//! would take longer than the universe has existed; a person who mistyped waits seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before tries are slowed down.
const FREE: u32 = 5;
/// How long failures are remembered.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most (older ones are forgotten first).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// How long after the last failure the next try must wait.
    fn delay(self) -> Duration {
        if self.count < FREE {
            return Duration::ZERO;
        }
        let doubling = (self.count - FREE).min(20);
        Duration::from_secs(1u64 << doubling).min(MAX_WAIT)
    }
}

/// Failed logins by key (`user:NAME`, `addr:IP`).
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Failures>>,
}

/// The throttle's key of an account name.
pub fn user_key(name: &str) -> String {
    format!("user:{name}")
}

/// The throttle's key of a client address (its IP, without the port).
pub fn addr_key(addr: &str) -> String {
    let ip = addr
        .parse::<std::net::SocketAddr>()
        .map_or_else(|_| addr.to_string(), |a| a.ip().to_string());
    format!("addr:{ip}")
}

impl Throttle {
    /// How long a try for these keys must still wait; `None` when it may go ahead.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let failures = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|k| failures.get(k))
            .filter(|f| f.last.elapsed() < WINDOW)
            .filter_map(|f| f.delay().checked_sub(f.last.elapsed()))
            .filter(|left| !left.is_zero())
            .max()
    }

    /// Records a failed try for these keys.
    pub fn failed(&self, keys: &[String]) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, f| f.last.elapsed() < WINDOW);
            if failures.len() >= MAX_KEYS {
                failures.clear();
            }
        }
        let now = Instant::now();
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if entry.last.elapsed() >= WINDOW {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last = now;
        }
    }

    /// Forgets the failures of these keys after a successful login.
    pub fn succeeded(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in keys {
                failures.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_are_free_and_the_sixth_try_waits() {
        let throttle = Throttle::default();
        let keys = [user_key("xinluo"), addr_key("10.0.0.7:51234")];
        for _ in 0..FREE - 1 {
            throttle.failed(&keys);
            assert_eq!(throttle.wait(&keys), None);
        }
        throttle.failed(&keys);
        let wait = throttle.wait(&keys).expect("slowed down");
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(500));
        // Another address guessing the same account waits too; so does the same address
        // guessing another account.
        assert!(
            throttle
                .wait(&[user_key("xinluo"), addr_key("10.0.0.8:1")])
                .is_some()
        );
        assert!(
            throttle
                .wait(&[user_key("other"), addr_key("10.0.0.7:2")])
                .is_some()
        );
        throttle.failed(&keys);
        assert!(throttle.wait(&keys).expect("longer") > Duration::from_secs(1));
        throttle.succeeded(&keys);
        assert_eq!(throttle.wait(&keys), None);
    }
}
