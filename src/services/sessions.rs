//! Login, refresh, logout and the caller's own profile.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use uuid::Uuid;

use super::access::api_key_allows;
use super::events::EventSink;
use super::Origin;
use crate::clock::Clock;
use crate::domain::Email;
use crate::error::ApiError;
use crate::monitoring::Metrics;
use crate::passwords::{HashError, PasswordHasher};
use crate::store::audit::AuditEntry;
use crate::store::login_attempts::{AccountLimit, LoginSlot};
use crate::store::refresh_tokens::{NewRefreshToken, RefreshOutcome};
use crate::store::Store;
use crate::throttle::Throttle;
use crate::tokens::{random_secret, sha256_hex, Claims, TokenIssuer};
use crate::Result;

/// A login token and the refresh token that renews it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
    pub refresh_token: String,
}

/// `GET /me`: who the caller is and the companies the token speaks for.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub id: Uuid,
    pub email: String,
    pub companies: Vec<ProfileCompany>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProfileCompany {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub role: String,
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => ApiError::Throttled {
                retry_after_seconds: 1,
            },
            HashError::Failed(e) => ApiError::Unexpected(e),
        }
    }
}

pub struct Sessions {
    store: Store,
    rules: SessionRules,
    passwords: Arc<PasswordHasher>,
    issuer: Arc<TokenIssuer>,
    events: EventSink,
    clock: Clock,
    metrics: Arc<Metrics>,
}

/// How long a refresh family lives, and how often one may try to log in.
pub struct SessionRules {
    pub refresh_ttl: chrono::Duration,
    /// The longest a login lasts, from sign-in, however often it is refreshed.
    pub session_lifetime: chrono::Duration,
    /// Logins, refreshes and revocations per client IP.
    pub per_client: Arc<Throttle>,
    /// Failed logins per account, shared by every replica.
    pub per_account: AccountLimit,
}

impl Sessions {
    pub fn new(
        store: Store,
        rules: SessionRules,
        passwords: Arc<PasswordHasher>,
        issuer: Arc<TokenIssuer>,
        events: EventSink,
        clock: Clock,
        metrics: Arc<Metrics>,
    ) -> Self {
        Sessions {
            store,
            rules,
            passwords,
            issuer,
            events,
            clock,
            metrics,
        }
    }

    /// A fresh login: a new refresh family with its first pair. Every
    /// attempt is audited; a wrong email costs as much as a wrong password.
    pub async fn login(
        &self,
        email: &str,
        password: SecretString,
        origin: Origin,
    ) -> Result<TokenPair> {
        // The client's share first, before any database or hashing work.
        if let Some(wait) = origin
            .client_ip()
            .and_then(|ip| self.rules.per_client.login(ip).err())
        {
            self.metrics.logins.throttled.increment(1);
            return Err(wait.into());
        }
        // A malformed email is treated as unknown: same cost, same answer.
        let parsed = Email::parse(email).ok();
        let account = account_key(parsed.as_ref(), email);
        if let LoginSlot::Refused { retry_after_ms } = self
            .store
            .take_login_slot(&account, self.rules.per_account)
            .await?
        {
            return Err(self
                .throttled(parsed.as_ref(), origin, retry_after_ms)
                .await?);
        }
        let user = match &parsed {
            Some(email) => self.store.find_user_by_email(email).await?,
            None => None,
        };
        let checked = self
            .passwords
            .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
            .await;
        let password_ok = match checked {
            Ok(ok) => ok,
            Err(e) => {
                if matches!(e, HashError::Busy) {
                    self.metrics.logins.throttled.increment(1);
                    let entry = login_audit(user.as_ref().map(|u| u.id), origin, "throttled");
                    self.store.record_audit(entry).await?;
                }
                return Err(e.into());
            }
        };
        let user = user.filter(|u| password_ok && u.disabled_at.is_none());
        if user.is_some() {
            self.store.give_back_login_slot(&account).await?;
        }
        let outcome = if user.is_some() { "success" } else { "failure" };
        let audit = login_audit(user.as_ref().map(|u| u.id), origin, outcome);
        self.store.record_audit(audit).await?;
        let logins = &self.metrics.logins;
        match user.is_some() {
            true => logins.success.increment(1),
            false => logins.failure.increment(1),
        }
        let user = user.ok_or(ApiError::InvalidCredentials)?;
        let access_jti = self.clock.new_v7();
        let refresh_token = random_secret();
        let now = self.clock.now();
        let session_ends_at = now + self.rules.session_lifetime;
        self.store
            .insert_refresh_token(NewRefreshToken {
                token_hash: sha256_hex(&refresh_token),
                user_id: user.id,
                family_id: Uuid::now_v7(),
                access_jti,
                expires_at: (now + self.rules.refresh_ttl).min(session_ends_at),
                session_ends_at,
            })
            .await?;
        self.token_pair(user.id, access_jti, refresh_token, session_ends_at)
    }

    /// The refusal of a login over its account's limit, audited with the
    /// account it was aimed at when that account exists.
    async fn throttled(
        &self,
        email: Option<&Email>,
        origin: Origin,
        retry_after_ms: i64,
    ) -> Result<ApiError> {
        let user = match email {
            Some(email) => self.store.find_user_by_email(email).await?,
            None => None,
        };
        self.metrics.logins.throttled.increment(1);
        let entry = login_audit(user.map(|u| u.id), origin, "throttled");
        self.store.record_audit(entry).await?;
        let seconds = u64::try_from((retry_after_ms + 999) / 1000).map_or(1, |s| s.max(1));
        Ok(ApiError::Throttled {
            retry_after_seconds: seconds,
        })
    }

    /// Rotates a refresh token. A spent one coming back revokes its family.
    pub async fn refresh(&self, presented: SecretString, origin: Origin) -> Result<TokenPair> {
        if let Some(ip) = origin.client_ip() {
            self.rules.per_client.refresh(ip)?;
        }
        let presented = sha256_hex(presented.expose_secret());
        let access_jti = self.clock.new_v7();
        let refresh_token = random_secret();
        let refresh_hash = sha256_hex(&refresh_token);
        let refresh_expires = self.clock.now() + self.rules.refresh_ttl;
        let next = |user_id, family_id| NewRefreshToken {
            token_hash: refresh_hash,
            user_id,
            family_id,
            access_jti,
            expires_at: refresh_expires,
            // The store puts the family's own end here.
            session_ends_at: refresh_expires,
        };
        let reuse_audit = AuditEntry {
            actor: "anonymous".to_owned(),
            action: "refresh_token.reused",
            ip: origin.ip,
            user_agent: origin.user_agent,
            outcome: "denied",
            ..Default::default()
        };
        let outcome = self
            .store
            .rotate_refresh_token(&presented, next, self.issuer.access_ttl(), reuse_audit)
            .await?;
        match outcome {
            RefreshOutcome::Rotated {
                user,
                session_ends_at,
                ..
            } => self.token_pair(user.id, access_jti, refresh_token, session_ends_at),
            RefreshOutcome::ReuseDetected(events) => {
                tracing::warn!("refresh token reused: its family has been revoked");
                self.metrics.refresh_token_reuse.increment(1);
                self.events.put_in_force(events).await;
                Err(ApiError::InvalidToken)
            }
            RefreshOutcome::Invalid => Err(ApiError::InvalidToken),
        }
    }

    /// Revokes this login token and its refresh family.
    pub async fn logout(&self, caller: &Claims, origin: Origin) -> Result<()> {
        let audit = origin
            .actor(caller.sub.to_string())
            .entry("logout", None, caller.jti);
        let events = self
            .store
            .logout(
                caller.jti,
                caller.expires_at(),
                self.issuer.access_ttl(),
                audit,
            )
            .await?;
        self.events.put_in_force(events).await;
        Ok(())
    }

    /// The caller and their companies; an API key sees only its own.
    pub async fn profile(&self, caller: &Claims) -> Result<Profile> {
        let user = self
            .store
            .find_user(caller.sub)
            .await?
            .ok_or(ApiError::InvalidToken)?;
        let companies = self
            .store
            .memberships_of_user(user.id)
            .await?
            .into_iter()
            .filter(|m| api_key_allows(caller, m.company.id))
            .map(|m| ProfileCompany {
                id: m.company.id,
                name: m.company.name,
                plan: m.company.plan,
                role: m.role,
            })
            .collect();
        Ok(Profile {
            id: user.id,
            email: user.email,
            companies,
        })
    }

    fn token_pair(
        &self,
        user_id: Uuid,
        access_jti: Uuid,
        refresh_token: String,
        session_ends_at: DateTime<Utc>,
    ) -> Result<TokenPair> {
        let access = self
            .issuer
            .short_lived_within(user_id, access_jti, Some(session_ends_at))?;
        Ok(TokenPair {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.claims.exp - access.claims.iat,
            refresh_token,
        })
    }
}

/// The key an account's login count is kept under: a digest of the email
/// as parsed (or, for one that does not parse, as typed, trimmed and
/// lower-cased), so the table holds no addresses.
fn account_key(parsed: Option<&Email>, typed: &str) -> String {
    match parsed {
        Some(email) => sha256_hex(email.as_str()),
        None => sha256_hex(&typed.trim().to_lowercase()),
    }
}

/// The audit row of one login attempt: the account's id when it exists.
fn login_audit(user_id: Option<Uuid>, origin: Origin, outcome: &'static str) -> AuditEntry {
    AuditEntry {
        actor: user_id.map_or_else(|| "anonymous".to_owned(), |id| id.to_string()),
        action: "login",
        ip: origin.ip,
        user_agent: origin.user_agent,
        outcome,
        ..Default::default()
    }
}
