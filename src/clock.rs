//! The one source of time. Everything that reads the time (token issuing and
//! verification, the access state's freshness and pruning, expiry parsing,
//! store timestamps, refresh rotation, the usage flusher) is handed a
//! `Clock`, so tests can jump it forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// System time plus an offset that only tests move. Cheap on the hot path:
/// one read of the system clock and one relaxed atomic load. Clones share
/// the offset.
#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock, not moved.
    pub fn system() -> Self {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        let now = Utc::now();
        if offset == 0 {
            return now;
        }
        now + chrono::Duration::milliseconds(offset)
    }

    /// Unix seconds.
    pub fn unix_seconds(&self) -> i64 {
        self.now().timestamp()
    }

    /// Unix milliseconds.
    pub fn unix_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// A UUIDv7 stamped with this clock's time, so `Claims::issued_at_ms`
    /// reads the same instant from a token id as from its `iat`.
    pub fn new_v7(&self) -> Uuid {
        if self.offset_ms.load(Ordering::Relaxed) == 0 {
            return Uuid::now_v7();
        }
        let now = self.now();
        let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
        let timestamp =
            uuid::Timestamp::from_unix(uuid::NoContext, seconds, now.timestamp_subsec_nanos());
        Uuid::new_v7(timestamp)
    }

    /// Moves this clock (and every clone of it) forward. For tests.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn an_advanced_clock_moves_every_clone_and_stamps_ids_with_its_time() {
        let clock = Clock::system();
        let clone = clock.clone();
        let before = clock.now();

        clock.advance(std::time::Duration::from_secs(3600));

        let later = clone.now();
        assert!(later - before >= chrono::Duration::seconds(3600));
        let (seconds, _) = clone.new_v7().get_timestamp().unwrap().to_unix();
        assert!(seconds as i64 >= later.timestamp() - 1);
    }
}
