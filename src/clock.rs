//! The only place that reads the time.
//!
//! Everything that depends on "now" (session expiry, one-time links, SAML time
//! windows) takes a [`Clock`], so tests can move time forward instead of
//! sleeping. `clippy.toml` forbids reading the system time anywhere else.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// A source of the current time: the system clock in production, a manual one in tests.
#[derive(Clone, Debug)]
pub struct Clock(Source);

#[derive(Clone, Debug)]
enum Source {
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    pub fn system() -> Self {
        Self(Source::System)
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            #[allow(clippy::disallowed_methods)] // the one sanctioned read of the system time
            Source::System => Utc::now(),
            Source::Manual(now) => *now.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Now as the naive UTC timestamp the database stores.
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }
}

/// A clock that only moves when told to; hand its [`ManualClock::clock`] to the code under test.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(Arc::clone(&self.0)))
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).expect("valid timestamp");
        let manual = ManualClock::starting_at(start);
        let clock = manual.clock();
        assert_eq!(clock.now(), start);
        manual.advance(TimeDelta::minutes(16));
        assert_eq!(clock.now(), start + TimeDelta::minutes(16));
    }
}
