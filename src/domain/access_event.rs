//! What the access state is made of: the events every instance applies, in
//! log order, and the entry it keeps per active API key. Shared by `store`
//! (which encodes them in `revocation_events`) and `access` (which applies
//! them), so neither imports the other.

use std::collections::HashMap;

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
        /// SHA-256 of the key's token; `None` in events logged before
        /// digests were kept (such keys are checked by signature).
        digest: Option<[u8; 32]>,
        /// The key's `scope` claim; `None`: its creator's full rights.
        scopes: Option<String>,
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
/// fit in a few tens of megabytes, so the scopes are an index into
/// `ScopeSets` rather than strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveKey {
    pub company_id: Uuid,
    pub user_id: Uuid,
    /// Unix seconds.
    pub expires_at: i64,
    /// SHA-256 of the exact token string; `None` for keys made before
    /// digests were kept.
    pub digest: Option<[u8; 32]>,
    pub scopes: ScopeSetId,
}

/// Which of the distinct scope sets in a `ScopeSets` a key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScopeSetId(u32);

impl ScopeSetId {
    /// No scopes: the creator's full rights.
    pub const UNRESTRICTED: ScopeSetId = ScopeSetId(0);
}

/// The distinct scope sets (each as its `scope` claim) that keys hold: a
/// handful, however many keys share them.
#[derive(Debug, Default)]
pub struct ScopeSets {
    sets: Vec<Box<str>>,
    ids: HashMap<Box<str>, ScopeSetId>,
}

impl ScopeSets {
    /// The id of `scopes` (a `scope` claim; `None`: unrestricted), adding it
    /// if it is new.
    pub fn intern(&mut self, scopes: Option<&str>) -> ScopeSetId {
        let Some(scopes) = scopes else {
            return ScopeSetId::UNRESTRICTED;
        };
        if let Some(id) = self.ids.get(scopes) {
            return *id;
        }
        // Ids start at 1; 0 is unrestricted. Sets are never forgotten: they
        // come from the short configured list, so there are few.
        let id = ScopeSetId(u32::try_from(self.sets.len() + 1).unwrap_or(u32::MAX));
        self.sets.push(scopes.into());
        self.ids.insert(scopes.into(), id);
        id
    }

    /// The `scope` claim of `id`; `None` when unrestricted.
    pub fn claim(&self, id: ScopeSetId) -> Option<&str> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.sets.get(index).map(|s| &**s)
    }
}

/// The allow-list as read at start: the entries, and the scope sets they
/// point into.
#[derive(Debug, Default)]
pub struct ActiveKeys {
    pub entries: HashMap<Uuid, ActiveKey>,
    pub scope_sets: ScopeSets,
}

#[cfg(test)]
mod tests {
    use super::{ActiveKey, ScopeSetId, ScopeSets};

    #[test]
    fn scope_sets_are_shared_and_read_back() {
        let mut sets = ScopeSets::default();
        assert_eq!(sets.intern(None), ScopeSetId::UNRESTRICTED);
        let read = sets.intern(Some("datasets:read"));
        assert_ne!(read, ScopeSetId::UNRESTRICTED);
        assert_eq!(sets.intern(Some("datasets:read")), read);
        let both = sets.intern(Some("datasets:read datasets:write"));
        assert_ne!(both, read);
        assert_eq!(sets.claim(read), Some("datasets:read"));
        assert_eq!(sets.claim(both), Some("datasets:read datasets:write"));
        assert_eq!(sets.claim(ScopeSetId::UNRESTRICTED), None);
    }

    #[test]
    fn an_entry_stays_small() {
        // A million entries (plus their 16-byte ids) must stay well under
        // the 300 MB the memory scenario allows.
        assert!(std::mem::size_of::<ActiveKey>() <= 80);
    }
}
