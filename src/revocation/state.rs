use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::Role;
use crate::store::revocation_events::RevocationEvent;
use crate::tokens::{Claims, TokenKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEntry {
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: i64,
}

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
pub const ENDED_KEY_MARKER_SECONDS: i64 = 2 * super::sync::GAP_PATIENCE.as_secs() as i64;

#[derive(Default, Clone, Copy)]
struct UserCutoff {
    disabled: bool,
    /// Tokens issued before this instant (unix ms) are dead.
    valid_after_ms: Option<i64>,
}

#[derive(Default)]
struct Inner {
    active_keys: HashMap<Uuid, KeyEntry>,
    /// Keys ended (deleted or revoked) lately, with when their marker may
    /// go (unix seconds): a creation applied late cannot bring them back.
    ended_keys: HashMap<Uuid, i64>,
    /// Revoked short-lived token ids, with their `exp`.
    revoked_jtis: HashMap<Uuid, i64>,
    users: HashMap<Uuid, UserCutoff>,
    memberships: HashMap<(Uuid, Uuid), Role>,
    /// Introspection callers: client_id to SHA-256 of the secret.
    clients: HashMap<String, [u8; 32]>,
}

pub struct RevocationState {
    inner: RwLock<Inner>,
    refreshed_at_ms: AtomicI64,
    max_staleness_ms: i64,
    /// Tokens are accepted until exp + leeway: revocations are kept as long.
    leeway_seconds: i64,
}

/// A full picture read from the database at start.
#[derive(Default)]
pub struct Snapshot {
    pub active_keys: HashMap<Uuid, KeyEntry>,
    pub revoked_jtis: Vec<(Uuid, DateTime<Utc>)>,
    pub disabled_users: Vec<Uuid>,
    pub user_cutoffs: Vec<(Uuid, DateTime<Utc>)>,
    pub memberships: Vec<(Uuid, Uuid, Role)>,
    pub clients: Vec<(String, String)>,
}

impl RevocationState {
    pub fn new(snapshot: Snapshot, max_staleness_seconds: u64, leeway_seconds: u64) -> Self {
        let mut inner = Inner {
            active_keys: snapshot.active_keys,
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
        inner.clients = client_map(snapshot.clients);
        let state = RevocationState {
            inner: RwLock::new(inner),
            refreshed_at_ms: AtomicI64::new(0),
            max_staleness_ms: i64::try_from(max_staleness_seconds.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            leeway_seconds: i64::try_from(leeway_seconds).unwrap_or(i64::MAX / 2),
        };
        state.mark_refreshed();
        state
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn mark_refreshed(&self) {
        self.refreshed_at_ms
            .store(Utc::now().timestamp_millis(), Ordering::Release);
    }

    /// False once the state has not been refreshed for `max_staleness_seconds`.
    pub fn is_fresh(&self) -> bool {
        Utc::now().timestamp_millis() - self.refreshed_at_ms.load(Ordering::Acquire)
            <= self.max_staleness_ms
    }

    pub fn staleness_ms(&self) -> i64 {
        Utc::now().timestamp_millis() - self.refreshed_at_ms.load(Ordering::Acquire)
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
            TokenKind::Private => {
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

    /// Whether the secret is the client's, compared in constant time.
    pub fn client_matches(&self, client_id: &str, secret: &str) -> bool {
        let presented = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
        match self.read().clients.get(client_id) {
            Some(stored) => constant_time_eq(stored, presented.as_ref()),
            None => false,
        }
    }

    pub fn set_clients(&self, clients: Vec<(String, String)>) {
        self.write().clients = client_map(clients);
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

    /// Applies events in id order. Every event is idempotent, so reading one twice is harmless.
    pub fn apply(&self, events: impl IntoIterator<Item = RevocationEvent>) {
        let marker_until = Utc::now().timestamp() + ENDED_KEY_MARKER_SECONDS;
        let mut inner = self.write();
        for event in events {
            match event {
                RevocationEvent::KeyCreated {
                    key_id,
                    company_id,
                    user_id,
                    expires_at,
                } => {
                    if !inner.ended_keys.contains_key(&key_id) {
                        let entry = KeyEntry {
                            company_id,
                            user_id,
                            expires_at: expires_at.timestamp(),
                        };
                        inner.active_keys.insert(key_id, entry);
                    }
                }
                RevocationEvent::KeyDeleted { key_id } | RevocationEvent::KeyRevoked { key_id } => {
                    inner.active_keys.remove(&key_id);
                    inner.ended_keys.insert(key_id, marker_until);
                }
                RevocationEvent::TokenRevoked { jti, expires_at } => {
                    inner.revoked_jtis.insert(jti, expires_at.timestamp());
                }
                RevocationEvent::UserDisabled { user_id } => {
                    inner.users.entry(user_id).or_default().disabled = true;
                }
                RevocationEvent::UserTokensRevoked {
                    user_id,
                    valid_after,
                } => {
                    let cutoff = inner.users.entry(user_id).or_default();
                    let after = valid_after.timestamp_millis();
                    cutoff.valid_after_ms =
                        Some(cutoff.valid_after_ms.map_or(after, |old| old.max(after)));
                }
                RevocationEvent::MembershipChanged {
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
                RevocationEvent::SigningKeysChanged { .. }
                | RevocationEvent::ClientsChanged { .. } => {}
            }
        }
    }

    /// Forgets entries whose tokens have expired anyway, and markers of
    /// ended keys that no replay can need any more.
    pub fn prune(&self, now: DateTime<Utc>) {
        let horizon = now.timestamp() - self.leeway_seconds;
        let mut inner = self.write();
        inner.revoked_jtis.retain(|_, exp| *exp >= horizon);
        inner.active_keys.retain(|_, key| key.expires_at >= horizon);
        inner
            .ended_keys
            .retain(|_, until| *until >= now.timestamp());
    }
}

fn client_map(clients: Vec<(String, String)>) -> HashMap<String, [u8; 32]> {
    clients
        .into_iter()
        .filter_map(|(id, hex)| Some((id, decode_hex32(&hex)?)))
        .collect()
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// Hand-written because `subtle` is BSD-licensed and ring's is deprecated.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use uuid::Uuid;

    use super::{RevocationState, Snapshot, ENDED_KEY_MARKER_SECONDS};
    use crate::store::revocation_events::RevocationEvent;

    fn created(key_id: Uuid) -> RevocationEvent {
        RevocationEvent::KeyCreated {
            key_id,
            company_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            expires_at: Utc::now() + Duration::days(365),
        }
    }

    #[test]
    fn an_ended_key_cannot_come_back_while_a_replay_could_bring_its_creation() {
        let state = RevocationState::new(Snapshot::default(), 30, 30);
        let (deleted, revoked) = (Uuid::now_v7(), Uuid::now_v7());
        state.apply([created(deleted), created(revoked)]);
        state.apply([
            RevocationEvent::KeyDeleted { key_id: deleted },
            RevocationEvent::KeyRevoked { key_id: revoked },
        ]);

        state.prune(Utc::now() + Duration::seconds(ENDED_KEY_MARKER_SECONDS - 5));
        state.apply([created(deleted), created(revoked)]);

        assert_eq!(state.active_key_count(), 0);
        assert_eq!(state.read().ended_keys.len(), 2);
    }

    #[test]
    fn markers_go_once_no_replay_can_need_them_not_when_the_key_would_expire() {
        let state = RevocationState::new(Snapshot::default(), 30, 30);
        for _ in 0..1000 {
            let key_id = Uuid::now_v7();
            state.apply([created(key_id), RevocationEvent::KeyDeleted { key_id }]);
        }
        assert_eq!(state.read().ended_keys.len(), 1000);

        state.prune(Utc::now() + Duration::seconds(ENDED_KEY_MARKER_SECONDS + 5));

        assert_eq!(state.read().ended_keys.len(), 0);
        assert_eq!(state.active_key_count(), 0);
    }
}
