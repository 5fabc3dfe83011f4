//! API keys: members create, see and delete their company's keys
//! (`ApiKeys`); ops and the RFC 7009 endpoint list and delete any key
//! (`ApiKeyAdmin`). Both show a key as a `KeyView`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::api_keys;
use serde::Serialize;
use uuid::Uuid;

use super::access::role_in_company;
use super::events::EventSink;
use super::Origin;
use crate::clock::Clock;
use crate::domain::{Expiry, KeyName, KeyScopes, Role};
use crate::error::ApiError;
use crate::settings::{PlanSettings, Settings};
use crate::store::api_keys::{CreateKeyError, KeyFilter, NewApiKey};
use crate::store::audit::{Actor, AuditEntry};
use crate::store::Store;
use crate::throttle::Throttle;
use crate::tokens::{token_digest, Claims, TokenIssuer};
use crate::usage::KeyUsage;
use crate::Result;

/// How the expiry was asked for, before the plan's limit is known.
pub struct RequestedExpiry {
    pub expires_at: Option<String>,
    pub expires_in: Option<i64>,
}

/// What a create request asks for besides its name: expiry and scopes.
pub struct KeyRequest {
    pub expiry: RequestedExpiry,
    /// The `scopes` field as sent (checked against `api_keys.scopes` here).
    pub scopes: Option<serde_json::Value>,
}

/// A stored `scopes` column as listed: `None` for full rights.
fn scopes_of(stored: Option<&str>) -> Option<Vec<String>> {
    KeyScopes::from_stored(stored)
        .as_slice()
        .map(<[String]>::to_vec)
}

/// A key just created: the only time its token is shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    pub id: Uuid,
    pub name: String,
    pub company_id: Uuid,
    pub token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `None` (JSON null): the creator's full rights.
    pub scopes: Option<Vec<String>>,
}

/// One key as listed, by the API and by the CLI.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: Uuid,
    pub company_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub status: KeyStatus,
    /// Set only on a key ended by a member removal, a user disabled or
    /// `revoke-tokens`: when, by whom, why.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub revoked_reason: Option<String>,
    /// `None` (JSON null): the creator's full rights.
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Expired,
    /// Ended without being deleted.
    Revoked,
}

impl KeyStatus {
    /// `revoked` once ended without being deleted, otherwise `active` until
    /// the key's fixed expiry and `expired` after.
    pub fn of(key: &api_keys::Model, now: DateTime<Utc>) -> Self {
        if key.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if key.expires_at > now {
            KeyStatus::Active
        } else {
            KeyStatus::Expired
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

/// Listing and deleting any key, whoever asks: for ops (the CLI, later the
/// admin API) and for RFC 7009, where holding the token is enough.
#[derive(Clone)]
pub struct ApiKeyAdmin {
    store: Store,
    events: EventSink,
    usage: Arc<KeyUsage>,
    clock: Clock,
}

impl ApiKeyAdmin {
    pub fn new(store: Store, events: EventSink, usage: Arc<KeyUsage>, clock: Clock) -> Self {
        ApiKeyAdmin {
            store,
            events,
            usage,
            clock,
        }
    }

    /// Keys that are not deleted, newest first.
    pub async fn list(&self, filter: KeyFilter) -> Result<Vec<KeyView>> {
        let keys = self.store.list_api_keys(filter).await?;
        Ok(keys.into_iter().map(|key| self.view(key)).collect())
    }

    /// A key that is not deleted, by id alone.
    pub async fn find(&self, key_id: Uuid) -> Result<Option<KeyView>> {
        let key = self.store.find_api_key_by_id(key_id).await?;
        Ok(key
            .filter(|k| k.deleted_at.is_none())
            .map(|key| self.view(key)))
    }

    /// Deletes a key for good and puts that in force here before returning.
    /// False if it was already gone.
    pub async fn delete(
        &self,
        key_id: Uuid,
        deleted_by: Option<Uuid>,
        audit: AuditEntry,
    ) -> Result<bool> {
        let events = self.store.delete_api_key(key_id, deleted_by, audit).await?;
        let deleted = !events.is_empty();
        if deleted {
            self.events.put_in_force(events).await;
        }
        Ok(deleted)
    }

    /// Deletes any key, for ops (the CLI and the admin API), audited with
    /// `actor`. False if there is no such key or it was already deleted.
    pub async fn delete_any(&self, key_id: Uuid, actor: &Actor) -> Result<bool> {
        let Some(key) = self.find(key_id).await? else {
            return Ok(false);
        };
        let audit = actor.entry("api_key.deleted", Some(key.company_id), key_id);
        self.delete(key_id, None, audit).await
    }

    /// The row as listed, with a use not yet written counted in.
    fn view(&self, key: api_keys::Model) -> KeyView {
        let last_used_at = key.last_used_at.max(self.usage.pending(key.id));
        KeyView {
            status: KeyStatus::of(&key, self.clock.now()),
            id: key.id,
            company_id: key.company_id,
            name: key.name,
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at,
            created_by: key.user_id,
            revoked_at: key.revoked_at,
            revoked_by: key.revoked_by,
            revoked_reason: key.revoked_reason,
            scopes: scopes_of(key.scopes.as_deref()),
        }
    }
}

/// A company's keys, as its members see them: owners and admins reach
/// every key of the company, members their own.
pub struct ApiKeys {
    admin: ApiKeyAdmin,
    store: Store,
    issuer: Arc<TokenIssuer>,
    throttle: Arc<Throttle>,
    settings: Arc<Settings>,
    clock: Clock,
}

impl ApiKeys {
    pub fn new(
        admin: ApiKeyAdmin,
        issuer: Arc<TokenIssuer>,
        throttle: Arc<Throttle>,
        settings: Arc<Settings>,
    ) -> Self {
        ApiKeys {
            store: admin.store.clone(),
            clock: admin.clock.clone(),
            admin,
            issuer,
            throttle,
            settings,
        }
    }

    /// Creates a key under a fresh id: the JSON API's way.
    pub async fn create(
        &self,
        caller: &Claims,
        company_id: Uuid,
        name: KeyName,
        requested: KeyRequest,
        origin: Origin,
    ) -> Result<CreatedKey> {
        let key_id = self.clock.new_v7();
        self.create_once(caller, company_id, key_id, name, requested, origin)
            .await?
            .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("a fresh key id was taken")))
    }

    /// Creates a key under an id the caller reserved beforehand (a page's
    /// create form carries one), so that sending the same request twice
    /// makes one key. `None`: a key with this id exists already; its token
    /// is not shown again.
    pub async fn create_once(
        &self,
        caller: &Claims,
        company_id: Uuid,
        key_id: Uuid,
        name: KeyName,
        requested: KeyRequest,
        origin: Origin,
    ) -> Result<Option<CreatedKey>> {
        self.throttle.key_creation(caller.sub)?;
        role_in_company(&self.store, caller, company_id).await?;
        let company = self
            .store
            .find_company(company_id)
            .await?
            .ok_or(ApiError::NotFound)?;
        let plan = self
            .plan_terms(&company.plan)
            .ok_or(ApiError::PlanNotAllowed)?;
        let scopes = KeyScopes::from_request(requested.scopes.as_ref(), self.allowed_scopes())?;
        let requested = requested.expiry;
        let expiry = Expiry::parse(
            requested.expires_at.as_deref(),
            requested.expires_in,
            self.clock.now(),
            plan.max_lifetime(),
        )?;
        let audit = AuditEntry {
            details: Some(serde_json::json!({
                "name": name.as_str(),
                "expires_at": expiry.at(),
                "scopes": scopes.as_slice(),
            })),
            ..origin.audit(
                caller.sub.to_string(),
                "api_key.created",
                Some(company_id),
                key_id,
            )
        };
        // Signed before the row is written, so the row keeps its digest;
        // shown only if the row commits.
        let token = self.issuer.api_key(
            key_id,
            caller.sub,
            company_id,
            expiry.at(),
            scopes.to_claim(),
        )?;
        let new_key = NewApiKey {
            id: key_id,
            company_id,
            user_id: caller.sub,
            name,
            expiry,
            scopes,
            token_digest: token_digest(&token.token),
            signing_kid: token.kid.clone(),
            creator_token_issued_at_ms: caller.issued_at_ms(),
        };
        let created = match self
            .store
            .create_api_key(new_key, plan.active_key_limit(), audit)
            .await
        {
            Ok(created) => created,
            Err(CreateKeyError::IdTaken) => return Ok(None),
            Err(CreateKeyError::LimitReached) => return Err(ApiError::ApiKeyLimitReached),
            Err(CreateKeyError::NameTaken) => {
                return Err(ApiError::invalid(
                    "name",
                    "An active key of this company already has this name. Choose another name.",
                ))
            }
            Err(CreateKeyError::UnknownCompany | CreateKeyError::NotAMember) => {
                return Err(ApiError::NotFound)
            }
            Err(CreateKeyError::CreatorRevoked) => return Err(ApiError::InvalidToken),
            Err(CreateKeyError::Db(e)) => return Err(e.into()),
        };
        let key = created.value;
        self.admin.events.put_in_force(created.events).await;
        Ok(Some(CreatedKey {
            id: key.id,
            name: key.name,
            company_id,
            token: token.token,
            created_at: key.created_at,
            expires_at: key.expires_at,
            scopes: scopes_of(key.scopes.as_deref()),
        }))
    }

    /// The scopes a key may be created with (`api_keys.scopes`).
    pub fn allowed_scopes(&self) -> &[String] {
        &self.settings.api_keys.scopes
    }

    /// The terms of a plan that includes API keys; `None` for a plan that
    /// does not (or is unknown). The one place this rule is read.
    pub fn plan_terms(&self, plan: &str) -> Option<&PlanSettings> {
        self.settings.plan(plan).filter(|p| p.api_keys)
    }

    /// The plans that include API keys, by settings name, in order.
    pub fn plans_with_keys(&self) -> Vec<String> {
        let mut plans: Vec<String> = self
            .settings
            .plans
            .keys()
            .filter(|name| self.plan_terms(name).is_some())
            .cloned()
            .collect();
        plans.sort();
        plans
    }

    pub async fn list(&self, caller: &Claims, company_id: Uuid) -> Result<Vec<KeyView>> {
        let role = role_in_company(&self.store, caller, company_id).await?;
        let user_id = (!role.manages_company()).then_some(caller.sub);
        self.admin
            .list(KeyFilter {
                company_id: Some(company_id),
                user_id,
            })
            .await
    }

    pub async fn get(&self, caller: &Claims, company_id: Uuid, key_id: Uuid) -> Result<KeyView> {
        let key = self.reachable_key(caller, company_id, key_id).await?;
        Ok(self.admin.view(key))
    }

    pub async fn delete(
        &self,
        caller: &Claims,
        company_id: Uuid,
        key_id: Uuid,
        origin: Origin,
    ) -> Result<()> {
        self.reachable_key(caller, company_id, key_id).await?;
        let audit = origin.audit(
            caller.sub.to_string(),
            "api_key.deleted",
            Some(company_id),
            key_id,
        );
        self.admin
            .delete(key_id, Some(caller.sub), audit)
            .await?
            .then_some(())
            .ok_or(ApiError::NotFound)
    }

    /// A key of the company that the caller reaches, or not found.
    async fn reachable_key(
        &self,
        caller: &Claims,
        company_id: Uuid,
        key_id: Uuid,
    ) -> Result<api_keys::Model> {
        let role = role_in_company(&self.store, caller, company_id).await?;
        let key = self.store.find_api_key(company_id, key_id).await?;
        key.filter(|k| reaches(role, caller, k))
            .ok_or(ApiError::NotFound)
    }
}

/// Owners and admins reach every key of the company; members their own.
fn reaches(role: Role, caller: &Claims, key: &api_keys::Model) -> bool {
    role.manages_company() || key.user_id == caller.sub
}
