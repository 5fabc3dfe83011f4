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
pub(super) const GAP_PATIENCE: Duration = Duration::from_secs(60);
/// How often the in-memory state forgets what has expired anyway.
const PRUNE_STATE_EVERY: Duration = Duration::from_secs(60);
/// How often the log itself is pruned (and once at start).
const PRUNE_LOG_EVERY: Duration = Duration::from_secs(3600);
const MAX_TRACKED_GAPS: usize = 10_000;

struct Cursor {
    last_id: i64,
    gaps: BTreeMap<i64, Instant>,
    /// Reloads still owed: they stay owed until they succeed.
    keys_dirty: bool,
    clients_dirty: bool,
}

/// Keeps one instance's `RevocationState` (and its key ring) up to date.
pub struct Follower {
    store: Store,
    state: Arc<RevocationState>,
    keys: Arc<KeyRing>,
    cursor: Mutex<Cursor>,
    log_retention: chrono::Duration,
    leeway: chrono::Duration,
}

/// What the follower needs to know from the settings.
pub struct FollowerSettings {
    pub max_staleness_seconds: u64,
    pub leeway_seconds: u64,
    /// Events older than this are pruned from the log: the longest lifetime
    /// of any token, plus leeway.
    pub log_retention: chrono::Duration,
}

impl Follower {
    /// Starts the cursor at the last event older than `GAP_PATIENCE`, then
    /// reads the snapshot, then replays every later event in order. An event
    /// that committed late, or during the snapshot, is not missed; replaying
    /// one that the snapshot already holds changes nothing.
    pub async fn load(
        store: Store,
        keys: Arc<KeyRing>,
        settings: FollowerSettings,
    ) -> anyhow::Result<Self> {
        let FollowerSettings {
            max_staleness_seconds,
            leeway_seconds,
            log_retention,
        } = settings;
        let patience = chrono::Duration::from_std(GAP_PATIENCE)?;
        let last_id = store
            .last_revocation_event_id_before(Utc::now() - patience)
            .await?;
        let started = Instant::now();
        let snapshot = load_snapshot(&store, leeway_seconds).await?;
        let state = RevocationState::new(snapshot, max_staleness_seconds, leeway_seconds);
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
            // The key ring was read before the cursor: read it again.
            cursor: Mutex::new(Cursor {
                last_id,
                gaps: BTreeMap::new(),
                keys_dirty: true,
                clients_dirty: false,
            }),
            log_retention,
            leeway: seconds(leeway_seconds),
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
            let mut events = Vec::with_capacity(rows.len());
            for row in rows {
                cursor.gaps.remove(&row.id);
                if row.id > cursor.last_id {
                    track_gaps(&mut cursor, row.id);
                    cursor.last_id = row.id;
                }
                match row.event {
                    Some(RevocationEvent::SigningKeysChanged { .. }) => cursor.keys_dirty = true,
                    Some(RevocationEvent::ClientsChanged { .. }) => cursor.clients_dirty = true,
                    Some(event) => events.push(event),
                    None => {
                        tracing::warn!(id = row.id, "skipping a revocation event of unknown kind")
                    }
                }
            }
            self.state.apply(events);
            cursor.gaps.retain(|_, seen| seen.elapsed() < GAP_PATIENCE);
            if !full_batch {
                break;
            }
        }
        if cursor.keys_dirty {
            self.keys.reload(&self.store).await?;
            cursor.keys_dirty = false;
        }
        if cursor.clients_dirty {
            self.state
                .set_clients(self.store.active_service_clients().await?);
            cursor.clients_dirty = false;
        }
        self.state.mark_refreshed();
        Ok(())
    }
}

impl Follower {
    /// Deletes events older than the longest token lifetime: the start-up
    /// snapshot reads their effects from the tables, and no token they
    /// concern can still be presented. A revoked token still alive (by
    /// `not_after`) keeps its event whatever its age.
    pub async fn prune_log(&self) -> anyhow::Result<u64> {
        let now = Utc::now();
        let pruned = self
            .store
            .prune_revocation_events(now - self.log_retention, now - self.leeway)
            .await?;
        if pruned > 0 {
            tracing::info!(pruned, "old revocation events pruned");
        }
        Ok(pruned)
    }
}

/// Remembers the ids skipped between the cursor and `next_id`: on PostgreSQL
/// they may belong to transactions that have not committed yet.
fn track_gaps(cursor: &mut Cursor, next_id: i64) {
    let missing = (cursor.last_id + 1)..next_id;
    if missing.is_empty() {
        return;
    }
    if cursor.gaps.len() + missing.clone().count() > MAX_TRACKED_GAPS {
        tracing::warn!(
            from = missing.start,
            to = missing.end,
            "too many revocation events in flight to track; later ones rely on the start-up replay"
        );
        return;
    }
    let now = Instant::now();
    cursor.gaps.extend(missing.map(|id| (id, now)));
}

fn seconds(seconds: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 1000))
}

async fn load_snapshot(store: &Store, leeway_seconds: u64) -> anyhow::Result<Snapshot> {
    let now = Utc::now();
    // A token is accepted until exp + leeway, so its revocation is kept as long.
    let leeway = seconds(leeway_seconds);
    Ok(Snapshot {
        active_keys: store.active_key_entries(now).await?,
        revoked_jtis: store.live_revoked_tokens(now - leeway).await?,
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
        let mut state_pruned = Instant::now();
        let mut log_pruned: Option<Instant> = None;
        loop {
            ticker.tick().await;
            if let Err(e) = follower.catch_up().await {
                tracing::warn!(error = %e, "cannot read revocation events; state is getting stale");
            }
            if state_pruned.elapsed() > PRUNE_STATE_EVERY {
                follower.state.prune(Utc::now());
                state_pruned = Instant::now();
            }
            if log_pruned.is_none_or(|at| at.elapsed() > PRUNE_LOG_EVERY) {
                match follower.prune_log().await {
                    Ok(_) => log_pruned = Some(Instant::now()),
                    Err(e) => tracing::warn!(error = %e, "cannot prune revocation events"),
                }
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
