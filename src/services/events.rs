//! `EventSink`: where a service hands the access events its committed write
//! appended to the log.

use std::sync::Arc;

use crate::access::LogFollower;
use crate::domain::AccessEvent;

/// The server puts its own writes in force in memory before answering, so a
/// deleted key is refused here at once; the CLI has no memory to update and
/// leaves the events to every server's follower. One code path for both.
#[derive(Clone)]
pub struct EventSink {
    follower: Option<Arc<LogFollower>>,
}

impl EventSink {
    /// A server's: events go into its access state, then it catches up.
    pub fn follower(follower: Arc<LogFollower>) -> Self {
        EventSink {
            follower: Some(follower),
        }
    }

    /// The CLI's: the log is the only place the events go.
    pub fn log_only() -> Self {
        EventSink { follower: None }
    }

    /// Puts committed events in force here (if this process keeps an access
    /// state). An empty list still reads the log, for a write whose effect
    /// another instance logged first.
    pub async fn put_in_force(&self, events: Vec<AccessEvent>) {
        if let Some(follower) = &self.follower {
            follower.apply_committed(events).await;
        }
    }
}
