//! `last_used_at` of API keys, collected in memory and written in batches,
//! so authenticating a request never writes to the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::clock::Clock;
use crate::store::Store;

pub struct KeyUsage {
    clock: Clock,
    pending: Mutex<HashMap<Uuid, DateTime<Utc>>>,
}

impl KeyUsage {
    pub fn new(clock: Clock) -> Self {
        KeyUsage {
            clock,
            pending: Mutex::default(),
        }
    }

    pub fn record(&self, key_id: Uuid) {
        let now = self.clock.now();
        let now = now
            .duration_trunc(chrono::Duration::seconds(1))
            .unwrap_or(now);
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key_id, now);
    }

    /// A use not yet written, so this instance's own listing is current.
    pub fn pending(&self, key_id: Uuid) -> Option<DateTime<Utc>> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key_id)
            .copied()
    }

    /// Writes what was collected; on failure it is kept for the next round.
    pub async fn flush(&self, store: &Store) {
        let batch: Vec<(Uuid, DateTime<Utc>)> = {
            let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.iter().map(|(k, v)| (*k, *v)).collect()
        };
        if batch.is_empty() {
            return;
        }
        match store.record_keys_used(&batch).await {
            Ok(()) => {
                let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
                for (key_id, at) in batch {
                    if pending.get(&key_id) == Some(&at) {
                        pending.remove(&key_id);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot write last_used_at; will retry"),
        }
    }
}

/// Writes what was collected every `interval`. On shutdown the application
/// stops this task and flushes once more.
pub fn spawn_flusher(usage: Arc<KeyUsage>, store: Store, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            usage.flush(&store).await;
        }
    })
}
