//! The signing keys, held in memory: one active key signs, every key that may
//! still have live tokens verifies, and the JWKS is built from the same set.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use entity::signing_keys;
use jsonwebtoken::{DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;
use uuid::Uuid;

use super::MasterKey;
use crate::settings::Settings;
use crate::store::signing_keys::NewSigningKey;
use crate::store::Store;

pub struct KeyRing {
    master: MasterKey,
    times: KeyTimes,
    current: RwLock<Arc<KeySet>>,
}

/// When keys sign and how long they verify.
#[derive(Debug, Clone, Copy)]
pub struct KeyTimes {
    /// A new key is in the JWKS this long before it signs: services that
    /// verify offline fetch it before they meet a token it signed.
    pub publish_lead: Duration,
    /// How long a key that no longer signs keeps verifying: the longest
    /// token lifetime.
    pub verify_grace: Duration,
}

impl KeyTimes {
    pub fn from_settings(settings: &Settings) -> Self {
        KeyTimes {
            publish_lead: settings.signing_key_publish_lead(),
            verify_grace: settings.signing_key_verify_grace(),
        }
    }
}

/// What a stored key does at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// Newer than the signing key and still within its publish lead: in the
    /// JWKS, verifies, signs from `created_at + publish_lead`.
    Published,
    /// Signs (and verifies).
    Signing,
    /// Signs no more, still verifies.
    Retired,
    /// Out of the JWKS.
    Expired,
}

/// The role of each key at `now`; `rows` newest first, as the store lists
/// them. The newest key whose lead has passed signs; newer keys are only
/// published. A lone or first key signs at once: nothing can hold an older
/// JWKS than the one it is in. A key retired at rotation signs on through
/// its successor's lead, so its grace counts from the end of that.
pub fn key_roles(
    rows: &[signing_keys::Model],
    now: DateTime<Utc>,
    times: KeyTimes,
) -> Vec<KeyRole> {
    let verifies = |k: &signing_keys::Model| {
        k.retired_at
            .is_none_or(|at| at + times.publish_lead + times.verify_grace > now)
    };
    let signer = rows
        .iter()
        .position(|k| verifies(k) && k.created_at + times.publish_lead <= now)
        .or_else(|| rows.iter().rposition(verifies));
    rows.iter()
        .enumerate()
        .map(|(i, k)| match signer {
            Some(s) if i == s => KeyRole::Signing,
            Some(s) if i < s && verifies(k) => KeyRole::Published,
            _ if verifies(k) => KeyRole::Retired,
            _ => KeyRole::Expired,
        })
        .collect()
}

pub struct KeySet {
    /// The key that signs now.
    signer: Signer,
    /// Newer keys, oldest first, each signing from its time.
    published: Vec<Signer>,
    verifying: HashMap<String, DecodingKey>,
    jwks: Arc<[u8]>,
}

struct Signer {
    kid: String,
    key: EncodingKey,
    signs_from: DateTime<Utc>,
}

impl KeySet {
    /// The kid and key that sign at `now`: a published key takes over once
    /// its lead has passed, without waiting for a reload.
    pub fn signing(&self, now: DateTime<Utc>) -> (&str, &EncodingKey) {
        let signer = self
            .published
            .iter()
            .rev()
            .find(|s| s.signs_from <= now)
            .unwrap_or(&self.signer);
        (&signer.kid, &signer.key)
    }

    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// The serialised JWKS document.
    pub fn jwks(&self) -> Arc<[u8]> {
        self.jwks.clone()
    }
}

impl KeyRing {
    /// Loads the keys, creating the first one if there is none. Fails, saying why,
    /// when a signing key cannot be decrypted with this master key.
    pub async fn load(store: &Store, master: MasterKey, times: KeyTimes) -> anyhow::Result<Self> {
        let mut set = build_set(store, &master, times).await?;
        if set.is_none() {
            tracing::info!("no active signing key: creating one");
            create_key(store, &master).await?;
            set = build_set(store, &master, times).await?;
        }
        let set = set.context("no active signing key after creating one")?;
        Ok(KeyRing {
            master,
            times,
            current: RwLock::new(Arc::new(set)),
        })
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads the keys after another replica rotated them.
    pub async fn reload(&self, store: &Store) -> anyhow::Result<()> {
        if let Some(set) = build_set(store, &self.master, self.times).await? {
            *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
        }
        Ok(())
    }

    /// Publishes a new key, which signs once its lead has passed; the old
    /// ones keep verifying until their tokens expire.
    pub async fn rotate(&self, store: &Store) -> anyhow::Result<String> {
        let kid = create_key(store, &self.master).await?;
        self.reload(store).await?;
        Ok(kid)
    }
}

async fn create_key(store: &Store, master: &MasterKey) -> anyhow::Result<String> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("cannot generate an Ed25519 key"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("bad generated key"))?;
    let kid = Uuid::now_v7().simple().to_string();
    let key = NewSigningKey {
        kid: kid.clone(),
        public_key: pair.public_key().as_ref().to_vec(),
        private_key_encrypted: master.seal(pkcs8.as_ref(), kid.as_bytes())?,
    };
    store.rotate_signing_key(key).await?;
    Ok(kid)
}

async fn build_set(
    store: &Store,
    master: &MasterKey,
    times: KeyTimes,
) -> anyhow::Result<Option<KeySet>> {
    let now = store.now();
    let rows = store
        .signing_keys()
        .await
        .context("cannot read signing keys")?;
    if !rows.iter().any(|k| k.retired_at.is_none()) {
        return Ok(None);
    }
    let roles = key_roles(&rows, now, times);
    let mut signer = None;
    let mut published = Vec::new();
    let mut verifying = HashMap::new();
    let mut jwks = Vec::new();
    for (key, role) in rows.iter().zip(roles) {
        match role {
            KeyRole::Expired => continue,
            KeyRole::Retired => {}
            KeyRole::Signing => signer = Some(open_signer(master, key, now)?),
            KeyRole::Published => published.push(open_signer(
                master,
                key,
                key.created_at + times.publish_lead,
            )?),
        }
        verifying.insert(key.kid.clone(), DecodingKey::from_ed_der(&key.public_key));
        jwks.push(json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": key.kid,
            "x": URL_SAFE_NO_PAD.encode(&key.public_key),
        }));
    }
    let signer = signer.context("no signing key among the keys that verify")?;
    // Listed newest first; `signing` wants them oldest first.
    published.reverse();
    let jwks = serde_json::to_vec(&json!({ "keys": jwks }))?;
    Ok(Some(KeySet {
        signer,
        published,
        verifying,
        jwks: jwks.into(),
    }))
}

fn open_signer(
    master: &MasterKey,
    key: &signing_keys::Model,
    signs_from: DateTime<Utc>,
) -> anyhow::Result<Signer> {
    let pkcs8 = master
        .open(&key.private_key_encrypted, key.kid.as_bytes())
        .with_context(|| {
            format!(
                "cannot decrypt signing key {}: this instance's master key differs from the one that \
                 encrypted it. Every replica must be given the same secrets.master_key",
                key.kid
            )
        })?;
    Ok(Signer {
        kid: key.kid.clone(),
        key: EncodingKey::from_ed_der(&pkcs8),
        signs_from,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use entity::signing_keys;

    use super::{key_roles, KeyRole, KeyTimes};

    fn key(created_min: i64, retired_min: Option<i64>) -> signing_keys::Model {
        let at = |m: i64| Utc.timestamp_opt(1_800_000_000 + m * 60, 0).unwrap();
        signing_keys::Model {
            kid: format!("k{created_min}"),
            algorithm: "EdDSA".to_owned(),
            public_key: Vec::new(),
            private_key_encrypted: Vec::new(),
            created_at: at(created_min),
            retired_at: retired_min.map(at),
        }
    }

    #[test]
    fn a_new_key_is_published_for_its_lead_before_it_signs() {
        let times = KeyTimes {
            publish_lead: Duration::minutes(3),
            verify_grace: Duration::minutes(60),
        };
        let at = |m: i64| Utc.timestamp_opt(1_800_000_000 + m * 60, 0).unwrap();
        // Newest first: k100 rotated in at minute 100, retiring k0.
        let rows = [key(100, None), key(0, Some(100))];
        use KeyRole::*;
        assert_eq!(key_roles(&rows, at(101), times), [Published, Signing]);
        assert_eq!(key_roles(&rows, at(103), times), [Signing, Retired]);
        // The old key's grace counts from the end of the lead.
        assert_eq!(key_roles(&rows, at(162), times), [Signing, Retired]);
        assert_eq!(key_roles(&rows, at(163), times), [Signing, Expired]);
        // A lone key signs at once.
        assert_eq!(key_roles(&[key(100, None)], at(100), times), [Signing]);
        // An old key past its grace never signs, even during a lead.
        let rows = [key(100, None), key(0, Some(1))];
        assert_eq!(key_roles(&rows, at(100), times), [Signing, Expired]);
    }
}
