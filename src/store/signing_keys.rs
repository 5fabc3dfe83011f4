use entity::signing_keys;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::revocation_events;
use super::Store;
use crate::domain::AccessEvent;

pub struct NewSigningKey {
    pub kid: String,
    pub public_key: Vec<u8>,
    pub private_key_encrypted: Vec<u8>,
}

impl Store {
    /// Every key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<signing_keys::Model>, DbErr> {
        signing_keys::Entity::find()
            .order_by_desc(signing_keys::Column::CreatedAt)
            .all(self.db())
            .await
    }

    /// Stores a new active key and retires the previous ones, in one transaction.
    pub async fn rotate_signing_key(&self, key: NewSigningKey) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::value(now))
            .filter(signing_keys::Column::RetiredAt.is_null())
            .exec(&txn)
            .await?;
        let kid = key.kid.clone();
        signing_keys::ActiveModel {
            kid: Set(key.kid),
            algorithm: Set("EdDSA".to_owned()),
            public_key: Set(key.public_key),
            private_key_encrypted: Set(key.private_key_encrypted),
            created_at: Set(now),
            retired_at: Set(None),
        }
        .insert(&txn)
        .await?;
        let event = AccessEvent::SigningKeysChanged { kid };
        let events = vec![revocation_events::append(&txn, event, now).await?];
        txn.commit().await?;
        Ok(events)
    }
}
