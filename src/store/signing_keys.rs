use chrono::{DateTime, Utc};
use entity::{api_keys, signing_keys};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, Actor, AuditEntry};
use super::revocation_events;
use super::Store;
use crate::domain::AccessEvent;

pub struct NewSigningKey {
    pub kid: String,
    pub public_key: Vec<u8>,
    pub private_key_encrypted: Vec<u8>,
}

/// Why a signing key could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeKeyError {
    #[error("no signing key {0}")]
    NotFound(String),
    #[error("signing key {0} is revoked already")]
    AlreadyRevoked(String),
    /// The key signs now: a replacement must be made active with it.
    #[error("signing key {0} is the active key; a replacement is needed")]
    ReplacementNeeded(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A revoked signing key: the API keys it had signed, now revoked too.
pub struct RevokedSigningKey {
    pub killed_api_keys: Vec<Uuid>,
    pub events: Vec<AccessEvent>,
}

/// The audit action of every new active key: by hand, on schedule or at
/// first start.
const ROTATED: &str = "signing_key.rotated";

impl Store {
    /// Every key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<signing_keys::Model>, DbErr> {
        signing_keys::Entity::find()
            .order_by_desc(signing_keys::Column::CreatedAt)
            .all(self.db())
            .await
    }

    /// Stores a new active key and retires the previous ones, in one
    /// transaction with its audit row.
    pub async fn rotate_signing_key(
        &self,
        key: NewSigningKey,
        actor: &Actor,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        audit::record(&txn, actor.entry(ROTATED, None, &key.kid), now).await?;
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::value(now))
            .filter(signing_keys::Column::RetiredAt.is_null())
            .exec(&txn)
            .await?;
        let events = vec![insert_active(&txn, key, now).await?];
        txn.commit().await?;
        Ok(events)
    }

    /// Rotates only if `active_kid` is still the active key: of replicas
    /// that find the key due for rotation at the same time, one rotates.
    /// None: another rotated first.
    pub async fn rotate_signing_key_from(
        &self,
        active_kid: &str,
        key: NewSigningKey,
        actor: &Actor,
    ) -> Result<Option<Vec<AccessEvent>>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let retired = signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::value(now))
            .filter(signing_keys::Column::Kid.eq(active_kid))
            .filter(signing_keys::Column::RetiredAt.is_null())
            .exec(&txn)
            .await?;
        if retired.rows_affected == 0 {
            return Ok(None);
        }
        audit::record(&txn, actor.entry(ROTATED, None, &key.kid), now).await?;
        let events = vec![insert_active(&txn, key, now).await?];
        txn.commit().await?;
        Ok(Some(events))
    }

    /// The API keys still live (neither deleted, revoked nor expired) that
    /// `kid` signed: those created while it was the active key.
    pub async fn live_api_keys_signed_by(&self, kid: &str) -> Result<Option<u64>, DbErr> {
        let Some(key) = signing_keys::Entity::find_by_id(kid).one(self.db()).await? else {
            return Ok(None);
        };
        if key.revoked_at.is_some() {
            return Ok(Some(0));
        }
        let count = signed_by(&key, self.now()).count(self.db()).await?;
        Ok(Some(count))
    }

    /// Revokes a leaked key in one transaction: it verifies nothing more,
    /// the API keys it signed are revoked (reason `signing_key_revoked`),
    /// and, when it was the active key, `replacement` becomes active.
    pub async fn revoke_signing_key(
        &self,
        kid: &str,
        replacement: Option<NewSigningKey>,
        hand_over: HandOver,
        revoked_by: &str,
        audit_entry: AuditEntry,
    ) -> Result<RevokedSigningKey, RevokeKeyError> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let key = signing_keys::Entity::find_by_id(kid)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or_else(|| RevokeKeyError::NotFound(kid.to_owned()))?;
        if key.revoked_at.is_some() {
            return Err(RevokeKeyError::AlreadyRevoked(kid.to_owned()));
        }
        let mut events = Vec::new();
        if key.retired_at.is_none() {
            let replacement =
                replacement.ok_or_else(|| RevokeKeyError::ReplacementNeeded(kid.to_owned()))?;
            events.push(insert_active(&txn, replacement, now).await?);
        }
        if hand_over == HandOver::Published {
            hand_over_past(&txn, &key, now).await?;
        }
        let killed_api_keys: Vec<Uuid> = signed_by(&key, now)
            .select_only()
            .column(api_keys::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        if !killed_api_keys.is_empty() {
            api_keys::Entity::update_many()
                .col_expr(api_keys::Column::RevokedAt, Expr::value(now))
                .col_expr(api_keys::Column::RevokedBy, Expr::value(revoked_by))
                .col_expr(
                    api_keys::Column::RevokedReason,
                    Expr::value(super::api_keys::RevocationReason::SigningKeyRevoked.as_str()),
                )
                .filter(api_keys::Column::Id.is_in(killed_api_keys.iter().copied()))
                .exec(&txn)
                .await?;
        }
        for key_id in &killed_api_keys {
            let event = AccessEvent::KeyRevoked { key_id: *key_id };
            events.push(revocation_events::append(&txn, event, now).await?);
        }
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RevokedAt, Expr::value(now))
            .col_expr(
                signing_keys::Column::RetiredAt,
                Expr::value(key.retired_at.unwrap_or(now)),
            )
            .filter(signing_keys::Column::Kid.eq(kid))
            .exec(&txn)
            .await?;
        let changed = AccessEvent::SigningKeysChanged {
            kid: kid.to_owned(),
        };
        events.push(revocation_events::append(&txn, changed, now).await?);
        audit::record(&txn, audit_entry, now).await?;
        txn.commit().await?;
        Ok(RevokedSigningKey {
            killed_api_keys,
            events,
        })
    }
}

/// How signing passes from key to key (`signing_keys.publish_ahead_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOver {
    /// A new key signs as soon as it is made.
    AtOnce,
    /// A new key signs once published for a while; until then the key it
    /// retired does (`tokens::SigningWindow`).
    Published,
}

/// Keeps each unrevoked key's hand-over where the next unrevoked key
/// begins, as `revoked` is revoked: the key that handed over to it now
/// hands over to its successor (the replacement, made `now`, or the next
/// key made after it). Otherwise that successor would sign before it had
/// been published for the whole delay.
async fn hand_over_past(
    db: &impl ConnectionTrait,
    revoked: &signing_keys::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let successor_made_at = match revoked.retired_at {
        None => Some(now),
        Some(_) => signing_keys::Entity::find()
            .filter(signing_keys::Column::CreatedAt.gt(revoked.created_at))
            .filter(signing_keys::Column::RevokedAt.is_null())
            .filter(signing_keys::Column::Kid.ne(revoked.kid.as_str()))
            .order_by_asc(signing_keys::Column::CreatedAt)
            .one(db)
            .await?
            .map(|successor| successor.created_at),
    };
    if let Some(made_at) = successor_made_at {
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::value(made_at))
            .filter(signing_keys::Column::RetiredAt.eq(revoked.created_at))
            .filter(signing_keys::Column::RevokedAt.is_null())
            .filter(signing_keys::Column::Kid.ne(revoked.kid.as_str()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Live API keys `key` signed: by the `kid` each keeps, or, for keys made
/// before it was kept, by being created while `key` was the active key
/// (exact then: keys were not yet published ahead of signing).
fn signed_by(key: &signing_keys::Model, now: DateTime<Utc>) -> sea_orm::Select<api_keys::Entity> {
    let mut by_time = Condition::all()
        .add(api_keys::Column::SigningKid.is_null())
        .add(api_keys::Column::CreatedAt.gte(key.created_at));
    if let Some(retired_at) = key.retired_at {
        by_time = by_time.add(api_keys::Column::CreatedAt.lte(retired_at));
    }
    api_keys::Entity::find()
        .filter(api_keys::Column::DeletedAt.is_null())
        .filter(api_keys::Column::RevokedAt.is_null())
        .filter(api_keys::Column::ExpiresAt.gt(now))
        .filter(
            Condition::any()
                .add(api_keys::Column::SigningKid.eq(key.kid.as_str()))
                .add(by_time),
        )
}

/// Inserts the new active key and the event that makes replicas reload.
async fn insert_active(
    db: &impl ConnectionTrait,
    key: NewSigningKey,
    now: DateTime<Utc>,
) -> Result<AccessEvent, DbErr> {
    let kid = key.kid.clone();
    signing_keys::ActiveModel {
        kid: Set(key.kid),
        algorithm: Set("EdDSA".to_owned()),
        public_key: Set(key.public_key),
        private_key_encrypted: Set(key.private_key_encrypted),
        created_at: Set(now),
        retired_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    let event = AccessEvent::SigningKeysChanged { kid };
    revocation_events::append(db, event, now).await
}
