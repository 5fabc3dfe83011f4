//! `AccessState`: the in-memory answer to "is this token still good?".

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::client_secrets::ClientSecrets;
use crate::clock::Clock;
use crate::domain::{AccessEvent, ActiveKey, ActiveKeys, Role, ScopeSets};
use crate::tokens::{Claims, KeyVouch, TokenKind};

/// How long the marker of an ended key is kept, in seconds.
///
/// The marker stops a key's creation from being applied after its ending.
/// That can only happen while the creation is still being read or put in
/// force: the follower reads in id order, and a creation commits before
/// its key can be ended, so the creation comes late only when it is read
/// again, by the start-up replay or a gap re-read, each reaching back
/// `GAP_PATIENCE` (60 s); or when the replica that created the key puts its
/// own creation in force just after committing, by which time its follower
/// may already have read a quick ending. Twice `GAP_PATIENCE` outlives all
/// of these. Keeping the marker until the key would have expired (up to a
/// year) instead let a member who creates and deletes keys in a loop fill
/// every replica's memory.
pub const ENDED_KEY_MARKER_SECONDS: i64 = 2 * super::follower::GAP_PATIENCE.as_secs() as i64;

#[derive(Default, Clone, Copy)]
struct UserCutoff {
    disabled: bool,
    /// Tokens issued before this instant (unix ms) are dead.
    valid_after_ms: Option<i64>,
}

#[derive(Default)]
struct Inner {
    active_keys: HashMap<Uuid, ActiveKey>,
    /// The scope sets `active_keys` entries point into.
    scope_sets: ScopeSets,
    /// Keys ended (deleted or revoked) lately, with when their marker may
    /// go (unix seconds): a creation applied late cannot bring them back.
    ended_keys: HashMap<Uuid, i64>,
    /// Revoked short-lived token ids, with their `exp`.
    revoked_jtis: HashMap<Uuid, i64>,
    users: HashMap<Uuid, UserCutoff>,
    memberships: HashMap<(Uuid, Uuid), Role>,
    clients: ClientSecrets,
}

pub struct AccessState {
    inner: RwLock<Inner>,
    clock: Clock,
    refreshed_at_ms: AtomicI64,
    gap_open: AtomicBool,
    max_staleness_ms: i64,
    /// Tokens are accepted until exp + leeway: revocations are kept as long.
    leeway_seconds: i64,
}

/// A full picture read from the database at start.
#[derive(Default)]
pub struct Snapshot {
    pub active_keys: ActiveKeys,
    pub revoked_jtis: Vec<(Uuid, DateTime<Utc>)>,
    pub disabled_users: Vec<Uuid>,
    pub user_cutoffs: Vec<(Uuid, DateTime<Utc>)>,
    pub memberships: Vec<(Uuid, Uuid, Role)>,
    /// (client_id, hex SHA-256 of the secret).
    pub clients: Vec<(String, String)>,
}

impl From<Snapshot> for Inner {
    fn from(snapshot: Snapshot) -> Self {
        let mut inner = Inner {
            active_keys: snapshot.active_keys.entries,
            scope_sets: snapshot.active_keys.scope_sets,
            ..Inner::default()
        };
        inner.revoked_jtis.extend(
            snapshot
                .revoked_jtis
                .into_iter()
                .map(|(j, exp)| (j, exp.timestamp())),
        );
        for user in snapshot.disabled_users {
            inner.users.entry(user).or_default().disabled = true;
        }
        for (user, after) in snapshot.user_cutoffs {
            inner.users.entry(user).or_default().valid_after_ms = Some(after.timestamp_millis());
        }
        inner.memberships.extend(
            snapshot
                .memberships
                .into_iter()
                .map(|(u, c, r)| ((u, c), r)),
        );
        inner.clients = ClientSecrets::new(snapshot.clients);
        inner
    }
}

impl AccessState {
    pub fn new(
        snapshot: Snapshot,
        clock: Clock,
        max_staleness: chrono::Duration,
        leeway: chrono::Duration,
    ) -> Self {
        let state = AccessState {
            inner: RwLock::new(Inner::from(snapshot)),
            clock,
            refreshed_at_ms: AtomicI64::new(0),
            gap_open: AtomicBool::new(false),
            max_staleness_ms: max_staleness.num_milliseconds(),
            leeway_seconds: leeway.num_seconds(),
        };
        state.mark_refreshed();
        state
    }

    /// Replaces everything with a snapshot read afresh, keeping the markers
    /// of ended keys: neither a creation read late nor a snapshot read just
    /// before a deletion may revive them.
    pub fn reload(&self, snapshot: Snapshot) {
        let mut fresh = Inner::from(snapshot);
        let mut inner = self.write();
        fresh.ended_keys = std::mem::take(&mut inner.ended_keys);
        let ended = &fresh.ended_keys;
        fresh
            .active_keys
            .retain(|key_id, _| !ended.contains_key(key_id));
        *inner = fresh;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the follower is waiting on an event id skipped for longer than
    /// it may be (a transaction still running): the state is not fresh then.
    pub fn set_gap_open(&self, open: bool) {
        self.gap_open.store(open, Ordering::Release);
    }

    pub fn gap_open(&self) -> bool {
        self.gap_open.load(Ordering::Acquire)
    }

    /// Records that the state has just caught up with the log.
    pub fn mark_refreshed(&self) {
        self.refreshed_at_ms
            .store(self.clock.unix_millis(), Ordering::Release);
    }

    /// False once the state has not caught up for `max_staleness`, or
    /// while a gap in the log stays open past its patience.
    pub fn is_fresh(&self) -> bool {
        !self.gap_open() && self.staleness_ms() <= self.max_staleness_ms
    }

    /// Milliseconds since the state last caught up with the log.
    pub fn staleness_ms(&self) -> i64 {
        self.clock.unix_millis() - self.refreshed_at_ms.load(Ordering::Acquire)
    }

    /// Whether a token whose signature and claims are already verified is still good.
    pub fn is_active(&self, claims: &Claims) -> bool {
        let inner = self.read();
        let user = inner.users.get(&claims.sub).copied().unwrap_or_default();
        if user.disabled
            || user
                .valid_after_ms
                .is_some_and(|after| claims.issued_at_ms() < after)
        {
            return false;
        }
        match claims.kind {
            TokenKind::ShortLived => !inner.revoked_jtis.contains_key(&claims.jti),
            TokenKind::ApiKey => {
                let Some(company_id) = claims.company_id else {
                    return false;
                };
                let key_matches = inner
                    .active_keys
                    .get(&claims.jti)
                    .is_some_and(|k| k.company_id == company_id && k.user_id == claims.sub);
                key_matches && inner.memberships.contains_key(&(claims.sub, company_id))
            }
        }
    }

    /// Whether the allow-list vouches for an API key's token without its
    /// signature: `claims` are the token's own, not yet verified; `digest`
    /// is the SHA-256 of the whole token. The key must be active, and the
    /// digest and scopes it was created with must match: then the token is
    /// byte for byte the one we issued. A key from before digests were kept
    /// leaves the signature to decide.
    pub fn vouch_for_key(&self, claims: &Claims, digest: &[u8; 32]) -> KeyVouch {
        let inner = self.read();
        let Some(key) = inner.active_keys.get(&claims.jti) else {
            return KeyVouch::Refused;
        };
        let Some(expected) = key.digest else {
            return KeyVouch::Unknown;
        };
        if !digests_equal(&expected, digest) {
            return KeyVouch::Refused;
        }
        // The token is the one we issued. Should its claims still disagree
        // with the entry, the signature path decides, as it did before.
        let agrees = claims.company_id == Some(key.company_id)
            && claims.sub == key.user_id
            && claims.exp == key.expires_at
            && claims.scope.as_deref() == inner.scope_sets.claim(key.scopes);
        if agrees {
            KeyVouch::Vouched
        } else {
            KeyVouch::Unknown
        }
    }

    /// Whether the secret is the client's, compared in constant time.
    pub fn client_matches(&self, client_id: &str, secret: &str) -> bool {
        self.read().clients.matches(client_id, secret)
    }

    /// Replaces the service clients: (client_id, hex SHA-256 of the secret).
    pub fn set_clients(&self, clients: Vec<(String, String)>) {
        self.write().clients = ClientSecrets::new(clients);
    }

    pub fn role_in(&self, user_id: Uuid, company_id: Uuid) -> Option<Role> {
        self.read().memberships.get(&(user_id, company_id)).copied()
    }

    pub fn active_key_count(&self) -> usize {
        self.read().active_keys.len()
    }

    pub fn revoked_token_count(&self) -> usize {
        self.read().revoked_jtis.len()
    }

    /// Applies events in log order. Every event is idempotent, so reading
    /// one twice is harmless. `SigningKeysChanged` and `ClientsChanged` are
    /// the follower's to act on: they change nothing here.
    pub fn apply(&self, events: impl IntoIterator<Item = AccessEvent>) {
        let marker_until = self.clock.unix_seconds() + ENDED_KEY_MARKER_SECONDS;
        let mut inner = self.write();
        for event in events {
            match event {
                AccessEvent::KeyCreated {
                    key_id,
                    company_id,
                    user_id,
                    expires_at,
                    digest,
                    scopes,
                } => {
                    if !inner.ended_keys.contains_key(&key_id) {
                        let scopes = inner.scope_sets.intern(scopes.as_deref());
                        let entry = ActiveKey {
                            company_id,
                            user_id,
                            expires_at: expires_at.timestamp(),
                            digest,
                            scopes,
                        };
                        inner.active_keys.insert(key_id, entry);
                    }
                }
                AccessEvent::KeyDeleted { key_id } | AccessEvent::KeyRevoked { key_id } => {
                    inner.active_keys.remove(&key_id);
                    inner.ended_keys.insert(key_id, marker_until);
                }
                AccessEvent::TokenRevoked { jti, expires_at } => {
                    inner.revoked_jtis.insert(jti, expires_at.timestamp());
                }
                AccessEvent::UserDisabled { user_id } => {
                    inner.users.entry(user_id).or_default().disabled = true;
                }
                AccessEvent::UserTokensRevoked {
                    user_id,
                    valid_after,
                } => {
                    let cutoff = inner.users.entry(user_id).or_default();
                    let after = valid_after.timestamp_millis();
                    cutoff.valid_after_ms =
                        Some(cutoff.valid_after_ms.map_or(after, |old| old.max(after)));
                }
                AccessEvent::MembershipChanged {
                    user_id,
                    company_id,
                    role,
                } => match role {
                    Some(role) => {
                        inner.memberships.insert((user_id, company_id), role);
                    }
                    None => {
                        inner.memberships.remove(&(user_id, company_id));
                    }
                },
                AccessEvent::SigningKeysChanged { .. } | AccessEvent::ClientsChanged { .. } => {}
            }
        }
    }

    /// Forgets entries whose tokens have expired anyway, and markers of
    /// ended keys that no replay can need any more.
    pub fn prune(&self) {
        let now = self.clock.unix_seconds();
        let horizon = now - self.leeway_seconds;
        let mut inner = self.write();
        inner.revoked_jtis.retain(|_, exp| *exp >= horizon);
        inner.active_keys.retain(|_, key| key.expires_at >= horizon);
        inner.ended_keys.retain(|_, until| *until >= now);
    }
}

/// Digests compared without an early exit, so the time taken tells a
/// caller nothing about how much of a valid key's digest they guessed.
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
