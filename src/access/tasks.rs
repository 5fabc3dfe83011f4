//! The follower's background tasks: the periodic read of the log, the
//! PostgreSQL doorbell, and the pruner. Each is returned as a handle; the
//! application owns them and stops them on shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::LogFollower;
use crate::store::revocation_events::NOTIFY_CHANNEL;

/// How often the in-memory state forgets what has expired anyway.
const PRUNE_STATE_EVERY: Duration = Duration::from_secs(60);
/// How often the log itself is pruned (and once at start).
const PRUNE_LOG_EVERY: Duration = Duration::from_secs(3600);
/// How long to wait before listening again after the doorbell was lost.
const RELISTEN_AFTER: Duration = Duration::from_secs(5);

/// Reads the log every `interval`, on every database: what the doorbell
/// missed is read at most one interval late, and a read that succeeds
/// keeps the state fresh.
pub fn spawn_poller(follower: Arc<LogFollower>, interval: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = follower.catch_up().await {
                tracing::warn!(error = %e, "cannot read revocation events; state is getting stale");
            }
        }
    })
}

/// Forgets expired entries (and expired signing keys) from memory every
/// minute, and prunes the log
/// once at start and then every hour.
pub fn spawn_pruner(follower: Arc<LogFollower>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PRUNE_STATE_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut log_pruned: Option<Instant> = None;
        loop {
            ticker.tick().await;
            follower.prune_memory().await;
            if log_pruned.is_none_or(|at| at.elapsed() > PRUNE_LOG_EVERY) {
                match follower.prune_log().await {
                    Ok(_) => log_pruned = Some(Instant::now()),
                    Err(e) => tracing::warn!(error = %e, "cannot prune revocation events"),
                }
            }
        }
    })
}

type Listener = sea_orm::sqlx::postgres::PgListener;

/// On PostgreSQL, reads the log as soon as another replica appends to it
/// (LISTEN/NOTIFY). It is listening before this returns, so a write made
/// once the server serves is heard. None on other databases.
pub async fn spawn_doorbell(
    follower: Arc<LogFollower>,
    database_url: &str,
) -> Option<JoinHandle<()>> {
    if !database_url.starts_with("postgres") {
        return None;
    }
    let mut listener = listen(database_url).await;
    let database_url = database_url.to_owned();
    Some(tokio::spawn(async move {
        loop {
            let Some(mut active) = listener.take() else {
                tokio::time::sleep(RELISTEN_AFTER).await;
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
    }))
}

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
