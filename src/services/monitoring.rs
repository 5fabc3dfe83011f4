//! `/metrics`: the gauges read at scrape time, then everything rendered.

use std::sync::Arc;

use crate::access::{AccessState, LogFollower};
use crate::clock::Clock;
use crate::monitoring::Metrics;
use crate::passwords::PasswordHasher;
use crate::store::Store;

/// Keys that expire this soon are counted apart.
const EXPIRING_WITHIN_DAYS: i64 = 7;

pub struct Monitoring {
    metrics: Arc<Metrics>,
    access: Arc<AccessState>,
    follower: Arc<LogFollower>,
    passwords: Arc<PasswordHasher>,
    store: Store,
    clock: Clock,
}

impl Monitoring {
    pub fn new(
        metrics: Arc<Metrics>,
        access: Arc<AccessState>,
        follower: Arc<LogFollower>,
        passwords: Arc<PasswordHasher>,
        store: Store,
        clock: Clock,
    ) -> Self {
        Monitoring {
            metrics,
            access,
            follower,
            passwords,
            store,
            clock,
        }
    }

    /// Every metric in the Prometheus text format. A gauge read from the
    /// database keeps its last value when the database cannot be read: the
    /// scrape itself still answers, and the state age shows the trouble.
    pub async fn scrape(&self) -> String {
        let metrics = &self.metrics;
        metrics
            .state_age_seconds
            .set(self.access.staleness_ms() as f64 / 1000.0);
        metrics
            .hash_queue_depth
            .set(self.passwords.queue_depth() as f64);
        match self.store.latest_revocation_event_id().await {
            Ok(latest) => {
                let read = self.follower.cursor_position().await;
                metrics.cursor_lag_events.set((latest - read).max(0) as f64);
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the revocation log"),
        }
        let now = self.clock.now();
        let soon = now + chrono::Duration::days(EXPIRING_WITHIN_DAYS);
        match self.store.active_key_counts_by_plan(now, soon).await {
            Ok(counts) => {
                for gauges in metrics.plans.values() {
                    gauges.active_keys.set(0.0);
                    gauges.expiring_keys.set(0.0);
                }
                for count in counts {
                    if let Some(gauges) = metrics.plans.get(&count.plan) {
                        gauges.active_keys.set(count.active as f64);
                        gauges.expiring_keys.set(count.expiring as f64);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: cannot count API keys"),
        }
        metrics.render()
    }
}
