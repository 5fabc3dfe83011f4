//! Offline verification: signature, header and claims checked as latchkey
//! checks them, against its published keys, with a bounded cache of tokens
//! already verified (lifetime and key are still checked on every call).

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use crate::caller::{Caller, Scopes, TokenKind};
use crate::clock::Clock;
use crate::jwks::Jwks;
use crate::jws::Compact;
use crate::rejection::Rejection;

pub(crate) type Digest = [u8; 32];

/// A token whose signature and claims passed once.
pub(crate) struct Verified {
    pub caller: Caller,
    kid: String,
    nbf: i64,
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
    verified: Cache<Digest, Arc<Verified>>,
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

    pub async fn verify(&self, token: &str, digest: &Digest) -> Result<Arc<Verified>, Rejection> {
        let verified = match self.verified.get(digest) {
            Some(verified) => {
                // A key rotated out of the JWKS takes its tokens with it.
                let keys = self.jwks.keys_for(&verified.kid).await;
                if keys.is_none_or(|keys| keys.get(&verified.kid).is_none()) {
                    self.verified.invalidate(digest);
                    return Err(Rejection::InvalidToken);
                }
                verified
            }
            None => {
                let verified = Arc::new(self.verify_uncached(token).await?);
                self.verified.insert(*digest, verified.clone());
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
        })
    }
}
