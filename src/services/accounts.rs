//! Companies, users and memberships: one set of use cases for the CLI, the
//! admin API and the provisioning API. Every write is audited with its actor.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{companies, users};
use sea_orm::DbErr;
use serde::Serialize;
use uuid::Uuid;

use super::events::EventSink;
use crate::domain::{CompanyName, Email, Password, Plan, Role};
use crate::error::ApiError;
use crate::store::audit::{Actor, AuditEntry};
use crate::store::idempotency::{Creation, IdempotencyError, IdempotencyKey};
use crate::store::invitations::{NewInvitation, NewUser, ProvisionUserError};
use crate::store::memberships::AddMemberError;
use crate::store::Store;
use crate::tokens::{random_secret, sha256_hex};

/// How long an invitation link works.
const INVITATION_TTL_DAYS: i64 = 7;

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    events: EventSink,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CompanyView {
    pub id: Uuid,
    pub name: String,
    pub plan: String,
    pub created_at: DateTime<Utc>,
}

impl From<companies::Model> for CompanyView {
    fn from(c: companies::Model) -> Self {
        CompanyView {
            id: c.id,
            name: c.name,
            plan: c.plan,
            created_at: c.created_at,
        }
    }
}

/// A user as the provisioning API shows one; never a hash.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Set when the user has no password yet: the only time this link's
    /// token is shown. It sets the password once, until `expires_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
}

/// The page an invitation link opens (served by `web`).
pub const INVITATION_PAGE: &str = "/ui/invitation";

#[derive(Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub token: String,
    /// `POST` `{token, password}` here to set the password.
    pub accept_url: String,
    /// The link to send the user: a page where they set their password. The
    /// token rides in the fragment, which no browser sends to a server.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

/// What a creation answered, and whether it was a retry of an earlier one.
pub struct Provisioned<T> {
    pub value: T,
    pub replayed: bool,
}

impl From<IdempotencyError> for ApiError {
    fn from(e: IdempotencyError) -> Self {
        match e {
            IdempotencyError::Mismatch => ApiError::invalid(
                "Idempotency-Key",
                "This Idempotency-Key was already used for a different request.",
            ),
            IdempotencyError::Db(e) => e.into(),
        }
    }
}

impl Accounts {
    pub fn new(store: Store, events: EventSink) -> Self {
        Accounts { store, events }
    }

    /// Who created each key, as people read it: the creators' emails.
    pub async fn emails(&self, user_ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>, DbErr> {
        self.store.user_emails(user_ids).await
    }

    pub async fn companies(&self) -> Result<Vec<CompanyView>, DbErr> {
        let companies = self.store.companies().await?;
        Ok(companies.into_iter().map(CompanyView::from).collect())
    }

    pub async fn create_company(
        &self,
        name: &CompanyName,
        plan: &Plan,
        actor: &Actor,
        key: Option<&IdempotencyKey>,
    ) -> Result<Provisioned<CompanyView>, ApiError> {
        match self.store.provision_company(name, plan, actor, key).await? {
            Creation::Created(company) => Ok(Provisioned {
                value: company.into(),
                replayed: false,
            }),
            Creation::Replayed(id) => {
                let company = self
                    .store
                    .find_company(parse_id(&id)?)
                    .await?
                    .ok_or(ApiError::NotFound)?;
                Ok(Provisioned {
                    value: company.into(),
                    replayed: true,
                })
            }
        }
    }

    /// `None` if there is no such company. Existing keys keep working
    /// after a downgrade.
    pub async fn set_plan(
        &self,
        company_id: Uuid,
        plan: &Plan,
        actor: &Actor,
    ) -> Result<Option<CompanyView>, DbErr> {
        let company = self.store.set_company_plan(company_id, plan, actor).await?;
        Ok(company.map(CompanyView::from))
    }

    /// A user (or platform admin) with a password, for the CLI: hashes it
    /// (argon2id, off the async threads) and creates the user.
    pub async fn create_user_with_password(
        &self,
        email: &Email,
        password: Password,
        is_admin: bool,
        actor: &Actor,
    ) -> anyhow::Result<users::Model> {
        let hash = hash(password).await?;
        let audit = |user: &users::Model| AuditEntry {
            details: Some(serde_json::json!({ "email": user.email, "is_admin": is_admin })),
            ..actor.entry("user.created", None, user.id)
        };
        let user = self.store.create_user(email, hash, is_admin, audit).await?;
        Ok(user)
    }

    /// A user with a password, or without one and with an invitation to
    /// set it (`base_url` is where the link points). A retry under the
    /// same idempotency key creates nothing; if the user still has no
    /// password it gets a new invitation, and earlier ones stop working.
    pub async fn create_user(
        &self,
        email: &Email,
        password: Option<Password>,
        actor: &Actor,
        key: Option<&IdempotencyKey>,
        base_url: &str,
    ) -> Result<Provisioned<UserView>, ApiError> {
        let (mut invitation, stored, password_hash) = match password {
            Some(password) => (None, None, Some(hash(password).await?)),
            None => {
                let (shown, stored) = self.new_invitation(base_url);
                (Some(shown), Some(stored), None)
            }
        };
        let new_user = NewUser {
            email,
            password_hash,
            invitation: stored,
        };
        let created = self.store.provision_user(new_user, actor, key).await;
        let created = created.map_err(|e| match e {
            ProvisionUserError::EmailTaken => {
                ApiError::invalid("email", "A user with this email already exists.")
            }
            ProvisionUserError::Idempotency(e) => e.into(),
        })?;
        let (user, replayed) = match created {
            Creation::Created(user) => (user, false),
            Creation::Replayed(id) => {
                let user = self.store.find_user(parse_id(&id)?).await?;
                (user.ok_or(ApiError::NotFound)?, true)
            }
        };
        if replayed {
            invitation = None;
            let (shown, new) = self.new_invitation(base_url);
            if self.store.reissue_invitation(user.id, new).await? {
                invitation = Some(shown);
            }
        }
        Ok(Provisioned {
            value: UserView {
                id: user.id,
                email: user.email,
                created_at: user.created_at,
                disabled_at: user.disabled_at,
                invitation,
            },
            replayed,
        })
    }

    /// Sets the password of an invited user, once. False for a token that
    /// is unknown, used or expired.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: Password,
        actor: &Actor,
    ) -> Result<bool, ApiError> {
        let token_hash = sha256_hex(token);
        if !self.store.invitation_is_open(&token_hash).await? {
            return Ok(false);
        }
        let hash = hash(password).await?;
        let accepted = self
            .store
            .accept_invitation(&token_hash, hash, actor)
            .await?;
        Ok(accepted.is_some())
    }

    /// Every token of the user stops working, for good. False if no such user.
    pub async fn disable_user(&self, user_id: Uuid, actor: &Actor) -> Result<bool, DbErr> {
        let events = self.store.disable_user(user_id, actor).await?;
        Ok(self.put_in_force(events).await)
    }

    /// Every token issued to the user so far stops working. False if no such user.
    pub async fn revoke_user_tokens(&self, user_id: Uuid, actor: &Actor) -> Result<bool, DbErr> {
        let events = self.store.revoke_user_tokens(user_id, actor).await?;
        Ok(self.put_in_force(events).await)
    }

    /// Adds the user to the company, or changes their role there.
    pub async fn add_member(
        &self,
        user_id: Uuid,
        company_id: Uuid,
        role: Role,
        actor: &Actor,
    ) -> Result<(), AddMemberError> {
        let events = self
            .store
            .add_member(user_id, company_id, role, actor)
            .await?;
        self.put_in_force(events).await;
        Ok(())
    }

    /// Removes the user from the company and ends their keys there for good.
    /// False if they were not a member.
    pub async fn remove_member(
        &self,
        user_id: Uuid,
        company_id: Uuid,
        actor: &Actor,
    ) -> Result<bool, DbErr> {
        let events = self.store.remove_member(user_id, company_id, actor).await?;
        Ok(self.put_in_force(events).await)
    }

    /// True if the write did anything (and so appended events).
    async fn put_in_force(&self, events: Vec<crate::domain::AccessEvent>) -> bool {
        if events.is_empty() {
            return false;
        }
        self.events.put_in_force(events).await;
        true
    }

    /// The invitation as shown once, and as stored (its hash).
    fn new_invitation(&self, base_url: &str) -> (Invitation, NewInvitation) {
        let token = random_secret();
        let expires_at = self.store.now() + chrono::Duration::days(INVITATION_TTL_DAYS);
        let stored = NewInvitation {
            token_hash: sha256_hex(&token),
            expires_at,
        };
        let base_url = base_url.trim_end_matches('/');
        let shown = Invitation {
            accept_url: format!("{base_url}/api/v1/auth/invitation"),
            link: format!("{base_url}{INVITATION_PAGE}#token={token}"),
            token,
            expires_at,
        };
        (shown, stored)
    }
}

async fn hash(password: Password) -> anyhow::Result<String> {
    let hashed =
        tokio::task::spawn_blocking(move || crate::passwords::hash_blocking(password.secret()))
            .await??;
    Ok(hashed)
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|e| ApiError::Unexpected(e.into()))
}
