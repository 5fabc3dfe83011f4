//! RFC 7009 revocation. Possession is enough: whoever finds a leaked token
//! can kill it. Revoking what is already revoked writes nothing.

use std::sync::Arc;

use super::api_keys::ApiKeyAdmin;
use super::authenticate::TokenAuthenticator;
use super::events::EventSink;
use super::Origin;
use crate::store::audit::AuditEntry;
use crate::store::Store;
use crate::throttle::Throttle;
use crate::tokens::{sha256_hex, TokenKind};
use crate::Result;

/// Opaque refresh tokens are 43 base64url characters; nothing else is looked up.
const REFRESH_TOKEN_CHARS: usize = 43;

/// Who the audit log names for a key deleted through this endpoint.
const ACTOR: &str = "revocation endpoint";

pub struct TokenRevocation {
    authenticator: TokenAuthenticator,
    api_keys: ApiKeyAdmin,
    store: Store,
    events: EventSink,
    throttle: Arc<Throttle>,
    access_ttl: chrono::Duration,
}

impl TokenRevocation {
    pub fn new(
        authenticator: TokenAuthenticator,
        api_keys: ApiKeyAdmin,
        store: Store,
        events: EventSink,
        throttle: Arc<Throttle>,
        access_ttl: chrono::Duration,
    ) -> Self {
        TokenRevocation {
            authenticator,
            api_keys,
            store,
            events,
            throttle,
            access_ttl,
        }
    }

    /// Revokes whatever `token` is: an API key (deleted for good), a login
    /// token, or a refresh token (its whole family). Anything else is
    /// ignored: the caller learns nothing either way.
    pub async fn revoke(&self, token: &str, origin: Origin) -> Result<()> {
        if let Some(ip) = origin.client_ip() {
            self.throttle.revocation(ip)?;
        }
        match self.authenticator.identify(token) {
            Some(claims) if claims.kind == TokenKind::ApiKey => {
                let audit = origin.audit(
                    ACTOR.to_owned(),
                    "api_key.deleted",
                    claims.company_id,
                    claims.jti,
                );
                self.api_keys.delete(claims.jti, None, audit).await?;
            }
            // Only a token still live here is looked up: an unauthenticated
            // caller cannot make a revoked one cost a write, or even a read.
            Some(claims) if self.authenticator.is_in_force(&claims) => {
                let audit = origin
                    .actor(ACTOR.to_owned())
                    .entry("token.revoked", None, claims.jti);
                // No events: revoked through another instance, which the
                // log holds and a catch-up reads.
                let events = self
                    .store
                    .revoke_token(claims.jti, claims.expires_at(), audit)
                    .await?;
                self.events.put_in_force(events).await;
            }
            None if is_refresh_token_shaped(token) => {
                let audit = AuditEntry {
                    actor: ACTOR.to_owned(),
                    action: "refresh_token.revoked",
                    ip: origin.ip,
                    user_agent: origin.user_agent,
                    outcome: "success",
                    ..Default::default()
                };
                let events = self
                    .store
                    .revoke_refresh_token(&sha256_hex(token), self.access_ttl, audit)
                    .await?;
                self.events.put_in_force(events).await;
            }
            Some(_) | None => {}
        }
        Ok(())
    }
}

fn is_refresh_token_shaped(token: &str) -> bool {
    token.len() == REFRESH_TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
