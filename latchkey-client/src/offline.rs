//! Offline verification: signature, header and claims checked as latchkey
//! checks them, against its published keys, with a bounded cache of tokens
//! already verified (lifetime and key are still checked on every call).

use std::hash::Hasher;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use ring::rand::{SecureRandom, SystemRandom};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::caller::{Caller, Scopes, TokenKind};
use crate::clock::Clock;
use crate::jwks::Jwks;
use crate::jws::Compact;
use crate::rejection::Rejection;

/// What the client's caches know a token by: a keyed 128-bit SipHash of its
/// signature, the last of its three parts. The caches never hold a token:
/// the verified cache keeps the signed part, the claims, which is no
/// credential without the signature, and the key, which does not give the
/// signature back.
///
/// Hashing the 86-character signature, rather than a SHA-256 of the whole
/// token, took most of the offline policy's cost off a request (callgrind:
/// `benches/datasets-instructions`). A hit needs the signed part to match
/// byte for byte, so a token's claims are always its own; its signature is
/// matched by this key. Finding another signature with the same key means
/// a 2^128 search against a secret SipHash key drawn from the system's
/// random source when the `Latchkey` is built. The live and membership
/// caches also compare the token's id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey(u128);

/// Makes `TokenKey`s with one secret SipHash key.
pub(crate) struct TokenKeys {
    k0: u64,
    k1: u64,
}

impl TokenKeys {
    /// Fails only if the system's random source does.
    pub fn new() -> Result<Self, ring::error::Unspecified> {
        let mut secret = [0u8; 16];
        SystemRandom::new().fill(&mut secret)?;
        let secret = u128::from_le_bytes(secret);
        Ok(TokenKeys {
            k0: secret as u64,
            k1: (secret >> 64) as u64,
        })
    }

    pub fn key(&self, token: &str) -> TokenKey {
        let mut hasher = SipHasher13::new_with_keys(self.k0, self.k1);
        hasher.write(signature_part(token).as_bytes());
        TokenKey(hasher.finish128().as_u128())
    }
}

/// The signature part of a compact JWS, or the whole text if it has no dot
/// (such a token is refused by the parser anyway).
fn signature_part(token: &str) -> &str {
    token
        .rsplit_once('.')
        .map_or(token, |(_, signature)| signature)
}

/// The header and payload of a compact JWS: what its signature signs.
fn signed_part(token: &str) -> &str {
    token.rsplit_once('.').map_or("", |(signed, _)| signed)
}

/// A token whose signature and claims passed once.
pub(crate) struct Verified {
    pub caller: Caller,
    kid: String,
    nbf: i64,
    /// The header and payload it was verified with: a hit must match them.
    signed: Box<str>,
}

pub(crate) struct OfflineSettings {
    pub issuer: String,
    pub audience: String,
    pub leeway: Duration,
    pub cache_capacity: u64,
    pub cache_ttl: Duration,
}

pub(crate) struct OfflineVerifier {
    jwks: Jwks,
    issuer: String,
    audience: String,
    leeway: i64,
    clock: Arc<dyn Clock>,
    verified: Cache<TokenKey, Arc<Verified>>,
}

impl OfflineVerifier {
    pub fn new(jwks: Jwks, clock: Arc<dyn Clock>, settings: OfflineSettings) -> Self {
        OfflineVerifier {
            jwks,
            issuer: settings.issuer,
            audience: settings.audience,
            leeway: i64::try_from(settings.leeway.as_secs()).unwrap_or(i64::MAX / 2),
            clock,
            verified: Cache::builder()
                .max_capacity(settings.cache_capacity)
                .time_to_live(settings.cache_ttl)
                .build(),
        }
    }

    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    pub async fn verify(&self, token: &str, key: TokenKey) -> Result<Arc<Verified>, Rejection> {
        let cached = self
            .verified
            .get(&key)
            .filter(|verified| *verified.signed == *signed_part(token));
        let verified = match cached {
            Some(verified) => {
                // A key rotated out of the JWKS takes its tokens with it.
                let keys = self.jwks.keys_for(&verified.kid).await;
                if keys.is_none_or(|keys| keys.get(&verified.kid).is_none()) {
                    self.verified.invalidate(&key);
                    return Err(Rejection::InvalidToken);
                }
                verified
            }
            None => {
                let verified = Arc::new(self.verify_uncached(token).await?);
                self.verified.insert(key, verified.clone());
                verified
            }
        };
        let now = self.clock.unix_seconds();
        if now > verified.caller.expires_at.saturating_add(self.leeway)
            || now < verified.nbf.saturating_sub(self.leeway)
        {
            return Err(Rejection::InvalidToken);
        }
        Ok(verified)
    }

    async fn verify_uncached(&self, token: &str) -> Result<Verified, Rejection> {
        let invalid = |reason| {
            tracing::debug!(?reason, "token refused");
            Rejection::InvalidToken
        };
        let compact = Compact::parse(token).map_err(invalid)?;
        let keys = self
            .jwks
            .keys_for(&compact.kid)
            .await
            .ok_or(Rejection::Unavailable)?;
        let key = keys.get(&compact.kid).ok_or_else(|| {
            tracing::debug!("token refused: unknown kid");
            Rejection::InvalidToken
        })?;
        let claims = compact.verify(key).map_err(invalid)?;
        if claims.iss != self.issuer || claims.aud != self.audience {
            tracing::debug!("token refused: iss or aud");
            return Err(Rejection::InvalidToken);
        }
        let scopes = match claims.scope.as_deref() {
            Some(scope) => Scopes::parse(scope).map_err(|_| Rejection::InvalidToken)?,
            None => Scopes::unrestricted(),
        };
        let kind = compact.kind;
        Ok(Verified {
            caller: Caller {
                subject: claims.sub,
                kind,
                company_id: claims.company_id.filter(|_| kind == TokenKind::ApiKey),
                scopes,
                token_id: claims.jti,
                expires_at: claims.exp,
            },
            kid: compact.kid,
            nbf: claims.nbf,
            signed: signed_part(token).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_known_by_its_signature_and_checked_by_its_signed_part() {
        let keys = TokenKeys::new().unwrap();
        assert!(keys.key("h.p.sig") == keys.key("other.claims.sig"));
        assert!(keys.key("h.p.sig") != keys.key("h.p.sig2"));
        assert_eq!(signed_part("h.p.sig"), "h.p");
        assert_eq!(signature_part("h.p.sig"), "sig");
        assert_eq!(signed_part("nodots"), "");
        assert_eq!(signature_part("nodots"), "nodots");
    }

    #[test]
    fn each_handle_draws_its_own_secret() {
        let token = "h.p.signature";
        assert!(TokenKeys::new().unwrap().key(token) != TokenKeys::new().unwrap().key(token));
    }
}
