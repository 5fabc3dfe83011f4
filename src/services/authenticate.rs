//! `TokenAuthenticator`: the one place a presented token is checked, for
//! every route that takes one (the extractor, forward auth, introspection,
//! RFC 7009 revocation). Memory only: no database query.

use std::sync::Arc;

use crate::access::AccessState;
use crate::error::ApiError;
use crate::tokens::{Claims, TokenKind, TokenVerifier};
use crate::usage::KeyUsage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Expired, forged, revoked, deleted: the caller learns nothing more.
    Invalid,
    /// The access state is too old to vouch for any token.
    Stale,
}

impl From<TokenRejection> for ApiError {
    fn from(rejection: TokenRejection) -> Self {
        match rejection {
            TokenRejection::Invalid => ApiError::InvalidToken,
            TokenRejection::Stale => ApiError::stale_access_state(),
        }
    }
}

#[derive(Clone)]
pub struct TokenAuthenticator {
    verifier: Arc<TokenVerifier>,
    access: Arc<AccessState>,
    usage: Arc<KeyUsage>,
}

impl TokenAuthenticator {
    pub fn new(
        verifier: Arc<TokenVerifier>,
        access: Arc<AccessState>,
        usage: Arc<KeyUsage>,
    ) -> Self {
        TokenAuthenticator {
            verifier,
            access,
            usage,
        }
    }

    /// The allow-list's digest (API keys), or the signature (or the cache of
    /// verified tokens), then lifetime, then the access state. Fails closed when the access state is stale. A use of
    /// an API key is noted for its `last_used_at`.
    pub fn authenticate(&self, token: &str) -> Result<Arc<Claims>, TokenRejection> {
        if !self.access.is_fresh() {
            return Err(TokenRejection::Stale);
        }
        // An API key the allow-list knows by its digest skips Ed25519; one
        // it does not know is refused before any signature check.
        let claims = self
            .verifier
            .verify_with(token, |claims, digest| {
                self.access.vouch_for_key(claims, digest)
            })
            .inspect_err(|reason| tracing::debug!(%reason, "token rejected"))
            .map_err(|_| TokenRejection::Invalid)?;
        if !self.access.is_active(&claims) {
            tracing::debug!(jti = %claims.jti, "token revoked");
            return Err(TokenRejection::Invalid);
        }
        if claims.kind == TokenKind::ApiKey {
            self.usage.record(claims.jti);
        }
        Ok(claims)
    }

    /// What a token is, by its signature and lifetime alone, whether or not
    /// it is still in force: for revoking it.
    pub fn identify(&self, token: &str) -> Option<Arc<Claims>> {
        self.verifier
            .verify(token)
            .inspect_err(|reason| tracing::debug!(%reason, "token rejected"))
            .ok()
    }

    /// Whether identified claims are still in force (not revoked, deleted,
    /// or cut off), by the access state alone.
    pub fn is_in_force(&self, claims: &Claims) -> bool {
        self.access.is_active(claims)
    }
}
