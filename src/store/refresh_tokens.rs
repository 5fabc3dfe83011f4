//! Refresh tokens: families rotated on every use, revoked whole on reuse.

use chrono::{DateTime, Duration, Utc};
use entity::{refresh_tokens, users};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set, TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::revocation_events;
use super::Store;
use crate::domain::AccessEvent;

/// A refresh token as stored: only its SHA-256 is kept.
pub struct NewRefreshToken {
    pub token_hash: String,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub access_jti: Uuid,
    pub expires_at: DateTime<Utc>,
    /// The end of the login: a rotation copies it, and never lets the next
    /// token expire after it.
    pub session_ends_at: DateTime<Utc>,
}

pub enum RefreshOutcome {
    Rotated {
        user: users::Model,
        family_id: Uuid,
        /// The login's absolute end: no token of it may outlive this.
        session_ends_at: DateTime<Utc>,
    },
    /// A spent token came back: its whole family has been revoked, with
    /// these events.
    ReuseDetected(Vec<AccessEvent>),
    Invalid,
}

impl Store {
    pub async fn insert_refresh_token(&self, token: NewRefreshToken) -> Result<(), DbErr> {
        insert(self.db(), token, self.now()).await
    }

    /// Spends `presented_hash` and stores `next` in its family, in one transaction.
    pub async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next: impl FnOnce(Uuid, Uuid) -> NewRefreshToken,
        access_ttl: Duration,
        reuse_audit: AuditEntry,
    ) -> Result<RefreshOutcome, DbErr> {
        let txn = self.db().begin().await?;
        // Locked: a concurrent rotation, logout or reuse revocation of this
        // family waits for us, or we for it, and then sees what it did.
        let Some(current) = refresh_tokens::Entity::find_by_id(presented_hash.to_owned())
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let now = self.now();
        if current.revoked_at.is_some() {
            return Ok(RefreshOutcome::Invalid);
        }
        if current.used_at.is_some() {
            let events = revoke_family(&txn, current.family_id, access_ttl, now).await?;
            audit::record(&txn, reuse_audit, now).await?;
            txn.commit().await?;
            return Ok(RefreshOutcome::ReuseDetected(events));
        }
        // Shared lock: a concurrent `revoke-tokens` cannot slip past this check.
        let user = users::Entity::find_by_id(current.user_id)
            .lock_shared()
            .one(&txn)
            .await?;
        let usable = current.expires_at > now
            && user.as_ref().is_some_and(|u| {
                u.disabled_at.is_none()
                    && u.tokens_valid_after
                        .is_none_or(|after| current.created_at >= after)
            });
        let Some(user) = user.filter(|_| usable) else {
            return Ok(RefreshOutcome::Invalid);
        };
        // Guarded update: of two concurrent uses of one token, only one wins.
        let spent = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
            .filter(refresh_tokens::Column::TokenHash.eq(presented_hash))
            .filter(refresh_tokens::Column::UsedAt.is_null())
            .filter(refresh_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if spent.rows_affected != 1 {
            let events = revoke_family(&txn, current.family_id, access_ttl, now).await?;
            audit::record(&txn, reuse_audit, now).await?;
            txn.commit().await?;
            return Ok(RefreshOutcome::ReuseDetected(events));
        }
        // The session's absolute end travels with the family: rotation
        // cannot push it back.
        let session_ends_at = current.session_ends_at.unwrap_or(current.expires_at);
        let mut next = next(current.user_id, current.family_id);
        next.session_ends_at = session_ends_at;
        next.expires_at = next.expires_at.min(session_ends_at);
        insert(&txn, next, now).await?;
        txn.commit().await?;
        Ok(RefreshOutcome::Rotated {
            user,
            family_id: current.family_id,
            session_ends_at,
        })
    }

    /// Logout: revokes this access token, the refresh family it came from,
    /// and every access token issued in that family. What was already
    /// revoked is not written again.
    pub async fn logout(
        &self,
        access_jti: Uuid,
        expires_at: DateTime<Utc>,
        access_ttl: Duration,
        audit_entry: AuditEntry,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let row = refresh_tokens::Entity::find()
            .filter(refresh_tokens::Column::AccessJti.eq(access_jti))
            .one(&txn)
            .await?;
        let mut events = match row {
            Some(row) => revoke_family(&txn, row.family_id, access_ttl, now).await?,
            None => Vec::new(),
        };
        events.extend(
            revocation_events::append_token_revoked_once(&txn, access_jti, expires_at, now).await?,
        );
        audit::record(&txn, audit_entry, now).await?;
        txn.commit().await?;
        Ok(events)
    }

    /// Revokes one refresh token's family (RFC 7009 with a refresh token).
    /// No events, and nothing written, if there was nothing left to revoke.
    pub async fn revoke_refresh_token(
        &self,
        token_hash: &str,
        access_ttl: Duration,
        audit_entry: AuditEntry,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let row = refresh_tokens::Entity::find_by_id(token_hash.to_owned())
            .one(self.db())
            .await?;
        let Some(row) = row.filter(|row| row.revoked_at.is_none()) else {
            return Ok(Vec::new());
        };
        let txn = self.db().begin().await?;
        let now = self.now();
        let events = revoke_family(&txn, row.family_id, access_ttl, now).await?;
        // A family revoked already (by a race) writes nothing, audit included.
        if !events.is_empty() {
            audit::record(&txn, audit_entry, now).await?;
        }
        txn.commit().await?;
        Ok(events)
    }
}

async fn insert(
    db: &impl ConnectionTrait,
    token: NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_tokens::ActiveModel {
        token_hash: Set(token.token_hash),
        user_id: Set(token.user_id),
        family_id: Set(token.family_id),
        access_jti: Set(token.access_jti),
        created_at: Set(now),
        expires_at: Set(token.expires_at),
        used_at: Set(None),
        revoked_at: Set(None),
        session_ends_at: Set(Some(token.session_ends_at)),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Revokes every refresh token of the family not yet revoked, and every
/// access token issued with one, returning the events. None if the whole
/// family already was: then nothing is written.
async fn revoke_family(
    db: &impl ConnectionTrait,
    family_id: Uuid,
    access_ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<AccessEvent>, DbErr> {
    // Lock the family first: a rotation in flight holds one of its rows, so
    // this waits for it to commit, and the statements below see its new row.
    refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .lock_exclusive()
        .all(db)
        .await?;
    let unrevoked = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    if unrevoked.is_empty() {
        return Ok(Vec::new());
    }
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    let mut events = Vec::new();
    for member in unrevoked {
        let expires_at = member.created_at + access_ttl;
        if expires_at > now {
            let jti = member.access_jti;
            events.extend(
                revocation_events::append_token_revoked_once(db, jti, expires_at, now).await?,
            );
        }
    }
    Ok(events)
}
