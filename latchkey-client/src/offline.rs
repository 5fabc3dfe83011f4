//! Offline verification: signature, header and claims checked as latchkey
//! checks them, against its published keys, with a bounded cache of tokens
//! already verified (lifetime and key are still checked on every call).

use std::sync::Arc;
use std::time::Duration;

use crate::caller::{Caller, Scopes, TokenKind};
use crate::clock::Clock;
use crate::halt::Halt;
use crate::jwks::{Jwks, KeySet};
use crate::jws::Compact;
use crate::rejection::Rejection;
use crate::token::{Token, TokenKey};
use crate::verified_cache::VerifiedCache;

/// A token whose signature and claims passed once.
pub(crate) struct Verified {
    pub caller: Caller,
    pub key: TokenKey,
    /// When its signature was checked, in Unix seconds.
    pub verified_at: i64,
    kid: String,
    nbf: i64,
    /// The header and payload it was verified with: a hit must match them.
    signed: Box<[u8]>,
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
    verified: VerifiedCache,
}

/// What the verified cache holds for a token: its earlier verdict, or
/// nothing, and then the token parsed for verifying.
enum Lookup<'a> {
    Hit(Arc<Verified>),
    Miss(Compact<'a>),
}

impl Lookup<'_> {
    fn kid(&self) -> &str {
        match self {
            Lookup::Hit(verified) => &verified.kid,
            Lookup::Miss(compact) => &compact.kid,
        }
    }
}

impl OfflineVerifier {
    pub fn new(jwks: Jwks, clock: Arc<dyn Clock>, settings: OfflineSettings) -> Self {
        OfflineVerifier {
            jwks,
            issuer: settings.issuer,
            audience: settings.audience,
            leeway: i64::try_from(settings.leeway.as_secs()).unwrap_or(i64::MAX / 2),
            clock,
            verified: VerifiedCache::new(settings.cache_capacity, settings.cache_ttl),
        }
    }

    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Verifies `token` if that needs no fetch of the keys: `Halt::Wait`
    /// when its `kid` is unknown or the keys are due a refresh.
    pub fn verify_now(&self, token: &Token) -> Result<Arc<Verified>, Halt> {
        let now = self.clock.unix_seconds();
        let lookup = self.look_up(token, now)?;
        let keys = self.jwks.keys_now(lookup.kid()).ok_or(Halt::Wait)?;
        Ok(self.finish(token, lookup, Some(keys), now)?)
    }

    /// Verifies `token`, fetching the keys first if its `kid` needs them.
    pub async fn verify(&self, token: &Token<'_>) -> Result<Arc<Verified>, Rejection> {
        let lookup = self.look_up(token, self.clock.unix_seconds())?;
        let keys = match self.jwks.keys_now(lookup.kid()) {
            Some(keys) => Some(keys),
            None => self.jwks.keys_for(lookup.kid()).await,
        };
        // A fetch may have taken a while.
        self.finish(token, lookup, keys, self.clock.unix_seconds())
    }

    fn look_up<'a>(&self, token: &Token<'a>, now: i64) -> Result<Lookup<'a>, Rejection> {
        let cached = self
            .verified
            .get(token.key(), now)
            .filter(|verified| *verified.signed == *token.signed());
        match cached {
            Some(verified) => Ok(Lookup::Hit(verified)),
            None => Compact::parse(token.text()?)
                .map(Lookup::Miss)
                .map_err(|reason| {
                    tracing::debug!(?reason, "token refused");
                    Rejection::InvalidToken
                }),
        }
    }

    /// The verdict on a looked-up token with `keys`, the key set its `kid`
    /// was looked up in (`None`: no key set was ever fetched).
    fn finish(
        &self,
        token: &Token,
        lookup: Lookup,
        keys: Option<Arc<KeySet>>,
        now: i64,
    ) -> Result<Arc<Verified>, Rejection> {
        let (verified, new) = match lookup {
            Lookup::Hit(verified) => {
                // A key rotated out of the JWKS takes its tokens with it.
                if keys.is_none_or(|keys| keys.get(&verified.kid).is_none()) {
                    self.verified.invalidate(token.key());
                    return Err(Rejection::InvalidToken);
                }
                (verified, false)
            }
            Lookup::Miss(compact) => {
                let keys = keys.ok_or(Rejection::Unavailable)?;
                let verified = self.verify_signature(token, compact, &keys, now)?;
                (Arc::new(verified), true)
            }
        };
        if now > verified.caller.expires_at.saturating_add(self.leeway)
            || now < verified.nbf.saturating_sub(self.leeway)
        {
            return Err(Rejection::InvalidToken);
        }
        // Only a token that passed takes a place: expired ones replayed
        // cannot push others out.
        if new {
            self.verified.insert(verified.clone());
        }
        Ok(verified)
    }

    fn verify_signature(
        &self,
        token: &Token,
        compact: Compact,
        keys: &KeySet,
        now: i64,
    ) -> Result<Verified, Rejection> {
        let invalid = |reason| {
            tracing::debug!(?reason, "token refused");
            Rejection::InvalidToken
        };
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
            key: token.key(),
            verified_at: now,
            kid: compact.kid,
            nbf: claims.nbf,
            signed: token.signed().into(),
        })
    }
}

#[cfg(test)]
impl Verified {
    /// A verified token as the cache sees it: its key and when.
    pub fn for_test(key: TokenKey, verified_at: i64) -> Verified {
        Verified {
            caller: Caller {
                subject: uuid::Uuid::nil(),
                kind: TokenKind::ApiKey,
                company_id: None,
                scopes: Scopes::unrestricted(),
                token_id: uuid::Uuid::nil(),
                expires_at: i64::MAX,
            },
            key,
            verified_at,
            kid: String::new(),
            nbf: 0,
            signed: Box::default(),
        }
    }
}
