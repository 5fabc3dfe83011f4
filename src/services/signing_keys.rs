//! The keys that sign tokens: rotation and listing, for ops.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde::Serialize;

use crate::settings::Settings;
use crate::store::Store;
use crate::tokens::{key_roles, KeyRing, KeyRole, KeyTimes, MasterKey};

#[derive(Serialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub algorithm: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    /// `published` (in the JWKS, signs once its lead has passed), `active`
    /// (signs), `retired` (still verifies) or `expired`.
    pub status: &'static str,
}

pub struct SigningKeys {
    store: Store,
    times: KeyTimes,
}

impl SigningKeys {
    pub fn new(store: Store, settings: &Settings) -> Self {
        SigningKeys {
            store,
            times: KeyTimes::from_settings(settings),
        }
    }

    /// Publishes a new key, which signs once `tokens.signing_key_publish_seconds`
    /// have passed; the old ones verify until their tokens expire. Running
    /// servers reload the keys from the log. Returns the new key's id.
    pub async fn rotate(&self, master: MasterKey) -> anyhow::Result<String> {
        crate::tokens::crypto_provider::install();
        let keys = KeyRing::load(&self.store, master, self.times).await?;
        keys.rotate(&self.store).await
    }

    /// Every key, newest first.
    pub async fn list(&self) -> Result<Vec<SigningKeyView>, DbErr> {
        let now = self.store.now();
        let keys = self.store.signing_keys().await?;
        let roles = key_roles(&keys, now, self.times);
        Ok(keys
            .into_iter()
            .zip(roles)
            .map(|(k, role)| SigningKeyView {
                status: match role {
                    KeyRole::Published => "published",
                    KeyRole::Signing => "active",
                    KeyRole::Retired => "retired",
                    KeyRole::Expired => "expired",
                },
                kid: k.kid,
                algorithm: k.algorithm,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect())
    }
}
