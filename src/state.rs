//! What every request handler shares.

use std::sync::Arc;

use crate::error::ApiError;
use crate::passwords::PasswordHasher;
use crate::revocation::{Follower, RevocationState};
use crate::settings::Settings;
use crate::store::revocation_events::RevocationEvent;
use crate::store::Store;
use crate::tokens::{Claims, KeyRing, TokenIssuer, TokenKind, TokenVerifier};
use crate::usage::KeyUsage;

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
}

impl AppState {
    /// Verifies a bearer token entirely in memory: signature, claims, revocation.
    /// Fails closed with 503 when the revocation state is stale.
    pub fn authenticate_token(&self, token: &str) -> Result<Claims, ApiError> {
        if !self.revocation.is_fresh() {
            return Err(ApiError::ServiceUnavailable(
                "Revocation state is stale; refusing to vouch for tokens.",
            ));
        }
        let claims = self.verifier.verify(token).map_err(|reason| {
            tracing::debug!(%reason, "token rejected");
            ApiError::InvalidToken
        })?;
        if !self.revocation.is_active(&claims) {
            tracing::debug!(jti = %claims.jti, "token revoked");
            return Err(ApiError::InvalidToken);
        }
        if claims.kind == TokenKind::Private {
            self.usage.record(claims.jti);
        }
        Ok(claims)
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
