//! Login, refresh, logout and the caller's own profile.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{Duration, TimeZone, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extractors::{ApiJson, Authenticated, ClientInfo};
use crate::domain::Email;
use crate::error::ApiError;
use crate::passwords::HashError;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::refresh_tokens::{NewRefreshToken, RefreshOutcome};
use crate::store::revocation_events::RevocationEvent;
use crate::tokens::{random_secret, sha256_hex};
use crate::Result;

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: SecretString,
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: SecretString,
}

#[derive(Serialize)]
struct TokenPair {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
}

/// Token responses must never be cached (RFC 6749 §5.1).
pub fn no_store(status: actix_web::http::StatusCode) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    response
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

#[tracing::instrument(name = "login", skip_all)]
pub async fn login(
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
    client: ClientInfo,
) -> Result<HttpResponse> {
    let LoginRequest { email, password } = body.0;
    // A malformed email is treated as unknown: same cost, same answer.
    let user = match Email::parse(&email) {
        Ok(email) => state.store.find_user_by_email(&email).await?,
        Err(_) => None,
    };
    let password_ok = state
        .passwords
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    let user = user.filter(|u| password_ok && u.disabled_at.is_none());
    let audit = AuditEntry {
        actor: user
            .as_ref()
            .map_or_else(|| "anonymous".to_owned(), |u| u.id.to_string()),
        action: "login",
        ip: client.ip,
        user_agent: client.user_agent,
        outcome: if user.is_some() { "success" } else { "failure" },
        ..Default::default()
    };
    state.store.record_audit(audit).await?;
    let user = user.ok_or(ApiError::InvalidCredentials)?;
    let pair = start_family(&state, user.id).await?;
    Ok(no_store(actix_web::http::StatusCode::OK).json(pair))
}

#[tracing::instrument(name = "refresh", skip_all)]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse> {
    use secrecy::ExposeSecret;
    let presented = sha256_hex(body.0.refresh_token.expose_secret());
    let access_jti = Uuid::now_v7();
    let refresh_token = random_secret();
    let refresh_hash = sha256_hex(&refresh_token);
    let refresh_expires = Utc::now() + refresh_ttl(&state);
    let next = |user_id, family_id| NewRefreshToken {
        token_hash: refresh_hash,
        user_id,
        family_id,
        access_jti,
        expires_at: refresh_expires,
    };
    match state
        .store
        .rotate_refresh_token(&presented, next, access_ttl(&state))
        .await?
    {
        RefreshOutcome::Rotated { user, .. } => {
            let pair = token_pair(&state, user.id, access_jti, refresh_token)?;
            Ok(no_store(actix_web::http::StatusCode::OK).json(pair))
        }
        RefreshOutcome::ReuseDetected => {
            tracing::warn!("refresh token reused: its family has been revoked");
            state.apply_local(Vec::new()).await;
            Err(ApiError::InvalidToken)
        }
        RefreshOutcome::Invalid => Err(ApiError::InvalidToken),
    }
}

#[tracing::instrument(name = "logout", skip_all, fields(user_id = %auth.claims.sub))]
pub async fn logout(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse> {
    auth.require_short_lived()?;
    let expires_at = Utc
        .timestamp_opt(auth.claims.exp, 0)
        .single()
        .unwrap_or_else(Utc::now);
    state
        .store
        .logout(auth.claims.jti, expires_at, access_ttl(&state))
        .await?;
    state
        .apply_local(vec![RevocationEvent::TokenRevoked {
            jti: auth.claims.jti,
            expires_at,
        }])
        .await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct Me {
    id: Uuid,
    email: String,
    companies: Vec<MeCompany>,
}

#[derive(Serialize)]
struct MeCompany {
    id: Uuid,
    name: String,
    plan: String,
    role: String,
}

#[tracing::instrument(name = "me", skip_all, fields(user_id = %auth.claims.sub))]
pub async fn me(state: web::Data<AppState>, auth: Authenticated) -> Result<HttpResponse> {
    let user = state
        .store
        .find_user(auth.claims.sub)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    // An API key speaks for one company only, so it sees only that one.
    let companies = state
        .store
        .memberships_of_user(user.id)
        .await?
        .into_iter()
        .filter(|m| auth.claims.company_id.is_none_or(|own| own == m.company.id))
        .map(|m| MeCompany {
            id: m.company.id,
            name: m.company.name,
            plan: m.company.plan,
            role: m.role,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Me {
        id: user.id,
        email: user.email,
        companies,
    }))
}

/// A fresh login: a new refresh family with its first pair.
async fn start_family(state: &AppState, user_id: Uuid) -> Result<TokenPair> {
    let access_jti = Uuid::now_v7();
    let refresh_token = random_secret();
    state
        .store
        .insert_refresh_token(NewRefreshToken {
            token_hash: sha256_hex(&refresh_token),
            user_id,
            family_id: Uuid::now_v7(),
            access_jti,
            expires_at: Utc::now() + refresh_ttl(state),
        })
        .await?;
    token_pair(state, user_id, access_jti, refresh_token)
}

fn token_pair(
    state: &AppState,
    user_id: Uuid,
    access_jti: Uuid,
    refresh_token: String,
) -> Result<TokenPair> {
    let access = state.issuer.short_lived(user_id, access_jti)?;
    Ok(TokenPair {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: state.issuer.access_ttl_seconds(),
        refresh_token,
    })
}

fn access_ttl(state: &AppState) -> Duration {
    Duration::seconds(state.issuer.access_ttl_seconds())
}

fn refresh_ttl(state: &AppState) -> Duration {
    Duration::seconds(
        i64::try_from(state.settings.tokens.refresh_ttl_seconds).unwrap_or(i64::MAX / 1000),
    )
}
