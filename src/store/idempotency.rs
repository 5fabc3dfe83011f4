//! `Idempotency-Key`s of creations: the first request under a key creates,
//! a retry finds what it created. The key is claimed in the creating
//! transaction, so two racing requests create once.

use entity::idempotency_keys;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use super::{is_unique_violation, Store};

/// A caller's key for one creation request. Both fields are hex SHA-256:
/// `id` of the caller and the key, `request_hash` of the request's
/// non-secret fields.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub id: String,
    pub request_hash: String,
}

/// What a creation under an idempotency key did.
#[derive(Debug)]
pub enum Creation<T> {
    Created(T),
    /// A retry: the id of what the first request created.
    Replayed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("this Idempotency-Key was used for another request")]
    Mismatch,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Claims `key` for `resource_id` on `db` (the creating transaction).
/// `Ok(false)`: the key is taken; the transaction must be abandoned and
/// `Store::replay` asked.
pub async fn claim(
    db: &impl ConnectionTrait,
    key: &IdempotencyKey,
    resource_id: String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    let row = idempotency_keys::ActiveModel {
        id: Set(key.id.clone()),
        request_hash: Set(key.request_hash.clone()),
        resource_id: Set(resource_id),
        created_at: Set(now),
    };
    match row.insert(db).await {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

impl Store {
    /// What the first request under `key` created, if it was this request.
    pub async fn replay<T>(&self, key: &IdempotencyKey) -> Result<Creation<T>, IdempotencyError> {
        let row = idempotency_keys::Entity::find_by_id(key.id.clone())
            .one(self.db())
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("idempotency key".to_owned()))?;
        if row.request_hash != key.request_hash {
            return Err(IdempotencyError::Mismatch);
        }
        Ok(Creation::Replayed(row.resource_id))
    }
}
