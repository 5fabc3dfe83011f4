//! The keys that sign tokens: rotation, revocation and listing, for ops.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde::Serialize;

use super::{EventSink, Origin};
use crate::settings::Settings;
use crate::store::audit::Actor;
use crate::store::signing_keys::{HandOver, RevokeKeyError};
use crate::store::Store;
use crate::tokens::{signer_among, KeyRing, KeyTiming, MasterKey};

#[derive(Serialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub algorithm: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    /// `active` (the newest), `retired` (still verifies), `expired` or
    /// `revoked`.
    pub status: &'static str,
    /// Whether it signs new tokens now: the active key, unless it is still
    /// being published ahead (`signing_keys.publish_ahead_seconds`) and the
    /// key it replaced signs meanwhile.
    pub signing: bool,
}

/// What revoking a signing key did.
#[derive(Serialize)]
pub struct RevokedKey {
    pub kid: String,
    /// The live API keys it had signed, revoked with it.
    pub killed_api_keys: usize,
    /// The key made active in its place, when it was the active key.
    pub new_active_kid: Option<String>,
}

pub struct SigningKeys {
    store: Store,
    /// How long keys publish ahead, and how long a retired one verifies.
    timing: KeyTiming,
}

impl SigningKeys {
    pub fn new(store: Store, settings: &Settings) -> Self {
        SigningKeys {
            store,
            timing: settings.signing_key_timing(),
        }
    }

    /// Makes a new key active; the old ones verify until their tokens
    /// expire. Running servers reload the keys from the log. Returns the
    /// new key's id.
    pub async fn rotate(&self, master: MasterKey, actor: &Actor) -> anyhow::Result<String> {
        crate::tokens::crypto_provider::install();
        let keys = KeyRing::load(&self.store, master, self.timing).await?;
        keys.rotate(&self.store, actor).await
    }

    /// How many live API keys revoking `kid` would kill; None: no such key.
    pub async fn live_api_keys_signed_by(&self, kid: &str) -> Result<Option<u64>, DbErr> {
        self.store.live_api_keys_signed_by(kid).await
    }

    /// Revokes a leaked key: it leaves the JWKS and verifies nothing more on
    /// any replica (each reloads its keys from the log), the API keys it
    /// signed are revoked, and if it was the active key a new one signs.
    pub async fn revoke(
        &self,
        master: MasterKey,
        kid: &str,
        actor: &str,
        origin: Origin,
        events: &EventSink,
    ) -> anyhow::Result<RevokedKey> {
        crate::tokens::crypto_provider::install();
        let keys = KeyRing::load(&self.store, master, self.timing).await?;
        let replacement = if keys.current().signing_kid == kid {
            Some(keys.generate()?)
        } else {
            None
        };
        let new_active_kid = replacement.as_ref().map(|k| k.kid.clone());
        let audit = crate::store::audit::AuditEntry {
            actor: actor.to_owned(),
            action: "signing_key.revoked",
            target: Some(kid.to_owned()),
            ip: origin.ip,
            user_agent: origin.user_agent,
            outcome: "success",
            ..Default::default()
        };
        let revoked = match self
            .store
            .revoke_signing_key(kid, replacement, self.hand_over(), actor, audit)
            .await
        {
            Ok(revoked) => revoked,
            Err(RevokeKeyError::Db(e)) => return Err(e.into()),
            Err(refused) => anyhow::bail!(refused),
        };
        events.put_in_force(revoked.events).await;
        Ok(RevokedKey {
            kid: kid.to_owned(),
            killed_api_keys: revoked.killed_api_keys.len(),
            new_active_kid,
        })
    }

    /// How a revocation keeps signing windows: see `Store::revoke_signing_key`.
    fn hand_over(&self) -> HandOver {
        match self.timing.publish_ahead.is_zero() {
            true => HandOver::AtOnce,
            false => HandOver::Published,
        }
    }

    /// Every key, newest first.
    pub async fn list(&self) -> Result<Vec<SigningKeyView>, DbErr> {
        let now = self.store.now();
        let keys = self.store.signing_keys().await?;
        let signer = signer_among(&keys, self.timing.publish_ahead, now).map(|k| k.kid.clone());
        Ok(keys
            .into_iter()
            .map(|k| SigningKeyView {
                signing: signer.as_deref() == Some(k.kid.as_str()),
                status: match (k.revoked_at, k.retired_at) {
                    (Some(_), _) => "revoked",
                    (None, None) => "active",
                    (None, Some(at)) if at + self.timing.verify_grace > now => "retired",
                    (None, Some(_)) => "expired",
                },
                kid: k.kid,
                algorithm: k.algorithm,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect())
    }
}
