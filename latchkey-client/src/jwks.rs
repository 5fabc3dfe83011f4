//! latchkey's public keys: fetched, cached, and refreshed when they are old
//! or a token names a `kid` we do not know, never more often than a minimum
//! interval, so tokens with junk `kid`s cannot make us hammer latchkey.
//! When latchkey cannot be reached the keys we have keep working.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use crate::clock::Clock;
use crate::fetch::{FetchError, Http};

/// Ed25519 public keys by `kid`, as one fetch found them.
pub(crate) struct KeySet {
    keys: HashMap<String, Vec<u8>>,
    fetched_at: SystemTime,
}

impl KeySet {
    pub fn get(&self, kid: &str) -> Option<&[u8]> {
        self.keys.get(kid).map(Vec::as_slice)
    }
}

pub(crate) struct JwksSettings {
    /// Keys older than this are fetched again (a rotated-out key goes away).
    pub max_age: Duration,
    /// No two fetches closer than this, whatever tokens arrive.
    pub min_interval: Duration,
}

pub(crate) struct Jwks {
    http: Http,
    url: String,
    clock: Arc<dyn Clock>,
    settings: JwksSettings,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Milliseconds since the epoch of the last fetch attempt; 0 for never.
    last_attempt: AtomicU64,
    /// One fetch at a time; the others wait for it, then look again.
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    pub fn new(http: Http, url: String, clock: Arc<dyn Clock>, settings: JwksSettings) -> Jwks {
        Jwks {
            http,
            url,
            clock,
            settings,
            current: RwLock::new(None),
            last_attempt: AtomicU64::new(0),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The cached key set, if it knows `kid` and no refresh is due: what
    /// [`Jwks::keys_for`] answers without fetching.
    pub fn keys_now(&self, kid: &str) -> Option<Arc<KeySet>> {
        self.current()
            .filter(|set| set.get(kid).is_some() && !(self.is_old(set) && self.attempt_due()))
    }

    /// The keys to check a token signed by `kid` with: the cached set if it
    /// is fresh and knows `kid`, else whatever a (rate-limited) fetch gives.
    /// `None` only when no key set was ever fetched.
    pub async fn keys_for(&self, kid: &str) -> Option<Arc<KeySet>> {
        if let Some(set) = self.keys_now(kid) {
            return Some(set);
        }
        match self.current() {
            Some(set) if set.get(kid).is_some() => {
                // Old but usable, and a refresh is due: one request
                // refreshes, the others go on with what we have rather
                // than queue behind it.
                if let Ok(_fetching) = self.fetching.try_lock() {
                    if self.attempt_due() {
                        self.fetch_or_warn().await;
                    }
                }
                self.current()
            }
            _ => {
                self.refresh(kid).await;
                self.current()
            }
        }
    }

    /// Fetches now (unless another fetch is under way): for a warm start.
    pub async fn fetch_now(&self) -> Result<(), FetchError> {
        let _fetching = self.fetching.lock().await;
        self.fetch().await
    }

    fn current(&self) -> Option<Arc<KeySet>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn usable(&self, set: &KeySet, kid: &str) -> bool {
        set.get(kid).is_some() && !self.is_old(set)
    }

    fn is_old(&self, set: &KeySet) -> bool {
        self.clock
            .now()
            .duration_since(set.fetched_at)
            .is_ok_and(|age| age > self.settings.max_age)
    }

    fn attempt_due(&self) -> bool {
        let last = self.last_attempt.load(Ordering::Relaxed);
        last == 0 || self.now_millis().saturating_sub(last) >= millis(self.settings.min_interval)
    }

    async fn refresh(&self, kid: &str) {
        if !self.attempt_due() {
            return;
        }
        let _fetching = self.fetching.lock().await;
        // Whoever held the lock may have fetched what we need.
        if self.current().is_some_and(|set| self.usable(&set, kid)) || !self.attempt_due() {
            return;
        }
        self.fetch_or_warn().await;
    }

    async fn fetch_or_warn(&self) {
        if let Err(e) = self.fetch().await {
            tracing::warn!(error = %e, url = %self.url, "cannot refresh latchkey's JWKS; keeping the keys we have");
        }
    }

    async fn fetch(&self) -> Result<(), FetchError> {
        self.last_attempt
            .store(self.now_millis().max(1), Ordering::Relaxed);
        let body = self.http.send(self.http.client.get(&self.url)).await?;
        let keys = parse(&body).ok_or(FetchError::Body)?;
        let set = Arc::new(KeySet {
            keys,
            fetched_at: self.clock.now(),
        });
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(set);
        Ok(())
    }

    fn now_millis(&self) -> u64 {
        let since_epoch = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        millis(since_epoch)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    kid: Option<String>,
    x: Option<String>,
}

/// The Ed25519 signing keys of a JWKS document; any other key is skipped.
fn parse(body: &[u8]) -> Option<HashMap<String, Vec<u8>>> {
    let document: Document = serde_json::from_slice(body).ok()?;
    let keys = document
        .keys
        .into_iter()
        .filter(|k| {
            k.kty == "OKP"
                && k.crv.as_deref() == Some("Ed25519")
                && k.alg.as_deref().is_none_or(|alg| alg == "EdDSA")
                && k.usage.as_deref().is_none_or(|usage| usage == "sig")
        })
        .filter_map(|k| {
            let x = URL_SAFE_NO_PAD.decode(k.x?).ok()?;
            (x.len() == 32).then_some((k.kid?, x))
        })
        .collect();
    Some(keys)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::parse;

    #[test]
    fn only_ed25519_signing_keys_with_a_kid_are_kept() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let document = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "a", "x": x},
            {"kty": "OKP", "crv": "Ed25519", "kid": "b", "x": x},
            {"kty": "OKP", "crv": "Ed25519", "use": "enc", "kid": "c", "x": x},
            {"kty": "OKP", "crv": "X25519", "kid": "d", "x": x},
            {"kty": "RSA", "kid": "e", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "x": x},
            {"kty": "OKP", "crv": "Ed25519", "kid": "f", "x": "AAAA"},
            {"kty": "OKP", "crv": "Ed25519", "alg": "ES256", "kid": "g", "x": x},
        ]});
        let keys = parse(document.to_string().as_bytes()).unwrap();
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort();
        assert_eq!(kids, ["a", "b"]);
        assert!(parse(b"not json").is_none());
    }
}
