//! `LogFollower`: keeps one instance's `AccessState` (and its key ring) in
//! step with the `revocation_events` log, reading it with a cursor.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::{AccessState, Snapshot};
use crate::clock::Clock;
use crate::domain::AccessEvent;
use crate::store::revocation_events::TransactionHorizon;
use crate::store::Store;
use crate::tokens::KeyRing;

const BATCH: u64 = 10_000;
/// How long an id skipped over by the cursor is waited for before the
/// follower stops trusting its reading of the log: longer than any
/// transaction that writes an event should take.
pub(super) const GAP_PATIENCE: Duration = Duration::from_secs(60);
const MAX_TRACKED_GAPS: usize = 10_000;

struct Cursor {
    last_id: i64,
    gaps: BTreeMap<i64, Gap>,
    /// Reloads still owed: they stay owed until they succeed.
    keys_dirty: bool,
    clients_dirty: bool,
    /// A gap outlived `GAP_PATIENCE`: the whole state is read again once no
    /// gap that old is left open.
    state_dirty: bool,
    /// Ids that may commit below the cursor but are not tracked one by one:
    /// too many skipped at once, or transactions already running when the
    /// state was loaded. Settled like a gap, and then the whole state is
    /// read again, which holds whatever they committed.
    untracked: Option<Gap>,
}

/// An event id the cursor skipped: its transaction may not have committed yet.
struct Gap {
    /// When it was first skipped (unix ms, by the clock).
    seen_at_ms: i64,
    /// On PostgreSQL, the next transaction id when it was skipped: once
    /// every transaction before that one has ended, the id either was read
    /// or never will be (its transaction rolled back).
    next_transaction: Option<i64>,
}

pub struct LogFollower {
    store: Store,
    state: Arc<AccessState>,
    keys: Arc<KeyRing>,
    clock: Clock,
    cursor: Mutex<Cursor>,
    log_retention: chrono::Duration,
    leeway: chrono::Duration,
}

/// What the follower needs to know from the settings.
pub struct FollowerSettings {
    pub max_staleness: chrono::Duration,
    pub leeway: chrono::Duration,
    /// Events older than this are pruned from the log: the longest lifetime
    /// of any token, plus leeway.
    pub log_retention: chrono::Duration,
}

impl LogFollower {
    /// Starts the cursor at the last event older than `GAP_PATIENCE`, then
    /// reads the snapshot, then replays every later event in order. An event
    /// that committed late, or during the snapshot, is not missed; replaying
    /// one that the snapshot already holds changes nothing.
    pub async fn load(
        store: Store,
        keys: Arc<KeyRing>,
        clock: Clock,
        settings: FollowerSettings,
    ) -> anyhow::Result<Self> {
        let FollowerSettings {
            max_staleness,
            leeway,
            log_retention,
        } = settings;
        let patience = chrono::Duration::from_std(GAP_PATIENCE)?;
        let last_id = store
            .last_revocation_event_id_before(clock.now() - patience)
            .await?;
        // A transaction already running may commit events whose ids are
        // below the cursor, and effects the snapshot cannot see yet.
        let running = store
            .transaction_horizon()
            .await?
            .filter(|horizon| horizon.oldest_running < horizon.next)
            .map(|horizon| Gap {
                seen_at_ms: clock.unix_millis(),
                next_transaction: Some(horizon.next),
            });
        let started = Instant::now();
        let snapshot = load_snapshot(&store, clock.now(), leeway).await?;
        let state = AccessState::new(snapshot, clock.clone(), max_staleness, leeway);
        tracing::info!(
            active_keys = state.active_key_count(),
            revoked_tokens = state.revoked_token_count(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "access state loaded"
        );
        let follower = LogFollower {
            store,
            state: Arc::new(state),
            keys,
            clock,
            // The key ring was read before the cursor: read it again.
            cursor: Mutex::new(Cursor {
                last_id,
                gaps: BTreeMap::new(),
                keys_dirty: true,
                clients_dirty: false,
                state_dirty: false,
                untracked: running,
            }),
            log_retention,
            leeway,
        };
        follower.catch_up().await?;
        Ok(follower)
    }

    /// The id of the last event read, for the cursor-lag metric.
    pub async fn cursor_position(&self) -> i64 {
        self.cursor.lock().await.last_id
    }

    pub fn state(&self) -> Arc<AccessState> {
        self.state.clone()
    }

    /// Puts this instance's own committed write in force before its caller
    /// is answered, then reads whatever else the log holds. A failed read
    /// is only logged: the write itself is already in force here.
    pub async fn apply_committed(&self, events: Vec<AccessEvent>) {
        {
            // Not in the middle of a reload, whose older snapshot would
            // otherwise replace this write until the log is read again.
            let _cursor = self.cursor.lock().await;
            self.state.apply(events);
        }
        if let Err(e) = self.catch_up().await {
            tracing::warn!(error = %e, "cannot read revocation events after a write");
        }
    }

    /// Reads and applies every event not yet seen, reloads the signing keys
    /// or service clients if an event says they changed, and marks the
    /// state fresh.
    ///
    /// An id skipped over (on PostgreSQL a sequence id can commit after a
    /// higher one) is asked for again until it is read, or until every
    /// transaction running when it was skipped has ended. A gap still open
    /// after `GAP_PATIENCE` makes the state not fresh while it stays open,
    /// and forces a full reload of the state once it closes.
    pub async fn catch_up(&self) -> anyhow::Result<()> {
        if self.store.is_unreachable() {
            self.store.probe().await?;
        }
        let result = self.catch_up_reachable().await;
        if let Err(e) = &result {
            let db_errors: Vec<&sea_orm::DbErr> = e
                .chain()
                .filter_map(|cause| cause.downcast_ref::<sea_orm::DbErr>())
                .collect();
            for db_error in db_errors {
                self.store.note_error(db_error).await;
            }
        }
        result
    }

    async fn catch_up_reachable(&self) -> anyhow::Result<()> {
        let mut cursor = self.cursor.lock().await;
        // Read before the log: a gap whose transactions had all ended by
        // then, and that the read below does not return, was rolled back.
        let horizon = if cursor.gaps.is_empty() && cursor.untracked.is_none() {
            None
        } else {
            self.store.transaction_horizon().await?
        };
        self.read_log(&mut cursor).await?;
        let gap_open = self.settle_gaps(&mut cursor, horizon);
        if cursor.state_dirty && !gap_open {
            let started = Instant::now();
            let snapshot = load_snapshot(&self.store, self.clock.now(), self.leeway).await?;
            self.state.reload(snapshot);
            // Whatever committed while the snapshot was read.
            self.read_log(&mut cursor).await?;
            cursor.state_dirty = false;
            tracing::warn!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "access state reloaded after a gap in the revocation log outlived its patience"
            );
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
        self.state.set_gap_open(gap_open);
        self.state.mark_refreshed();
        Ok(())
    }

    /// Reads the events after the cursor and in its gaps, in batches, and
    /// applies them. If any read fails, the cursor goes back to where it
    /// was, so the ids it skipped meanwhile are not lost: they are read
    /// again, and applying an event twice is harmless.
    async fn read_log(&self, cursor: &mut Cursor) -> anyhow::Result<()> {
        let start = cursor.last_id;
        let result = self.read_log_from_cursor(cursor).await;
        if result.is_err() {
            cursor.last_id = start;
        }
        result
    }

    async fn read_log_from_cursor(&self, cursor: &mut Cursor) -> anyhow::Result<()> {
        let mut skipped = BTreeSet::new();
        let mut overflowed = false;
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
                skipped.remove(&row.id);
                if row.id > cursor.last_id {
                    let missing = (cursor.last_id + 1)..row.id;
                    if cursor.gaps.len() + skipped.len() + missing.clone().count()
                        > MAX_TRACKED_GAPS
                    {
                        tracing::warn!(
                            from = missing.start,
                            to = missing.end,
                            "too many revocation events in flight to track; the access state will be reloaded once their transactions end"
                        );
                        overflowed = true;
                    } else {
                        skipped.extend(missing);
                    }
                    cursor.last_id = row.id;
                }
                match row.event {
                    Some(AccessEvent::SigningKeysChanged { .. }) => cursor.keys_dirty = true,
                    Some(AccessEvent::ClientsChanged { .. }) => cursor.clients_dirty = true,
                    Some(event) => events.push(event),
                    None => {
                        tracing::warn!(id = row.id, "skipping a revocation event of unknown kind")
                    }
                }
            }
            self.state.apply(events);
            if !full_batch {
                break;
            }
        }
        if !skipped.is_empty() || overflowed {
            // Read after the log: every transaction that had taken a
            // skipped id had its own id by then (`revocation_events::append`).
            let next = self.store.transaction_horizon().await?.map(|h| h.next);
            let now_ms = self.clock.unix_millis();
            track_gaps(cursor, skipped, now_ms, next);
            if overflowed {
                cursor.untracked = Some(match cursor.untracked.take() {
                    // Waits for the later horizon, counts patience from the
                    // earlier sighting.
                    Some(old) => Gap {
                        seen_at_ms: old.seen_at_ms,
                        next_transaction: old.next_transaction.max(next),
                    },
                    None => Gap {
                        seen_at_ms: now_ms,
                        next_transaction: next,
                    },
                });
            }
        }
        Ok(())
    }

    /// Forgets the gaps that can no longer be filled, and says whether one
    /// has been open past `GAP_PATIENCE` and still may be filled.
    fn settle_gaps(&self, cursor: &mut Cursor, horizon: Option<TransactionHorizon>) -> bool {
        let may_still_commit = |gap: &Gap| match (gap.next_transaction, horizon) {
            // SQLite: one writer, nothing left running.
            (None, _) => false,
            (Some(next), Some(horizon)) => next > horizon.oldest_running,
            // Not asked yet: the next catch-up reads the horizon.
            (Some(_), None) => true,
        };
        if let Some(horizon) = horizon {
            cursor.gaps.retain(|_, gap| {
                gap.next_transaction
                    .is_none_or(|next| next > horizon.oldest_running)
            });
        }
        let patience_ms = GAP_PATIENCE.as_millis() as i64;
        let now_ms = self.clock.unix_millis();
        let mut untracked_open = false;
        if let Some(untracked) = &cursor.untracked {
            if may_still_commit(untracked) {
                untracked_open = now_ms - untracked.seen_at_ms >= patience_ms;
            } else {
                cursor.untracked = None;
                cursor.state_dirty = true;
            }
        }
        let mut open = false;
        let mut overdue = false;
        cursor.gaps.retain(|_, gap| {
            if now_ms - gap.seen_at_ms < patience_ms {
                return true;
            }
            overdue = true;
            // Without transaction ids to wait on, nothing tells whether it
            // may still commit: the reload reads whatever has.
            let may_commit = gap.next_transaction.is_some();
            open |= may_commit;
            may_commit
        });
        if overdue && !cursor.state_dirty {
            tracing::warn!(
                open,
                "a gap in the revocation log outlived its patience; the access state will be reloaded"
            );
        }
        cursor.state_dirty |= overdue;
        open || untracked_open
    }

    /// Forgets from memory what has expired anyway: revocations and keys of
    /// tokens past their `exp`, and retired signing keys whose last token
    /// can have expired (they leave the JWKS then).
    pub async fn prune_memory(&self) {
        self.state.prune();
        if let Err(e) = self.keys.drop_expired(&self.store).await {
            tracing::warn!(error = %e, "cannot drop expired signing keys");
        }
    }

    /// Deletes events older than the longest token lifetime: the start-up
    /// snapshot reads their effects from the tables, and no token they
    /// concern can still be presented. A revoked token still alive (by
    /// `not_after`) keeps its event whatever its age.
    pub async fn prune_log(&self) -> anyhow::Result<u64> {
        let now = self.clock.now();
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

/// Remembers ids the cursor skipped: on PostgreSQL they may belong to
/// transactions that have not committed yet.
fn track_gaps(cursor: &mut Cursor, skipped: BTreeSet<i64>, now_ms: i64, next: Option<i64>) {
    cursor.gaps.extend(skipped.into_iter().map(|id| {
        let gap = Gap {
            seen_at_ms: now_ms,
            next_transaction: next,
        };
        (id, gap)
    }));
}

async fn load_snapshot(
    store: &Store,
    now: chrono::DateTime<chrono::Utc>,
    leeway: chrono::Duration,
) -> anyhow::Result<Snapshot> {
    Ok(Snapshot {
        active_keys: store.active_key_entries(now).await?,
        // A token is accepted until exp + leeway, so its revocation is kept as long.
        revoked_jtis: store.live_revoked_tokens(now - leeway).await?,
        disabled_users: store.disabled_user_ids().await?,
        user_cutoffs: store.user_token_cutoffs().await?,
        memberships: store.all_memberships().await?,
        clients: store.active_service_clients().await?,
    })
}
