//! Signature and claim checks, with a bounded cache of tokens already
//! verified. Revocation is checked apart, against memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Validation};
use moka::sync::Cache;

use super::{Claims, KeyRing, TokenKind};
use crate::clock::Clock;
use crate::monitoring::CacheCounters;

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
}

pub struct TokenVerifier {
    keys: Arc<KeyRing>,
    clock: Clock,
    /// Signature and claim rules. Its own time checks use the system clock,
    /// so they are off: lifetime is checked against `clock` on every call.
    validation: Validation,
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
            leeway: settings.leeway.num_seconds(),
            max_short_lived: (settings.access_ttl + settings.leeway).num_seconds(),
            cache_removals: AtomicU64::new(removals),
            verified,
            cache_counters: settings.cache_counters,
            max_token_bytes: settings.max_token_bytes,
        }
    }

    /// Checks header, signature and claims, or finds them checked already.
    /// Lifetime is checked on every call, cached or not.
    pub fn verify(&self, token: &str) -> Result<Arc<Claims>, VerifyError> {
        if token.is_empty() || token.len() > self.max_token_bytes {
            return Err(VerifyError::Malformed);
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let cache_key: [u8; 32] = digest
            .as_ref()
            .try_into()
            .map_err(|_| VerifyError::Malformed)?;
        self.forget_removed_keys();
        let claims = match self.verified.get(&cache_key) {
            Some(claims) => {
                self.cache_counters.hits.increment(1);
                claims
            }
            None => {
                self.cache_counters.misses.increment(1);
                // A key removed while this verification ran must not leave
                // its token cached: keep the result only if none was.
                let removals = self.keys.removals();
                let claims = Arc::new(self.verify_uncached(token)?);
                self.within_lifetime(&claims)?;
                if self.keys.removals() == removals {
                    self.verified.insert(cache_key, claims.clone());
                }
                claims
            }
        };
        self.within_lifetime(&claims)?;
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

    /// Only EdDSA, only our own keys (by `kid`, in memory), no key or
    /// certificate named by the token itself, and `typ` matching `kind`.
    fn verify_uncached(&self, token: &str) -> Result<Claims, VerifyError> {
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
        let keys = self.keys.current();
        let key = keys.decoding_key(&kid).ok_or(VerifyError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|_| VerifyError::Rejected)?
            .claims;
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
        Ok(claims)
    }
}
