//! What every request handler shares.

use std::sync::Arc;

use crate::error::ApiError;
use crate::passwords::PasswordHasher;
use crate::revocation::{Follower, RevocationState};
use crate::settings::Settings;
use crate::store::revocation_events::RevocationEvent;
use crate::store::Store;
use crate::throttle::Throttle;
use crate::tokens::{Claims, KeyRing, TokenIssuer, TokenKind, TokenVerifier};
use crate::usage::KeyUsage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Expired, forged, revoked, deleted: the caller learns nothing more.
    Invalid,
    /// The revocation state is too old to vouch for any token.
    Stale,
}

impl From<TokenRejection> for ApiError {
    fn from(rejection: TokenRejection) -> Self {
        match rejection {
            TokenRejection::Invalid => ApiError::InvalidToken,
            TokenRejection::Stale => ApiError::stale_revocation_state(),
        }
    }
}

pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub keys: Arc<KeyRing>,
    pub issuer: TokenIssuer,
    pub verifier: TokenVerifier,
    pub revocation: Arc<RevocationState>,
    pub follower: Arc<Follower>,
    pub passwords: PasswordHasher,
    pub usage: Arc<KeyUsage>,
    pub throttle: Arc<Throttle>,
}

impl AppState {
    /// Verifies a token entirely in memory: signature (or the cache of
    /// verified tokens), lifetime, revocation. Fails closed when the
    /// revocation state is stale.
    pub fn check_token(&self, token: &str) -> Result<Arc<Claims>, TokenRejection> {
        if !self.revocation.is_fresh() {
            return Err(TokenRejection::Stale);
        }
        let claims = self.verifier.verify(token).map_err(|reason| {
            tracing::debug!(%reason, "token rejected");
            TokenRejection::Invalid
        })?;
        if !self.revocation.is_active(&claims) {
            tracing::debug!(jti = %claims.jti, "token revoked");
            return Err(TokenRejection::Invalid);
        }
        if claims.kind == TokenKind::Private {
            self.usage.record(claims.jti);
        }
        Ok(claims)
    }

    /// `check_token` for API requests: the answers are 401 or 503.
    pub fn authenticate_token(&self, token: &str) -> Result<Arc<Claims>, ApiError> {
        self.check_token(token).map_err(ApiError::from)
    }

    /// Puts this instance's own committed write in force before the caller is
    /// answered, then reads whatever else the log holds.
    pub async fn apply_local(&self, events: Vec<RevocationEvent>) {
        self.revocation.apply(events);
        if let Err(e) = self.follower.catch_up().await {
            tracing::warn!(error = %e, "cannot read revocation events after a write");
        }
    }
}
