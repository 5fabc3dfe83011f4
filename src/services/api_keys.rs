//! API keys: who may create, see and delete them, and under which plan.

use chrono::{DateTime, Duration, Utc};
use entity::api_keys;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{Expiry, KeyName, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::api_keys::{CreateKeyError, KeyFilter, NewApiKey};
use crate::store::audit::AuditEntry;
use crate::store::revocation_events::RevocationEvent;
use crate::throttle::RetryAfter;
use crate::tokens::Claims;
use crate::Result;

/// How the expiry was asked for, before the plan's limit is known.
pub struct RequestedExpiry {
    pub expires_at: Option<String>,
    pub expires_in: Option<i64>,
}

/// Where the request came from, for the audit log.
#[derive(Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Serialize)]
pub struct CreatedKey {
    pub id: Uuid,
    pub name: String,
    pub company_id: Uuid,
    pub token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub status: &'static str,
    /// Set only on a key ended by a member removal, a user disabled or
    /// `revoke-tokens`: when, by whom, why.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub revoked_reason: Option<String>,
}

/// The caller's role in the company. A company the caller cannot reach is
/// not found, exactly like one that does not exist.
async fn role(state: &AppState, caller: &Claims, company_id: Uuid) -> Result<Role> {
    if caller.company_id.is_some_and(|own| own != company_id) {
        return Err(ApiError::NotFound);
    }
    state
        .store
        .role_in_company(caller.sub, company_id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Owners and admins reach every key of the company; members their own.
fn reaches(role: Role, caller: &Claims, key: &api_keys::Model) -> bool {
    role.manages_company() || key.user_id == caller.sub
}

pub async fn create(
    state: &AppState,
    caller: &Claims,
    company_id: Uuid,
    name: KeyName,
    requested: RequestedExpiry,
    origin: Origin,
) -> Result<CreatedKey> {
    state
        .throttle
        .key_creation(caller.sub)
        .map_err(|RetryAfter(seconds)| ApiError::Throttled {
            retry_after_seconds: seconds,
        })?;
    role(state, caller, company_id).await?;
    let company = state
        .store
        .find_company(company_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let plan = state
        .settings
        .plan(&company.plan)
        .filter(|p| p.api_keys)
        .ok_or(ApiError::PlanNotAllowed)?;
    let longest = Duration::days(i64::try_from(plan.max_lifetime_days).unwrap_or(36_500));
    let expiry = Expiry::parse(
        requested.expires_at.as_deref(),
        requested.expires_in,
        Utc::now(),
        longest,
    )?;
    let max_active = (plan.max_active_keys > 0).then_some(plan.max_active_keys);
    let key_id = Uuid::now_v7();
    let audit = AuditEntry {
        actor: caller.sub.to_string(),
        company_id: Some(company_id),
        action: "api_key.created",
        target: Some(key_id.to_string()),
        ip: origin.ip,
        user_agent: origin.user_agent,
        outcome: "success",
        details: Some(serde_json::json!({ "name": name.as_str(), "expires_at": expiry.at() })),
    };
    let new_key = NewApiKey {
        id: key_id,
        company_id,
        user_id: caller.sub,
        name,
        expiry,
        creator_token_issued_at_ms: caller.issued_at_ms(),
    };
    let key = state
        .store
        .create_api_key(new_key, max_active, audit)
        .await
        .map_err(|e| match e {
            CreateKeyError::LimitReached => ApiError::ApiKeyLimitReached,
            CreateKeyError::UnknownCompany | CreateKeyError::NotAMember => ApiError::NotFound,
            CreateKeyError::CreatorRevoked => ApiError::InvalidToken,
            CreateKeyError::Db(e) => e.into(),
        })?;
    let token = state
        .issuer
        .private(key.id, key.user_id, key.company_id, key.expires_at)?;
    state
        .apply_local(vec![RevocationEvent::KeyCreated {
            key_id: key.id,
            company_id,
            user_id: key.user_id,
            expires_at: key.expires_at,
        }])
        .await;
    Ok(CreatedKey {
        id: key.id,
        name: key.name,
        company_id,
        token: token.token,
        created_at: key.created_at,
        expires_at: key.expires_at,
    })
}

pub async fn list(state: &AppState, caller: &Claims, company_id: Uuid) -> Result<Vec<KeyView>> {
    let role = role(state, caller, company_id).await?;
    let user_id = (!role.manages_company()).then_some(caller.sub);
    let keys = state
        .store
        .list_api_keys(KeyFilter {
            company_id: Some(company_id),
            user_id,
        })
        .await?;
    Ok(keys.into_iter().map(|key| view(state, key)).collect())
}

pub async fn get(
    state: &AppState,
    caller: &Claims,
    company_id: Uuid,
    key_id: Uuid,
) -> Result<KeyView> {
    let role = role(state, caller, company_id).await?;
    let key = state.store.find_api_key(company_id, key_id).await?;
    let key = key
        .filter(|k| reaches(role, caller, k))
        .ok_or(ApiError::NotFound)?;
    Ok(view(state, key))
}

pub async fn delete(
    state: &AppState,
    caller: &Claims,
    company_id: Uuid,
    key_id: Uuid,
    origin: Origin,
) -> Result<()> {
    let role = role(state, caller, company_id).await?;
    let key = state.store.find_api_key(company_id, key_id).await?;
    key.filter(|k| reaches(role, caller, k))
        .ok_or(ApiError::NotFound)?;
    let audit = AuditEntry {
        actor: caller.sub.to_string(),
        company_id: Some(company_id),
        action: "api_key.deleted",
        target: Some(key_id.to_string()),
        ip: origin.ip,
        user_agent: origin.user_agent,
        outcome: "success",
        details: None,
    };
    revoke(state, key_id, Some(caller.sub), audit)
        .await?
        .then_some(())
        .ok_or(ApiError::NotFound)
}

/// Deletes a key for good and puts that in force here before returning.
/// False if it was already gone.
pub async fn revoke(
    state: &AppState,
    key_id: Uuid,
    deleted_by: Option<Uuid>,
    audit: AuditEntry,
) -> Result<bool> {
    let event = state
        .store
        .delete_api_key(key_id, deleted_by, audit)
        .await?;
    let deleted = event.is_some();
    if let Some(event) = event {
        state.apply_local(vec![event]).await;
    }
    Ok(deleted)
}

pub fn view(state: &AppState, key: api_keys::Model) -> KeyView {
    let last_used_at = key.last_used_at.max(state.usage.pending(key.id));
    let status = status(&key, Utc::now());
    KeyView {
        id: key.id,
        name: key.name,
        created_at: key.created_at,
        status,
        expires_at: key.expires_at,
        last_used_at,
        created_by: key.user_id,
        revoked_at: key.revoked_at,
        revoked_by: key.revoked_by,
        revoked_reason: key.revoked_reason,
    }
}

/// The listing's status: `revoked` once ended without being deleted,
/// otherwise `active` until the key's fixed expiry and `expired` after.
pub fn status(key: &api_keys::Model, now: DateTime<Utc>) -> &'static str {
    if key.revoked_at.is_some() {
        "revoked"
    } else if key.expires_at > now {
        "active"
    } else {
        "expired"
    }
}
