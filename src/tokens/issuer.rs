use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header};
use uuid::Uuid;

use super::{Claims, KeyRing, TokenKind};
use crate::clock::Clock;

pub struct TokenIssuer {
    keys: Arc<KeyRing>,
    clock: Clock,
    issuer: String,
    audience: String,
    access_ttl: chrono::Duration,
}

pub struct IssuedToken {
    pub token: String,
    pub claims: Claims,
    /// The signing key's id (the token's `kid`).
    pub kid: String,
}

impl TokenIssuer {
    pub fn new(
        keys: Arc<KeyRing>,
        clock: Clock,
        issuer: String,
        audience: String,
        access_ttl: chrono::Duration,
    ) -> Self {
        TokenIssuer {
            keys,
            clock,
            issuer,
            audience,
            access_ttl,
        }
    }

    /// How long a login token lives.
    pub fn access_ttl(&self) -> chrono::Duration {
        self.access_ttl
    }

    /// A login token for `user_id`.
    pub fn short_lived(&self, user_id: Uuid, jti: Uuid) -> anyhow::Result<IssuedToken> {
        self.short_lived_within(user_id, jti, None)
    }

    /// A login token that expires no later than `session_ends_at`: the last
    /// one of a session does not outlive it.
    pub fn short_lived_within(
        &self,
        user_id: Uuid,
        jti: Uuid,
        session_ends_at: Option<DateTime<Utc>>,
    ) -> anyhow::Result<IssuedToken> {
        let now = self.clock.unix_seconds();
        let full = now + self.access_ttl.num_seconds();
        let exp = session_ends_at.map_or(full, |end| full.min(end.timestamp()));
        self.sign(self.claims(user_id, jti, now, exp, TokenKind::ShortLived))
    }

    /// An API key: `jti` is the key's id, `exp` its fixed expiry, `scope`
    /// its scopes (space-separated; `None` for its creator's full rights).
    pub fn api_key(
        &self,
        key_id: Uuid,
        user_id: Uuid,
        company_id: Uuid,
        expires_at: DateTime<Utc>,
        scope: Option<String>,
    ) -> anyhow::Result<IssuedToken> {
        let now = self.clock.unix_seconds();
        self.sign(Claims {
            company_id: Some(company_id),
            scope,
            ..self.claims(
                user_id,
                key_id,
                now,
                expires_at.timestamp(),
                TokenKind::ApiKey,
            )
        })
    }

    fn claims(&self, sub: Uuid, jti: Uuid, now: i64, exp: i64, kind: TokenKind) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            sub,
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp,
            jti,
            kind,
            company_id: None,
            scope: None,
        }
    }

    fn sign(&self, claims: Claims) -> anyhow::Result<IssuedToken> {
        let keys = self.keys.current();
        let (kid, key) = keys.signer_at(claims.iat);
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(claims.kind.typ().to_owned());
        header.kid = Some(kid.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, key).context("cannot sign token")?;
        Ok(IssuedToken {
            token,
            claims,
            kid: kid.to_owned(),
        })
    }
}
