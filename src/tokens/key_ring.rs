//! The signing keys, held in memory: one active key signs, every key that may
//! still have live tokens verifies, and the JWKS is built from the same set.
//! A new active key may be published for a while before it signs
//! (`signing_keys.publish_ahead_seconds`): the key it replaced signs until
//! then, so that verifiers caching the JWKS have fetched the new key first
//! ([`SigningWindow`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;
use uuid::Uuid;

use super::MasterKey;
use crate::store::audit::Actor;
use crate::store::signing_keys::NewSigningKey;
use crate::store::Store;

/// How long signing keys are published before they sign, and verify after
/// they are retired.
#[derive(Debug, Clone, Copy)]
pub struct KeyTiming {
    /// How long a retired key keeps verifying: the longest token lifetime,
    /// plus `publish_ahead`, during which it may still sign.
    pub verify_grace: Duration,
    /// How long a new active key is published before it signs.
    pub publish_ahead: Duration,
}

pub struct KeyRing {
    master: MasterKey,
    timing: KeyTiming,
    current: RwLock<Arc<KeySet>>,
    /// Bumped whenever a key stops verifying, so that whatever remembers
    /// tokens as verified (`TokenVerifier`'s cache) forgets them.
    removals: AtomicU64,
}

pub struct KeySet {
    /// The active key: the newest. It signs once it has been published for
    /// `publish_ahead`, or when no other key may (see [`SigningWindow`]).
    pub signing_kid: String,
    signing_key: EncodingKey,
    /// When the active key was made active.
    signing_since: DateTime<Utc>,
    /// The keys that may sign now or later, newest first, with their windows.
    signers: Vec<(SigningWindow, String, EncodingKey)>,
    verifying: HashMap<String, DecodingKey>,
    jwks: Arc<[u8]>,
    /// When the next retired key's last token can have expired: it is then
    /// dropped (`drop_expired`), without waiting for a restart or an event.
    next_expiry: Option<DateTime<Utc>>,
}

impl KeySet {
    /// The key that signs at `now` (Unix seconds), and its id.
    pub fn signer_at(&self, now: i64) -> (&str, &EncodingKey) {
        let windows = self
            .signers
            .iter()
            .map(|(window, kid, key)| (*window, (kid.as_str(), key)));
        pick(windows, now).unwrap_or((&self.signing_kid, &self.signing_key))
    }

    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// The serialised JWKS document.
    pub fn jwks(&self) -> Arc<[u8]> {
        self.jwks.clone()
    }

    /// The ids of the keys that verify.
    pub fn verifying_kids(&self) -> impl Iterator<Item = &str> {
        self.verifying.keys().map(String::as_str)
    }
}

impl KeyRing {
    /// Loads the keys, creating the first one if there is none. Fails, saying why,
    /// when the active key cannot be decrypted with this master key.
    pub async fn load(store: &Store, master: MasterKey, timing: KeyTiming) -> anyhow::Result<Self> {
        let mut set = build_set(store, &master, timing).await?;
        if set.is_none() {
            tracing::info!("no active signing key: creating one");
            create_key(store, &master, &Actor::named(SYSTEM)).await?;
            set = build_set(store, &master, timing).await?;
        }
        let set = set.context("no active signing key after creating one")?;
        Ok(KeyRing {
            master,
            timing,
            current: RwLock::new(Arc::new(set)),
            removals: AtomicU64::new(0),
        })
    }

    /// A ring of one key, held in memory only, that signs and verifies:
    /// for the fuzz targets (`fuzz/`) and unit tests, which have no store.
    #[doc(hidden)]
    pub fn in_memory(master: MasterKey, kid: &str, pkcs8: &[u8]) -> anyhow::Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|_| anyhow::anyhow!("not an Ed25519 PKCS#8 key"))?;
        let public_key = pair.public_key().as_ref();
        let jwks = serde_json::to_vec(&json!({ "keys": [jwk(kid, public_key)] }))?;
        let set = KeySet {
            signing_kid: kid.to_owned(),
            signing_key: EncodingKey::from_ed_der(pkcs8),
            signing_since: Utc::now(),
            signers: Vec::new(),
            verifying: HashMap::from([(kid.to_owned(), DecodingKey::from_ed_der(public_key))]),
            jwks: jwks.into(),
            next_expiry: None,
        };
        Ok(KeyRing {
            master,
            timing: KeyTiming {
                verify_grace: Duration::zero(),
                publish_ahead: Duration::zero(),
            },
            current: RwLock::new(Arc::new(set)),
            removals: AtomicU64::new(0),
        })
    }

    /// Changes each time a key stops verifying.
    pub fn removals(&self) -> u64 {
        self.removals.load(Ordering::Acquire)
    }

    pub fn current(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Re-reads the keys after another replica rotated or revoked them.
    pub async fn reload(&self, store: &Store) -> anyhow::Result<()> {
        if let Some(set) = build_set(store, &self.master, self.timing).await? {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            let removed = current
                .verifying
                .keys()
                .any(|kid| !set.verifying.contains_key(kid));
            *current = Arc::new(set);
            if removed {
                self.removals.fetch_add(1, Ordering::AcqRel);
            }
        }
        Ok(())
    }

    /// Drops a retired key once its last token can have expired.
    pub async fn drop_expired(&self, store: &Store) -> anyhow::Result<()> {
        if self
            .current()
            .next_expiry
            .is_some_and(|at| at <= store.now())
        {
            self.reload(store).await?;
        }
        Ok(())
    }

    /// Makes a new key active; the old ones keep verifying until their tokens expire.
    pub async fn rotate(&self, store: &Store, actor: &Actor) -> anyhow::Result<String> {
        let kid = create_key(store, &self.master, actor).await?;
        self.reload(store).await?;
        Ok(kid)
    }

    /// Rotates if the active key has signed for `max_age` or longer; of
    /// replicas doing this at once, one rotates. The new key's id, if this
    /// call made one.
    pub async fn rotate_if_older_than(
        &self,
        store: &Store,
        max_age: Duration,
    ) -> anyhow::Result<Option<String>> {
        let current = self.current();
        if current.signing_since + max_age > store.now() {
            return Ok(None);
        }
        let key = self.generate()?;
        let kid = key.kid.clone();
        let rotated = store
            .rotate_signing_key_from(&current.signing_kid, key, &Actor::named(SYSTEM))
            .await?;
        self.reload(store).await?;
        Ok(rotated.map(|_| kid))
    }

    /// A new key pair, its private half sealed with the master key; not stored.
    pub fn generate(&self) -> anyhow::Result<NewSigningKey> {
        generate(&self.master)
    }
}

fn generate(master: &MasterKey) -> anyhow::Result<NewSigningKey> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("cannot generate an Ed25519 key"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("bad generated key"))?;
    let kid = Uuid::now_v7().simple().to_string();
    Ok(NewSigningKey {
        kid: kid.clone(),
        public_key: pair.public_key().as_ref().to_vec(),
        private_key_encrypted: master.seal(pkcs8.as_ref(), kid.as_bytes())?,
    })
}

/// The audit actor of what the server does by itself: the first key, and
/// rotation on schedule.
const SYSTEM: &str = "system";

async fn create_key(store: &Store, master: &MasterKey, actor: &Actor) -> anyhow::Result<String> {
    let key = generate(master)?;
    let kid = key.kid.clone();
    store.rotate_signing_key(key, actor).await?;
    Ok(kid)
}

async fn build_set(
    store: &Store,
    master: &MasterKey,
    timing: KeyTiming,
) -> anyhow::Result<Option<KeySet>> {
    let verify_grace = timing.verify_grace;
    let now = store.now();
    let rows = store
        .signing_keys()
        .await
        .context("cannot read signing keys")?;
    let Some(active) = rows
        .iter()
        .find(|k| k.retired_at.is_none() && k.revoked_at.is_none())
    else {
        return Ok(None);
    };
    let pkcs8 = open_private_key(master, active)?;
    // Every unrevoked key whose window has not closed may sign now or
    // later: its private half is opened now, once. Publishing nothing ahead,
    // the active key signs, as soon as it is made.
    let mut signers = Vec::new();
    if !timing.publish_ahead.is_zero() {
        for key in rows.iter().filter(|k| k.revoked_at.is_none()) {
            let window = SigningWindow::of(key, &rows, timing.publish_ahead);
            if window.until.is_none_or(|until| until > now.timestamp()) {
                let der = match key.kid == active.kid {
                    true => EncodingKey::from_ed_der(&pkcs8),
                    false => EncodingKey::from_ed_der(&open_private_key(master, key)?),
                };
                signers.push((window, key.kid.clone(), der));
            }
        }
    }
    let mut verifying = HashMap::new();
    let mut jwks = Vec::new();
    let verifies = |k: &&entity::signing_keys::Model| {
        k.revoked_at.is_none() && k.retired_at.is_none_or(|at| at + verify_grace > now)
    };
    let next_expiry = rows
        .iter()
        .filter(verifies)
        .filter_map(|k| k.retired_at)
        .map(|at| at + verify_grace)
        .min();
    for key in rows.iter().filter(verifies) {
        verifying.insert(key.kid.clone(), DecodingKey::from_ed_der(&key.public_key));
        jwks.push(jwk(&key.kid, &key.public_key));
    }
    let jwks = serde_json::to_vec(&json!({ "keys": jwks }))?;
    Ok(Some(KeySet {
        signing_kid: active.kid.clone(),
        signing_key: EncodingKey::from_ed_der(&pkcs8),
        signing_since: active.created_at,
        signers,
        verifying,
        jwks: jwks.into(),
        next_expiry,
    }))
}

/// When an unrevoked key signs: from `publish_ahead` after it was made (the
/// first key ever: from then) until `publish_ahead` after it was retired,
/// so a key signs only once it has been published that long, and each
/// rotation hands over once its new key has (a revocation keeps it so:
/// `Store::revoke_signing_key`). When no key's window holds the time (the
/// key whose window it was has been revoked), the key whose window opens
/// next signs (see [`pick`]).
#[derive(Debug, Clone, Copy)]
pub struct SigningWindow {
    /// Unix seconds, inclusive.
    from: i64,
    /// Unix seconds, exclusive; `None` for the active key.
    until: Option<i64>,
}

impl SigningWindow {
    /// The window of `key`, one of `keys` (as stored, newest first).
    pub fn of(
        key: &entity::signing_keys::Model,
        keys: &[entity::signing_keys::Model],
        publish_ahead: Duration,
    ) -> SigningWindow {
        let replaced_one = keys.last().is_some_and(|oldest| oldest.kid != key.kid);
        let ahead = if replaced_one {
            publish_ahead
        } else {
            Duration::zero()
        };
        SigningWindow {
            from: second_of(key.created_at, ahead),
            until: key.retired_at.map(|at| second_of(at, publish_ahead)),
        }
    }

    pub fn holds(&self, now: i64) -> bool {
        self.from <= now && self.until.is_none_or(|until| now < until)
    }
}

/// The Unix second from which `delay` after `at` has passed, as a token's
/// `iat` (rounded down) counts it: with no delay, `at`'s own second (a new
/// key signs at once); with one, rounded up, so that no key signs before it
/// has been published for the whole delay.
fn second_of(at: DateTime<Utc>, delay: Duration) -> i64 {
    if delay.is_zero() {
        return at.timestamp();
    }
    let due = at + delay;
    due.timestamp() + i64::from(due.timestamp_subsec_nanos() > 0)
}

/// Which of `keys` (as stored, newest first) signs at `now`, by the rule of
/// [`SigningWindow`]; `None` when there is no active key.
pub fn signer_among(
    keys: &[entity::signing_keys::Model],
    publish_ahead: Duration,
    now: DateTime<Utc>,
) -> Option<&entity::signing_keys::Model> {
    let unrevoked = keys.iter().filter(|k| k.revoked_at.is_none());
    let active = unrevoked.clone().find(|k| k.retired_at.is_none())?;
    if publish_ahead.is_zero() {
        return Some(active);
    }
    let windows = unrevoked.map(|k| (SigningWindow::of(k, keys, publish_ahead), k));
    Some(pick(windows, now.timestamp()).unwrap_or(active))
}

/// Of keys' windows, which signs at `now`: the key whose window holds it;
/// when none does (its key was revoked), the key whose window opens next,
/// the one published longest; `None` when no window is left (then the
/// active key signs).
fn pick<T>(windows: impl IntoIterator<Item = (SigningWindow, T)>, now: i64) -> Option<T> {
    let mut next: Option<(i64, T)> = None;
    for (window, key) in windows {
        if window.holds(now) {
            return Some(key);
        }
        if window.from > now && next.as_ref().is_none_or(|(from, _)| window.from < *from) {
            next = Some((window.from, key));
        }
    }
    next.map(|(_, key)| key)
}

/// A stored key's private half, opened with the master key.
fn open_private_key(
    master: &MasterKey,
    key: &entity::signing_keys::Model,
) -> anyhow::Result<Vec<u8>> {
    master
        .open(&key.private_key_encrypted, key.kid.as_bytes())
        .with_context(|| {
            format!(
                "cannot decrypt signing key {}: this instance's master key differs from the one \
                 that encrypted it. Every replica must be given the same secrets.master_key",
                key.kid
            )
        })
}

/// One key's entry in the JWKS.
fn jwk(kid: &str, public_key: &[u8]) -> serde_json::Value {
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(public_key),
    })
}
