//! Offline verification: signature, header and claims checked as latchkey
//! checks them, against its published keys, with a bounded cache of tokens
//! already verified (lifetime and key are still checked on every call).

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use crate::caller::{Caller, Scopes, TokenKind};
use crate::clock::Clock;
use crate::halt::Halt;
use crate::jwks::{Jwks, KeySet};
use crate::jws::Compact;
use crate::rejection::Rejection;
use crate::token::{Token, TokenKey, TokenKeyHasher};

/// A token whose signature and claims passed once.
pub(crate) struct Verified {
    pub caller: Caller,
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
    verified: Cache<TokenKey, Arc<Verified>, TokenKeyHasher>,
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
            verified: Cache::builder()
                .max_capacity(settings.cache_capacity)
                .time_to_live(settings.cache_ttl)
                .build_with_hasher(TokenKeyHasher),
        }
    }

    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// Verifies `token` if that needs no fetch of the keys: `Halt::Wait`
    /// when its `kid` is unknown or the keys are due a refresh.
    pub fn verify_now(&self, token: &Token) -> Result<Arc<Verified>, Halt> {
        let lookup = self.look_up(token)?;
        let keys = self.jwks.keys_now(lookup.kid()).ok_or(Halt::Wait)?;
        Ok(self.finish(token, lookup, Some(keys))?)
    }

    /// Verifies `token`, fetching the keys first if its `kid` needs them.
    pub async fn verify(&self, token: &Token<'_>) -> Result<Arc<Verified>, Rejection> {
        let lookup = self.look_up(token)?;
        let keys = match self.jwks.keys_now(lookup.kid()) {
            Some(keys) => Some(keys),
            None => self.jwks.keys_for(lookup.kid()).await,
        };
        self.finish(token, lookup, keys)
    }

    fn look_up<'a>(&self, token: &Token<'a>) -> Result<Lookup<'a>, Rejection> {
        let cached = self
            .verified
            .get(&token.key())
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
    ) -> Result<Arc<Verified>, Rejection> {
        let verified = match lookup {
            Lookup::Hit(verified) => {
                // A key rotated out of the JWKS takes its tokens with it.
                if keys.is_none_or(|keys| keys.get(&verified.kid).is_none()) {
                    self.verified.invalidate(&token.key());
                    return Err(Rejection::InvalidToken);
                }
                verified
            }
            Lookup::Miss(compact) => {
                let keys = keys.ok_or(Rejection::Unavailable)?;
                let verified = Arc::new(self.verify_signature(token, compact, &keys)?);
                self.verified.insert(token.key(), verified.clone());
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

    fn verify_signature(
        &self,
        token: &Token,
        compact: Compact,
        keys: &KeySet,
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
            kid: compact.kid,
            nbf: claims.nbf,
            signed: token.signed().into(),
        })
    }
}
