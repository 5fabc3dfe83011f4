//! Users created without a password, and the single-use invitations that
//! let them set one. Only a SHA-256 of each invitation token is stored.

use chrono::{DateTime, Utc};
use entity::{invitations, users};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, Actor, AuditEntry};
use super::idempotency::{self, Creation, IdempotencyError, IdempotencyKey};
use super::{is_unique_violation, Store};
use crate::domain::Email;

/// The password hash of a user who has none yet: no password matches it.
pub const NO_PASSWORD: &str = "";

/// A user to create: with a password hash, or with an invitation.
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub password_hash: Option<String>,
    pub invitation: Option<NewInvitation>,
}

pub struct NewInvitation {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionUserError {
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Idempotency(#[from] IdempotencyError),
}

impl From<DbErr> for ProvisionUserError {
    fn from(e: DbErr) -> Self {
        ProvisionUserError::Idempotency(IdempotencyError::Db(e))
    }
}

async fn insert_invitation(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    invitation: NewInvitation,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    invitations::ActiveModel {
        token_hash: Set(invitation.token_hash),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(invitation.expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await
    .map(|_| ())
}

impl Store {
    /// Creates a (non-admin) user with its audit row and any invitation,
    /// once per idempotency key.
    pub async fn provision_user(
        &self,
        user: NewUser<'_>,
        actor: &Actor,
        key: Option<&IdempotencyKey>,
    ) -> Result<Creation<users::Model>, ProvisionUserError> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let id = self.clock().new_v7();
        if let Some(key) = key {
            if !idempotency::claim(&txn, key, id.to_string(), now).await? {
                drop(txn);
                return Ok(self.replay(key).await?);
            }
        }
        let invited = user.invitation.is_some();
        let inserted = users::ActiveModel {
            id: Set(id),
            email: Set(user.email.as_str().to_owned()),
            password_hash: Set(user.password_hash.unwrap_or_default()),
            is_admin: Set(false),
            disabled_at: Set(None),
            tokens_valid_after: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ProvisionUserError::EmailTaken
            } else {
                e.into()
            }
        })?;
        if let Some(invitation) = user.invitation {
            insert_invitation(&txn, id, invitation, now).await?;
        }
        let entry = AuditEntry {
            details: Some(serde_json::json!({ "email": inserted.email, "invited": invited })),
            ..actor.entry("user.created", None, id)
        };
        audit::record(&txn, entry, now).await?;
        txn.commit().await?;
        Ok(Creation::Created(inserted))
    }

    /// A new invitation for a user who still has no password; earlier
    /// unused ones stop working. False if the user has a password already.
    pub async fn reissue_invitation(
        &self,
        user_id: Uuid,
        invitation: NewInvitation,
    ) -> Result<bool, DbErr> {
        let txn = self.db().begin().await?;
        let waiting = users::Entity::find_by_id(user_id)
            .filter(users::Column::PasswordHash.eq(NO_PASSWORD))
            .filter(users::Column::DisabledAt.is_null())
            .one(&txn)
            .await?;
        if waiting.is_none() {
            return Ok(false);
        }
        let now = self.now();
        void_invitations(&txn, user_id, now).await?;
        insert_invitation(&txn, user_id, invitation, now).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Spends an invitation: sets the password of a user who has none, once.
    /// `None` for a token unknown, used, expired, or of a disabled user.
    /// Whether an invitation is there to spend: asked before its password is
    /// hashed, so a made-up invitation costs a read, not an argon2id hash.
    pub async fn invitation_is_open(&self, token_hash: &str) -> Result<bool, DbErr> {
        let found = invitations::Entity::find_by_id(token_hash.to_owned())
            .filter(invitations::Column::UsedAt.is_null())
            .filter(invitations::Column::ExpiresAt.gt(self.now()))
            .one(self.db())
            .await?;
        Ok(found.is_some())
    }

    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        actor: &Actor,
    ) -> Result<Option<users::Model>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let invitation = invitations::Entity::find_by_id(token_hash.to_owned())
            .filter(invitations::Column::UsedAt.is_null())
            .filter(invitations::Column::ExpiresAt.gt(now))
            .one(&txn)
            .await?;
        let Some(invitation) = invitation else {
            return Ok(None);
        };
        let user = users::Entity::find_by_id(invitation.user_id)
            .filter(users::Column::PasswordHash.eq(NO_PASSWORD))
            .filter(users::Column::DisabledAt.is_null())
            .one(&txn)
            .await?;
        let Some(user) = user else {
            return Ok(None);
        };
        // Guarded: of two accepts racing on one invitation, one sets the
        // password and the other finds it set and changes nothing.
        let set = users::Entity::update_many()
            .col_expr(
                users::Column::PasswordHash,
                Expr::value(password_hash.clone()),
            )
            .filter(users::Column::Id.eq(user.id))
            .filter(users::Column::PasswordHash.eq(NO_PASSWORD))
            .exec(&txn)
            .await?;
        if set.rows_affected != 1 {
            return Ok(None);
        }
        void_invitations(&txn, user.id, now).await?;
        let user = users::Model {
            password_hash,
            ..user
        };
        let entry = AuditEntry {
            actor: user.id.to_string(),
            ..actor.entry("user.invitation_accepted", None, user.id)
        };
        audit::record(&txn, entry, now).await?;
        txn.commit().await?;
        Ok(Some(user))
    }
}

async fn void_invitations(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    invitations::Entity::update_many()
        .col_expr(invitations::Column::UsedAt, Expr::value(now))
        .filter(invitations::Column::UserId.eq(user_id))
        .filter(invitations::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}
