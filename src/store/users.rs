use chrono::Utc;
use entity::users;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::revocation_events::{self, RevocationEvent};
use super::{is_unique_violation, Store};
use crate::domain::Email;

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
    ) -> Result<users::Model, CreateUserError> {
        let user = users::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.as_str().to_owned()),
            password_hash: Set(password_hash),
            is_admin: Set(is_admin),
            disabled_at: Set(None),
            tokens_valid_after: Set(None),
            created_at: Set(Utc::now()),
        };
        user.insert(self.db()).await.map_err(|e| {
            if is_unique_violation(&e) {
                CreateUserError::EmailTaken
            } else {
                CreateUserError::Db(e)
            }
        })
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

    /// Disables the user for good and tells every replica. Returns false if no such user.
    pub async fn disable_user(&self, id: Uuid) -> Result<bool, DbErr> {
        let txn = self.db().begin().await?;
        let Some(user) = users::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(false);
        };
        if user.disabled_at.is_none() {
            let mut active: users::ActiveModel = user.into();
            active.disabled_at = Set(Some(Utc::now()));
            active.update(&txn).await?;
        }
        revocation_events::append(&txn, RevocationEvent::UserDisabled { user_id: id }).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Every token issued to the user until now stops working.
    pub async fn revoke_user_tokens(&self, id: Uuid) -> Result<bool, DbErr> {
        let txn = self.db().begin().await?;
        let Some(user) = users::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(false);
        };
        let now = Utc::now();
        let mut active: users::ActiveModel = user.into();
        active.tokens_valid_after = Set(Some(now));
        active.update(&txn).await?;
        revocation_events::append(
            &txn,
            RevocationEvent::UserTokensRevoked {
                user_id: id,
                valid_after: now,
            },
        )
        .await?;
        txn.commit().await?;
        Ok(true)
    }
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

    pub async fn user_token_cutoffs(&self) -> Result<Vec<(Uuid, chrono::DateTime<Utc>)>, DbErr> {
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
