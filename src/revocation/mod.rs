//! What each instance knows, in memory, about which tokens are still good:
//! active API keys, revoked token ids, user cut-offs and memberships. The hot
//! path reads only this; `sync` keeps it in step with `revocation_events`.

mod state;
mod sync;

pub use state::{KeyEntry, RevocationState};
pub use sync::{spawn_followers, Follower, FollowerSettings};
