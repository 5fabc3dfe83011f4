//! What each instance knows, in memory, about which tokens are still good:
//! active API keys, revoked token ids, user cut-offs, memberships and the
//! service clients allowed to introspect. The hot path reads only
//! `AccessState`; `LogFollower` keeps it in step with the `revocation_events`
//! table, and `tasks` runs the follower, the doorbell and the pruner.

mod client_secrets;
mod follower;
mod state;
pub mod tasks;

pub use follower::{FollowerSettings, LogFollower};
pub use state::{AccessState, Snapshot, ENDED_KEY_MARKER_SECONDS};
