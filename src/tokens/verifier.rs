//! Signature and claim checks, with a bounded cache of tokens already
//! verified. Revocation is checked apart, against memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, Validation};
use moka::sync::Cache;

use super::{Claims, KeyRing, TokenKind};
use crate::clock::Clock;
use crate::monitoring::{CacheCounters, PathCounters};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token")]
    Malformed,
    #[error("forbidden header")]
    ForbiddenHeader,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("bad signature or claims")]
    Rejected,
    #[error("token type does not match its kind")]
    KindMismatch,
    #[error("expired or not yet valid")]
    OutsideLifetime,
    #[error("a short-lived token that claims to live longer than the access TTL")]
    LifetimeTooLong,
    #[error("an API key the allow-list does not vouch for")]
    NotVouched,
}

/// The allow-list's word on an API key's token, asked before its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyVouch {
    /// The token is the one we issued for an active key: no signature check.
    Vouched,
    /// Not an active key, or not its token: refused without a signature check.
    Refused,
    /// A key without a digest (made before digests were kept): the
    /// signature decides.
    Unknown,
}

pub struct TokenVerifier {
    keys: Arc<KeyRing>,
    clock: Clock,
    /// Signature and claim rules. Its own time checks use the system clock,
    /// so they are off: lifetime is checked against `clock` on every call.
    validation: Validation,
    /// The `iss` and `aud` every token must carry (also in `validation`).
    issuer: String,
    audience: String,
    /// Seconds.
    leeway: i64,
    /// The most `exp - iat` a short-lived token may claim, in seconds: the
    /// access TTL plus leeway, whoever signed it.
    max_short_lived: i64,
    /// Longer than any token we issue (`tokens.max_token_bytes`): anything
    /// bigger is junk and is not parsed.
    max_token_bytes: usize,
    /// SHA-256 of a token whose signature and claims passed, to its claims.
    verified: Cache<[u8; 32], Arc<Claims>>,
    /// `KeyRing::removals` when the cache was last known to hold only
    /// tokens of keys that still verify.
    cache_removals: AtomicU64,
    cache_counters: CacheCounters,
    path_counters: PathCounters,
}

pub struct VerifierSettings<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway: chrono::Duration,
    pub access_ttl: chrono::Duration,
    pub cache_capacity: u64,
    pub cache_ttl: Duration,
    pub cache_counters: CacheCounters,
    pub max_token_bytes: usize,
    pub path_counters: PathCounters,
}

impl TokenVerifier {
    pub fn new(keys: Arc<KeyRing>, clock: Clock, settings: VerifierSettings<'_>) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[settings.issuer]);
        validation.set_audience(&[settings.audience]);
        validation.set_required_spec_claims(&["iss", "aud", "exp", "nbf", "sub", "iat", "jti"]);
        let verified = Cache::builder()
            .max_capacity(settings.cache_capacity)
            .time_to_live(settings.cache_ttl)
            .build();
        let removals = keys.removals();
        TokenVerifier {
            keys,
            clock,
            validation,
            issuer: settings.issuer.to_owned(),
            audience: settings.audience.to_owned(),
            leeway: settings.leeway.num_seconds(),
            max_short_lived: (settings.access_ttl + settings.leeway).num_seconds(),
            cache_removals: AtomicU64::new(removals),
            verified,
            cache_counters: settings.cache_counters,
            max_token_bytes: settings.max_token_bytes,
            path_counters: settings.path_counters,
        }
    }

    /// Checks header, signature and claims, or finds them checked already.
    /// Lifetime is checked on every call, cached or not.
    pub fn verify(&self, token: &str) -> Result<Arc<Claims>, VerifyError> {
        self.verify_with(token, |_, _| KeyVouch::Unknown)
    }

    /// Like `verify`, but an API key's token is first put to `vouch` (the
    /// allow-list) with its unverified claims and its SHA-256: a vouched
    /// token needs no signature check, a refused one gets none. Header
    /// rules, our own `kid`, `iss`, `aud`, kind and lifetime hold on every
    /// path, so either path answers the same for the same token.
    pub fn verify_with(
        &self,
        token: &str,
        vouch: impl FnOnce(&Claims, &[u8; 32]) -> KeyVouch,
    ) -> Result<Arc<Claims>, VerifyError> {
        if token.is_empty() || token.len() > self.max_token_bytes {
            return Err(VerifyError::Malformed);
        }
        let digest = super::token_digest(token);
        self.forget_removed_keys();
        if let Some(claims) = self.verified.get(&digest) {
            self.cache_counters.hits.increment(1);
            self.within_lifetime(&claims)?;
            return Ok(claims);
        }
        self.cache_counters.misses.increment(1);
        let (kind, kid) = self.checked_header(token)?;
        if kind == TokenKind::ApiKey {
            let claims = self.unverified_claims(token, kind)?;
            match vouch(&claims, &digest) {
                KeyVouch::Vouched => {
                    self.path_counters.digest.increment(1);
                    self.within_lifetime(&claims)?;
                    return Ok(Arc::new(claims));
                }
                KeyVouch::Refused => {
                    self.path_counters.refused.increment(1);
                    return Err(VerifyError::NotVouched);
                }
                KeyVouch::Unknown => {}
            }
        }
        // A key removed while this verification ran must not leave its
        // token cached: keep the result only if none was.
        let removals = self.keys.removals();
        self.path_counters.signature.increment(1);
        let claims = Arc::new(self.verify_signature(token, kind, &kid)?);
        self.within_lifetime(&claims)?;
        if self.keys.removals() == removals {
            self.verified.insert(digest, claims.clone());
        }
        Ok(claims)
    }

    /// A key stopped verifying (revoked, or retired past its grace): the
    /// tokens it signed must not be found verified here any longer.
    fn forget_removed_keys(&self) {
        let removals = self.keys.removals();
        if self.cache_removals.load(Ordering::Acquire) != removals {
            self.verified.invalidate_all();
            self.cache_removals.store(removals, Ordering::Release);
        }
    }

    /// `exp` and `nbf`, with leeway, against this verifier's clock.
    fn within_lifetime(&self, claims: &Claims) -> Result<(), VerifyError> {
        let now = self.clock.unix_seconds();
        if now > claims.exp.saturating_add(self.leeway)
            || now < claims.nbf.saturating_sub(self.leeway)
        {
            return Err(VerifyError::OutsideLifetime);
        }
        Ok(())
    }

    /// Only EdDSA, only our own keys (by `kid`, in memory: an unknown one
    /// costs a hash-map lookup), no key or certificate named by the token
    /// itself, and a `typ` that names the kind.
    fn checked_header(&self, token: &str) -> Result<(TokenKind, String), VerifyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != Algorithm::EdDSA
            || header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(VerifyError::ForbiddenHeader);
        }
        let kind = match header.typ.as_deref() {
            Some(t) if t == TokenKind::ShortLived.typ() => TokenKind::ShortLived,
            Some(t) if t == TokenKind::ApiKey.typ() => TokenKind::ApiKey,
            _ => return Err(VerifyError::ForbiddenHeader),
        };
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        if self.keys.current().decoding_key(&kid).is_none() {
            return Err(VerifyError::UnknownKey);
        }
        Ok((kind, kid))
    }

    /// The payload read without its signature, held to the same claim rules
    /// as a verified one: for the allow-list to vouch for, or refuse.
    fn unverified_claims(&self, token: &str, kind: TokenKind) -> Result<Claims, VerifyError> {
        let mut parts = token.split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed);
        };
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| VerifyError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| VerifyError::Rejected)?;
        if claims.iss != self.issuer || claims.aud != self.audience {
            return Err(VerifyError::Rejected);
        }
        self.kind_rules(&claims, kind)?;
        Ok(claims)
    }

    /// The signature and claims, with the key the header named.
    fn verify_signature(
        &self,
        token: &str,
        kind: TokenKind,
        kid: &str,
    ) -> Result<Claims, VerifyError> {
        let keys = self.keys.current();
        let key = keys.decoding_key(kid).ok_or(VerifyError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|_| VerifyError::Rejected)?
            .claims;
        self.kind_rules(&claims, kind)?;
        Ok(claims)
    }

    /// The claims fit the kind the header names; a short-lived token lives
    /// no longer than the access TTL.
    fn kind_rules(&self, claims: &Claims, kind: TokenKind) -> Result<(), VerifyError> {
        let kind_matches = claims.kind == kind
            && match kind {
                TokenKind::ShortLived => claims.company_id.is_none() && claims.scope.is_none(),
                TokenKind::ApiKey => claims.company_id.is_some(),
            };
        if !kind_matches {
            return Err(VerifyError::KindMismatch);
        }
        if kind == TokenKind::ShortLived
            && (claims.exp.saturating_sub(claims.iat) > self.max_short_lived
                // `iat` is the signer's word: `exp` is held against our clock too.
                || claims.exp.saturating_sub(self.clock.unix_seconds()) > self.max_short_lived)
        {
            return Err(VerifyError::LifetimeTooLong);
        }
        Ok(())
    }
}
