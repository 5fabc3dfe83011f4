//! The keys that sign tokens: rotation and listing, for ops.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde::Serialize;

use crate::settings::Settings;
use crate::store::Store;
use crate::tokens::{KeyRing, MasterKey};

#[derive(Serialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub algorithm: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    /// `active` (signs), `retired` (still verifies) or `expired`.
    pub status: &'static str,
}

pub struct SigningKeys {
    store: Store,
    /// How long a retired key keeps verifying.
    verify_grace: chrono::Duration,
}

impl SigningKeys {
    pub fn new(store: Store, settings: &Settings) -> Self {
        SigningKeys {
            store,
            verify_grace: settings.signing_key_verify_grace(),
        }
    }

    /// Makes a new key active; the old ones verify until their tokens
    /// expire. Running servers reload the keys from the log. Returns the
    /// new key's id.
    pub async fn rotate(&self, master: MasterKey) -> anyhow::Result<String> {
        crate::tokens::crypto_provider::install();
        let keys = KeyRing::load(&self.store, master, self.verify_grace).await?;
        keys.rotate(&self.store).await
    }

    /// Every key, newest first.
    pub async fn list(&self) -> Result<Vec<SigningKeyView>, DbErr> {
        let now = self.store.now();
        let keys = self.store.signing_keys().await?;
        Ok(keys
            .into_iter()
            .map(|k| SigningKeyView {
                status: match k.retired_at {
                    None => "active",
                    Some(at) if at + self.verify_grace > now => "retired",
                    Some(_) => "expired",
                },
                kid: k.kid,
                algorithm: k.algorithm,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect())
    }
}
