//! Users: creation, look-up, and the two ways to end every token of theirs.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::users;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set, TransactionTrait,
};
use uuid::Uuid;

use super::api_keys::{revoke_keys, KeysOf, RevocationReason};
use super::audit::{self, Actor};
use super::revocation_events;
use super::{is_unique_violation, Store};
use crate::domain::{AccessEvent, Email};

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl Store {
    pub async fn create_user(
        &self,
        email: &Email,
        password_hash: String,
        is_admin: bool,
        audit_entry: impl FnOnce(&users::Model) -> super::audit::AuditEntry,
    ) -> Result<users::Model, CreateUserError> {
        let user = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.as_str().to_owned()),
            password_hash: Set(password_hash),
            is_admin: Set(is_admin),
            disabled_at: Set(None),
            tokens_valid_after: Set(None),
            created_at: Set(self.now()),
        };
        let txn = sea_orm::TransactionTrait::begin(self.db()).await?;
        let user = user.insert(&txn).await.map_err(|e| {
            if is_unique_violation(&e) {
                CreateUserError::EmailTaken
            } else {
                CreateUserError::Db(e)
            }
        })?;
        super::audit::record(&txn, audit_entry(&user), self.now()).await?;
        txn.commit().await?;
        Ok(user)
    }

    pub async fn find_user_by_email(&self, email: &Email) -> Result<Option<users::Model>, DbErr> {
        users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(self.db())
            .await
    }

    pub async fn find_user(&self, id: Uuid) -> Result<Option<users::Model>, DbErr> {
        users::Entity::find_by_id(id).one(self.db()).await
    }

    /// The emails of these users, by id; unknown ids are left out.
    pub async fn user_emails(&self, ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>, DbErr> {
        let rows: Vec<(Uuid, String)> = users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::Email])
            .filter(users::Column::Id.is_in(ids))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Disables the user for good and ends all their API keys, in one
    /// transaction with the events every replica applies and an audit row.
    /// No events if there is no such user.
    pub async fn disable_user(&self, id: Uuid, actor: &Actor) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let Some(user) = users::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(Vec::new());
        };
        let now = self.now();
        if user.disabled_at.is_none() {
            let mut active: users::ActiveModel = user.into();
            active.disabled_at = Set(Some(now));
            active.update(&txn).await?;
        }
        let event = AccessEvent::UserDisabled { user_id: id };
        let mut events = vec![revocation_events::append(&txn, event, now).await?];
        let reason = RevocationReason::UserDisabled;
        end_keys(&txn, id, actor, reason, "user.disabled", now, &mut events).await?;
        txn.commit().await?;
        Ok(events)
    }

    /// Every token issued to the user until now stops working, and their
    /// API keys end for good. No events if there is no such user.
    pub async fn revoke_user_tokens(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let Some(user) = users::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(Vec::new());
        };
        let now = self.now();
        let mut active: users::ActiveModel = user.into();
        active.tokens_valid_after = Set(Some(now));
        active.update(&txn).await?;
        let event = AccessEvent::UserTokensRevoked {
            user_id: id,
            valid_after: now,
        };
        let mut events = vec![revocation_events::append(&txn, event, now).await?];
        let reason = RevocationReason::TokensRevoked;
        end_keys(
            &txn,
            id,
            actor,
            reason,
            "user.tokens_revoked",
            now,
            &mut events,
        )
        .await?;
        txn.commit().await?;
        Ok(events)
    }
}

/// Ends every key of the user, with the audit row of `action` naming them.
async fn end_keys(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    actor: &Actor,
    reason: RevocationReason,
    action: &'static str,
    now: DateTime<Utc>,
    events: &mut Vec<AccessEvent>,
) -> Result<(), DbErr> {
    let keys = KeysOf {
        user_id,
        company_id: None,
    };
    let revoked = revoke_keys(db, keys, &actor.name, reason, now, events).await?;
    let audit_entry = audit::AuditEntry {
        details: Some(serde_json::json!({ "revoked_api_keys": revoked })),
        ..actor.entry(action, None, user_id)
    };
    audit::record(db, audit_entry, now).await
}

impl Store {
    pub async fn disabled_user_ids(&self) -> Result<Vec<Uuid>, DbErr> {
        use sea_orm::QuerySelect;
        users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::DisabledAt.is_not_null())
            .into_tuple()
            .all(self.db())
            .await
    }

    pub async fn user_token_cutoffs(&self) -> Result<Vec<(Uuid, DateTime<Utc>)>, DbErr> {
        use sea_orm::QuerySelect;
        users::Entity::find()
            .select_only()
            .columns([users::Column::Id, users::Column::TokensValidAfter])
            .filter(users::Column::TokensValidAfter.is_not_null())
            .into_tuple()
            .all(self.db())
            .await
    }
}
