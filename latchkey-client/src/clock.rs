//! The time every check reads: token lifetimes, cache ages, refresh intervals.
//! Injectable, so a test can expire a token without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;

    /// Whole seconds since the Unix epoch, as JWT claims count them.
    fn unix_seconds(&self) -> i64 {
        let since_epoch = self.now().duration_since(UNIX_EPOCH).unwrap_or_default();
        i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
    }
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The machine's clock, moved forward by however much `advance` was told.
/// Clones share their offset.
///
/// ```
/// use latchkey_client::{Clock, TestClock};
/// use std::time::Duration;
///
/// let clock = TestClock::new();
/// let before = clock.unix_seconds();
/// clock.advance(Duration::from_secs(3600));
/// assert!(clock.unix_seconds() >= before + 3600);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TestClock {
    offset_millis: Arc<AtomicU64>,
}

impl TestClock {
    pub fn new() -> TestClock {
        TestClock::default()
    }

    pub fn advance(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_millis.fetch_add(millis, Ordering::Relaxed);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_millis(self.offset_millis.load(Ordering::Relaxed))
    }
}
