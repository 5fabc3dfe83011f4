//! What the access state is made of: the events every instance applies, in
//! log order, and the entry it keeps per active API key. Shared by `store`
//! (which encodes them in `revocation_events`) and `access` (which applies
//! them), so neither imports the other.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Role;

/// One change to who may use which token, as appended to the log.
#[derive(Debug, Clone, PartialEq)]
pub enum AccessEvent {
    KeyCreated {
        key_id: Uuid,
        company_id: Uuid,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    KeyDeleted {
        key_id: Uuid,
    },
    /// Ended for good without being deleted (member removed, user disabled,
    /// tokens revoked); in force exactly like a deletion.
    KeyRevoked {
        key_id: Uuid,
    },
    TokenRevoked {
        jti: Uuid,
        expires_at: DateTime<Utc>,
    },
    UserDisabled {
        user_id: Uuid,
    },
    UserTokensRevoked {
        user_id: Uuid,
        valid_after: DateTime<Utc>,
    },
    MembershipChanged {
        user_id: Uuid,
        company_id: Uuid,
        role: Option<Role>,
    },
    /// The signing keys changed: reload the key ring.
    SigningKeysChanged {
        kid: String,
    },
    /// The service clients changed: reload them.
    ClientsChanged {
        client_id: String,
    },
}

/// An API key in the allow-list. Small and `Copy`: a million of them must
/// fit in a few tens of megabytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveKey {
    pub company_id: Uuid,
    pub user_id: Uuid,
    /// Unix seconds.
    pub expires_at: i64,
}
