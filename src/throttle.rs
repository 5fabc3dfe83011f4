//! Rate limits held in memory by each instance (GCRA, from the `governor`
//! crate): API key creation per user, which costs a database write, an
//! event every replica applies and a marker once the key ends; and login,
//! refresh and revocation per client IP, so that one client cannot take
//! every user's share of the password hashers or the database. The
//! per-account login limit must hold across replicas, so it lives in the
//! database (`store::login_attempts`), not here.

use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use uuid::Uuid;

use crate::settings::ThrottleSettings;
use crate::store::Store;

/// How often users whose allowance is full again are forgotten.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

pub struct Throttle {
    key_creations: DefaultKeyedRateLimiter<Uuid>,
    logins: DefaultKeyedRateLimiter<IpAddr>,
    refreshes: DefaultKeyedRateLimiter<IpAddr>,
    revocations: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

/// A refusal: the whole seconds to wait before trying again (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl Throttle {
    pub fn new(settings: &ThrottleSettings) -> Self {
        let quota = Quota::per_minute(settings.key_creations_per_minute)
            .allow_burst(settings.key_creation_burst);
        let per_ip = |per_minute| Quota::per_minute(per_minute).allow_burst(per_minute);
        Throttle {
            key_creations: DefaultKeyedRateLimiter::keyed(quota),
            logins: DefaultKeyedRateLimiter::keyed(per_ip(settings.logins_per_ip_per_minute)),
            refreshes: DefaultKeyedRateLimiter::keyed(per_ip(settings.refreshes_per_ip_per_minute)),
            revocations: DefaultKeyedRateLimiter::keyed(per_ip(
                settings.revocations_per_ip_per_minute,
            )),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one key creation from the user's allowance.
    pub fn key_creation(&self, user_id: Uuid) -> Result<(), RetryAfter> {
        self.take(&self.key_creations, &user_id)
    }

    /// Takes one login attempt from the client's allowance.
    pub fn login(&self, client: IpAddr) -> Result<(), RetryAfter> {
        self.take(&self.logins, &one_client(client))
    }

    /// Takes one refresh from the client's allowance.
    pub fn refresh(&self, client: IpAddr) -> Result<(), RetryAfter> {
        self.take(&self.refreshes, &one_client(client))
    }

    /// Takes one RFC 7009 revocation from the client's allowance.
    pub fn revocation(&self, client: IpAddr) -> Result<(), RetryAfter> {
        self.take(&self.revocations, &one_client(client))
    }

    fn take<K: Hash + Eq + Clone>(
        &self,
        limiter: &DefaultKeyedRateLimiter<K>,
        key: &K,
    ) -> Result<(), RetryAfter> {
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            RetryAfter((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
        })
    }

    /// Forgets users whose allowance is full again: memory follows recent
    /// use, not every user ever seen.
    pub fn forget_idle(&self) {
        self.key_creations.retain_recent();
        self.key_creations.shrink_to_fit();
        for limiter in [&self.logins, &self.refreshes, &self.revocations] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Every minute: forgets idle clients and users here, and accounts whose
/// login window is over in the database.
/// The address a client is counted under: an IPv6 client holds a whole /64
/// (one subscriber, one host's privacy addresses), so it counts as one.
fn one_client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

pub fn spawn_forgetting(
    throttle: Arc<Throttle>,
    store: Store,
    login_window_ms: i64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(FORGET_IDLE_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            throttle.forget_idle();
            if let Err(e) = store.prune_login_attempts(login_window_ms).await {
                tracing::warn!(error = %e, "cannot forget old login attempts");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::{RetryAfter, Throttle};

    #[test]
    fn each_user_has_their_own_allowance() {
        let mut settings = crate::settings::Settings::defaults().throttle;
        settings.key_creations_per_minute = NonZeroU32::new(1).unwrap();
        settings.key_creation_burst = NonZeroU32::new(2).unwrap();
        let throttle = Throttle::new(&settings);
        let (ada, bob) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());

        assert_eq!(throttle.key_creation(ada), Ok(()));
        assert_eq!(throttle.key_creation(ada), Ok(()));
        let Err(RetryAfter(seconds)) = throttle.key_creation(ada) else {
            panic!("a third creation within the minute is refused");
        };
        assert!((1..=60).contains(&seconds), "{seconds}");
        assert_eq!(throttle.key_creation(bob), Ok(()));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let mut settings = crate::settings::Settings::defaults().throttle;
        settings.logins_per_ip_per_minute = NonZeroU32::new(1).unwrap();
        let throttle = Throttle::new(&settings);
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();

        assert_eq!(throttle.login(ip("2001:db8:1:2::1")), Ok(()));
        assert!(throttle.login(ip("2001:db8:1:2:ffff::9")).is_err());
        assert_eq!(throttle.login(ip("2001:db8:1:3::1")), Ok(()));
        assert_eq!(throttle.login(ip("192.0.2.1")), Ok(()));
        assert!(throttle.login(ip("::ffff:192.0.2.1")).is_err());
    }
}
