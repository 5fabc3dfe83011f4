//! Per-user rate limits, held in memory by each instance (GCRA, from the
//! `governor` crate). For now: API key creation, which costs a database
//! write, an event every replica applies, and a marker once the key ends.

use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use uuid::Uuid;

use crate::settings::ThrottleSettings;

/// How often users whose allowance is full again are forgotten.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

pub struct Throttle {
    key_creations: DefaultKeyedRateLimiter<Uuid>,
    clock: DefaultClock,
}

/// A refusal: the whole seconds to wait before trying again (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl Throttle {
    pub fn new(settings: &ThrottleSettings) -> Self {
        let quota = Quota::per_minute(settings.key_creations_per_minute)
            .allow_burst(settings.key_creation_burst);
        Throttle {
            key_creations: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one key creation from the user's allowance.
    pub fn key_creation(&self, user_id: Uuid) -> Result<(), RetryAfter> {
        self.key_creations.check_key(&user_id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            RetryAfter((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
        })
    }

    /// Forgets users whose allowance is full again: memory follows recent
    /// use, not every user ever seen.
    pub fn forget_idle(&self) {
        self.key_creations.retain_recent();
        self.key_creations.shrink_to_fit();
    }
}

pub fn spawn_forgetting(throttle: Arc<Throttle>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(FORGET_IDLE_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            throttle.forget_idle();
        }
    })
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::{RetryAfter, Throttle};
    use crate::settings::ThrottleSettings;

    #[test]
    fn each_user_has_their_own_allowance() {
        let throttle = Throttle::new(&ThrottleSettings {
            key_creations_per_minute: NonZeroU32::new(1).unwrap(),
            key_creation_burst: NonZeroU32::new(2).unwrap(),
        });
        let (ada, bob) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());

        assert_eq!(throttle.key_creation(ada), Ok(()));
        assert_eq!(throttle.key_creation(ada), Ok(()));
        let Err(RetryAfter(seconds)) = throttle.key_creation(ada) else {
            panic!("a third creation within the minute is refused");
        };
        assert!((1..=60).contains(&seconds), "{seconds}");
        assert_eq!(throttle.key_creation(bob), Ok(()));
    }
}
