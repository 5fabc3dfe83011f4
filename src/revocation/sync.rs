//! Follows `revocation_events` with a cursor: a periodic read on every
//! database, plus an immediate read after each local write.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Mutex;

use super::state::Snapshot;
use super::RevocationState;
use crate::store::revocation_events::{RevocationEvent, NOTIFY_CHANNEL};
use crate::store::Store;
use crate::tokens::KeyRing;

const BATCH: u64 = 10_000;
/// How long an id skipped over by the cursor is asked for again: longer than
/// any transaction that writes an event.
const GAP_PATIENCE: Duration = Duration::from_secs(60);
const MAX_TRACKED_GAPS: usize = 10_000;

struct Cursor {
    last_id: i64,
    gaps: BTreeMap<i64, Instant>,
}

/// Keeps one instance's `RevocationState` (and its key ring) up to date.
pub struct Follower {
    store: Store,
    state: Arc<RevocationState>,
    keys: Arc<KeyRing>,
    cursor: Mutex<Cursor>,
}

impl Follower {
    /// Reads the cursor first, then the snapshot: events in between are read
    /// again, and applying an event twice changes nothing.
    pub async fn load(
        store: Store,
        keys: Arc<KeyRing>,
        max_staleness_seconds: u64,
    ) -> anyhow::Result<Self> {
        let last_id = store.last_revocation_event_id().await?;
        let started = Instant::now();
        let snapshot = load_snapshot(&store).await?;
        let state = RevocationState::new(snapshot, max_staleness_seconds);
        tracing::info!(
            active_keys = state.active_key_count(),
            revoked_tokens = state.revoked_token_count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "revocation state loaded"
        );
        let follower = Follower {
            store,
            state: Arc::new(state),
            keys,
            cursor: Mutex::new(Cursor {
                last_id,
                gaps: BTreeMap::new(),
            }),
        };
        follower.catch_up().await?;
        Ok(follower)
    }

    pub fn state(&self) -> Arc<RevocationState> {
        self.state.clone()
    }

    /// Reads and applies every event not yet seen. Called after each local
    /// write, so a change answered here is already in force here.
    pub async fn catch_up(&self) -> anyhow::Result<()> {
        let mut cursor = self.cursor.lock().await;
        loop {
            let gaps: Vec<i64> = cursor.gaps.keys().copied().collect();
            let rows = self
                .store
                .revocation_events_after(cursor.last_id, &gaps, BATCH)
                .await?;
            let full_batch = rows.len() as u64 == BATCH;
            let mut keys_changed = false;
            let mut clients_changed = false;
            let mut events = Vec::with_capacity(rows.len());
            for row in rows {
                cursor.gaps.remove(&row.id);
                if row.id > cursor.last_id {
                    let now = Instant::now();
                    let missing = (cursor.last_id + 1)..row.id;
                    if cursor.gaps.len() + missing.clone().count() <= MAX_TRACKED_GAPS {
                        cursor.gaps.extend(missing.map(|id| (id, now)));
                    }
                    cursor.last_id = row.id;
                }
                match row.event {
                    Some(RevocationEvent::SigningKeysChanged { .. }) => keys_changed = true,
                    Some(RevocationEvent::ClientsChanged { .. }) => clients_changed = true,
                    Some(event) => events.push(event),
                    None => {
                        tracing::warn!(id = row.id, "skipping a revocation event of unknown kind")
                    }
                }
            }
            tracing::debug!(
                events = events.len(),
                last_id = cursor.last_id,
                "revocation events applied"
            );
            self.state.apply(events);
            if keys_changed {
                self.keys.reload(&self.store).await?;
            }
            if clients_changed {
                self.state
                    .set_clients(self.store.active_service_clients().await?);
            }
            cursor.gaps.retain(|_, seen| seen.elapsed() < GAP_PATIENCE);
            if !full_batch {
                break;
            }
        }
        self.state.mark_refreshed();
        Ok(())
    }
}

async fn load_snapshot(store: &Store) -> anyhow::Result<Snapshot> {
    let now = Utc::now();
    Ok(Snapshot {
        active_keys: store.active_key_entries(now).await?,
        revoked_jtis: store.live_revoked_tokens(now).await?,
        disabled_users: store.disabled_user_ids().await?,
        user_cutoffs: store.user_token_cutoffs().await?,
        memberships: store.all_memberships().await?,
        clients: store.active_service_clients().await?,
    })
}

/// Starts the periodic follower and, on PostgreSQL, the LISTEN/NOTIFY
/// doorbell. The doorbell is listening before this returns, so an instance
/// that serves also hears. Both run until the runtime stops.
pub async fn spawn_followers(follower: Arc<Follower>, poll_interval: Duration, database_url: &str) {
    if database_url.starts_with("postgres") {
        let first = listen(database_url).await;
        spawn_doorbell(follower.clone(), database_url.to_owned(), first);
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(poll_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = Instant::now();
        loop {
            ticker.tick().await;
            if let Err(e) = follower.catch_up().await {
                tracing::warn!(error = %e, "cannot read revocation events; state is getting stale");
            }
            if last_prune.elapsed() > Duration::from_secs(60) {
                follower.state.prune(Utc::now());
                last_prune = Instant::now();
            }
        }
    });
}

type Listener = sea_orm::sqlx::postgres::PgListener;

async fn listen(database_url: &str) -> Option<Listener> {
    let listener = async {
        let mut listener = Listener::connect(database_url).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok::<_, sea_orm::sqlx::Error>(listener)
    };
    listener
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "cannot listen for revocation events; relying on polling"))
        .ok()
}

/// Reads the log as soon as another replica appends to it. A missed ring
/// costs at most one poll interval.
fn spawn_doorbell(follower: Arc<Follower>, database_url: String, mut listener: Option<Listener>) {
    tokio::spawn(async move {
        loop {
            let Some(mut active) = listener.take() else {
                tokio::time::sleep(Duration::from_secs(5)).await;
                listener = listen(&database_url).await;
                continue;
            };
            // Whatever was appended while nobody listened.
            if let Err(e) = follower.catch_up().await {
                tracing::warn!(error = %e, "cannot read revocation events");
            }
            loop {
                if let Err(e) = active.recv().await {
                    tracing::warn!(error = %e, "revocation doorbell lost; reconnecting");
                    break;
                }
                if let Err(e) = follower.catch_up().await {
                    tracing::warn!(error = %e, "cannot read revocation events after a notification");
                }
            }
        }
    });
}
