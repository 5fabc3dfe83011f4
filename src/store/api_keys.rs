//! API keys: creation under the plan's limit, listing, deletion, and the
//! allow-list read at start.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{api_keys, companies, memberships, users};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::audit::{self, AuditEntry};
use super::revocation_events;
use super::{is_unique_violation, Committed, Store};
use crate::domain::{AccessEvent, ActiveKey, ActiveKeys, Expiry, KeyName, KeyScopes, Role};

pub struct NewApiKey {
    pub id: Uuid,
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub name: KeyName,
    pub expiry: Expiry,
    pub scopes: KeyScopes,
    /// SHA-256 of the key's token (never the token).
    pub token_digest: [u8; 32],
    /// The `kid` its token was signed with.
    pub signing_kid: String,
    /// When the creator's login token was issued (unix ms): a `revoke-tokens`
    /// that committed just before this creation must win.
    pub creator_token_issued_at_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateKeyError {
    #[error("the company has reached its limit of active keys")]
    LimitReached,
    #[error("no such company")]
    UnknownCompany,
    #[error("the creator is no longer a member of the company")]
    NotAMember,
    #[error("the creator is disabled, or their tokens were revoked")]
    CreatorRevoked,
    #[error("a key with this id exists already")]
    IdTaken,
    #[error("an active key of the company has this name already")]
    NameTaken,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Why a key was ended without being deleted, as stored in `revoked_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    MemberRemoved,
    UserDisabled,
    TokensRevoked,
    SigningKeyRevoked,
}

impl RevocationReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::MemberRemoved => "member_removed",
            RevocationReason::UserDisabled => "user_disabled",
            RevocationReason::TokensRevoked => "tokens_revoked",
            RevocationReason::SigningKeyRevoked => "signing_key_revoked",
        }
    }
}

/// Whose keys an ending covers: a user's in one company, or in all of them.
#[derive(Debug, Clone, Copy)]
pub struct KeysOf {
    pub user_id: Uuid,
    pub company_id: Option<Uuid>,
}

/// Which keys a listing covers.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyFilter {
    pub company_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
}

impl Store {
    /// Creates a key if the company is under `max_active` (None: unlimited).
    /// The company row is locked, so concurrent creations cannot overshoot.
    pub async fn create_api_key(
        &self,
        key: NewApiKey,
        max_active: Option<u64>,
        audit_entry: AuditEntry,
    ) -> Result<Committed<api_keys::Model>, CreateKeyError> {
        let txn = self.db().begin().await?;
        let now = self.now();
        companies::Entity::find_by_id(key.company_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .ok_or(CreateKeyError::UnknownCompany)?;
        // Shared locks: a member removal, a disable or a `revoke-tokens`
        // either committed before (and is seen here) or waits for this key
        // and then ends it too.
        let creator = users::Entity::find_by_id(key.user_id)
            .lock_shared()
            .one(&txn)
            .await?;
        let creator_in_force = creator.is_some_and(|user| {
            user.disabled_at.is_none()
                && user
                    .tokens_valid_after
                    .is_none_or(|after| key.creator_token_issued_at_ms >= after.timestamp_millis())
        });
        if !creator_in_force {
            return Err(CreateKeyError::CreatorRevoked);
        }
        memberships::Entity::find_by_id((key.user_id, key.company_id))
            .lock_shared()
            .one(&txn)
            .await?
            .ok_or(CreateKeyError::NotAMember)?;
        // A form sent twice names its key twice: that is the id taken, not
        // the name.
        if api_keys::Entity::find_by_id(key.id)
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(CreateKeyError::IdTaken);
        }
        // Names are compared folded in Rust, not with SQL `lower()`, which
        // folds only ASCII on SQLite: both databases must judge alike. The
        // company row lock above makes the checks and the insert atomic.
        let active_names: Vec<String> = api_keys::Entity::find()
            .filter(api_keys::Column::CompanyId.eq(key.company_id))
            .filter(api_keys::Column::DeletedAt.is_null())
            .filter(api_keys::Column::RevokedAt.is_null())
            .filter(api_keys::Column::ExpiresAt.gt(now))
            .select_only()
            .column(api_keys::Column::Name)
            .into_tuple()
            .all(&txn)
            .await?;
        if active_names.iter().any(|taken| key.name.same_as(taken)) {
            return Err(CreateKeyError::NameTaken);
        }
        if let Some(max_active) = max_active {
            if active_names.len() as u64 >= max_active {
                return Err(CreateKeyError::LimitReached);
            }
        }
        let model = api_keys::ActiveModel {
            id: Set(key.id),
            company_id: Set(key.company_id),
            user_id: Set(key.user_id),
            name: Set(key.name.as_str().to_owned()),
            created_at: Set(now),
            expires_at: Set(key.expiry.at()),
            last_used_at: Set(None),
            deleted_at: Set(None),
            deleted_by: Set(None),
            revoked_at: Set(None),
            revoked_by: Set(None),
            revoked_reason: Set(None),
            scopes: Set(key.scopes.to_claim()),
            token_digest: Set(Some(key.token_digest.to_vec())),
            signing_kid: Set(Some(key.signing_kid)),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                CreateKeyError::IdTaken
            } else {
                CreateKeyError::Db(e)
            }
        })?;
        let event = AccessEvent::KeyCreated {
            key_id: key.id,
            company_id: key.company_id,
            user_id: key.user_id,
            expires_at: key.expiry.at(),
            digest: Some(key.token_digest),
            scopes: key.scopes.to_claim(),
        };
        let events = vec![revocation_events::append(&txn, event, now).await?];
        audit::record(&txn, audit_entry, now).await?;
        txn.commit().await?;
        Ok(Committed {
            value: model,
            events,
        })
    }

    /// Keys that are not deleted, newest first.
    pub async fn list_api_keys(&self, filter: KeyFilter) -> Result<Vec<api_keys::Model>, DbErr> {
        let mut query = api_keys::Entity::find().filter(api_keys::Column::DeletedAt.is_null());
        if let Some(company_id) = filter.company_id {
            query = query.filter(api_keys::Column::CompanyId.eq(company_id));
        }
        if let Some(user_id) = filter.user_id {
            query = query.filter(api_keys::Column::UserId.eq(user_id));
        }
        query
            .order_by_desc(api_keys::Column::CreatedAt)
            .order_by_desc(api_keys::Column::Id)
            .all(self.db())
            .await
    }

    /// A key of the company that is not deleted.
    pub async fn find_api_key(
        &self,
        company_id: Uuid,
        key_id: Uuid,
    ) -> Result<Option<api_keys::Model>, DbErr> {
        api_keys::Entity::find_by_id(key_id)
            .filter(api_keys::Column::CompanyId.eq(company_id))
            .filter(api_keys::Column::DeletedAt.is_null())
            .one(self.db())
            .await
    }

    /// A key by id alone, deleted or not.
    pub async fn find_api_key_by_id(&self, key_id: Uuid) -> Result<Option<api_keys::Model>, DbErr> {
        api_keys::Entity::find_by_id(key_id).one(self.db()).await
    }

    /// Deletes the key for good and returns the event that says so; none if
    /// it was already deleted or never existed. Of concurrent deletes,
    /// exactly one gets an event.
    pub async fn delete_api_key(
        &self,
        key_id: Uuid,
        deleted_by: Option<Uuid>,
        audit_entry: AuditEntry,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let deleted = api_keys::Entity::update_many()
            .col_expr(api_keys::Column::DeletedAt, Expr::value(now))
            .col_expr(api_keys::Column::DeletedBy, Expr::value(deleted_by))
            .filter(api_keys::Column::Id.eq(key_id))
            .filter(api_keys::Column::DeletedAt.is_null())
            .exec(&txn)
            .await?;
        if deleted.rows_affected != 1 {
            return Ok(Vec::new());
        }
        let event = AccessEvent::KeyDeleted { key_id };
        let events = vec![revocation_events::append(&txn, event, now).await?];
        audit::record(&txn, audit_entry, now).await?;
        txn.commit().await?;
        Ok(events)
    }

    /// Writes collected `last_used_at` values; never moves one backwards.
    pub async fn record_keys_used(&self, uses: &[(Uuid, DateTime<Utc>)]) -> Result<(), DbErr> {
        let txn = self.db().begin().await?;
        for (key_id, at) in uses {
            api_keys::Entity::update_many()
                .col_expr(api_keys::Column::LastUsedAt, Expr::value(*at))
                .filter(api_keys::Column::Id.eq(*key_id))
                .filter(
                    api_keys::Column::LastUsedAt
                        .is_null()
                        .or(api_keys::Column::LastUsedAt.lt(*at)),
                )
                .exec(&txn)
                .await?;
        }
        txn.commit().await
    }

    /// The caller's role in the company, read from the database.
    pub async fn role_in_company(
        &self,
        user_id: Uuid,
        company_id: Uuid,
    ) -> Result<Option<Role>, DbErr> {
        let membership = memberships::Entity::find_by_id((user_id, company_id))
            .one(self.db())
            .await?;
        Ok(membership.and_then(|m| m.role.parse().ok()))
    }

    /// Every key that is neither deleted, revoked nor expired: the allow-list
    /// at start.
    /// Read in pages by id, straight into the map, so a million keys never sit
    /// in memory twice (as rows and as entries).
    pub async fn active_key_entries(&self, now: DateTime<Utc>) -> Result<ActiveKeys, DbErr> {
        const PAGE: u64 = 50_000;
        let active = || {
            api_keys::Entity::find()
                .filter(api_keys::Column::DeletedAt.is_null())
                .filter(api_keys::Column::RevokedAt.is_null())
                .filter(api_keys::Column::ExpiresAt.gt(now))
        };
        let count = active().count(self.db()).await?;
        let mut keys = ActiveKeys {
            entries: HashMap::with_capacity(usize::try_from(count).unwrap_or(0)),
            ..ActiveKeys::default()
        };
        let mut after: Option<Uuid> = None;
        loop {
            let mut page = active()
                .select_only()
                .columns([
                    api_keys::Column::Id,
                    api_keys::Column::CompanyId,
                    api_keys::Column::UserId,
                    api_keys::Column::ExpiresAt,
                    api_keys::Column::TokenDigest,
                    api_keys::Column::Scopes,
                ])
                .order_by_asc(api_keys::Column::Id)
                .limit(PAGE);
            if let Some(after) = after {
                page = page.filter(api_keys::Column::Id.gt(after));
            }
            let rows: Vec<KeyRow> = page.into_tuple().all(self.db()).await?;
            let full = rows.len() as u64 == PAGE;
            after = rows.last().map(|row| row.0);
            for (id, company_id, user_id, expires_at, digest, scopes) in rows {
                let scopes = keys.scope_sets.intern(scopes.as_deref());
                keys.entries.insert(
                    id,
                    ActiveKey {
                        company_id,
                        user_id,
                        expires_at: expires_at.timestamp(),
                        digest: digest.as_deref().and_then(|d| d.try_into().ok()),
                        scopes,
                    },
                );
            }
            if !full {
                return Ok(keys);
            }
        }
    }
}

/// id, company, user, expiry, token digest, scopes.
type KeyRow = (
    Uuid,
    Uuid,
    Uuid,
    DateTime<Utc>,
    Option<Vec<u8>>,
    Option<String>,
);

/// Ends, for good, every key of `keys` that is neither deleted nor already
/// revoked, inside the caller's transaction, with an event for each.
/// Returns their ids, and adds the events to `events`.
pub(super) async fn revoke_keys(
    db: &impl ConnectionTrait,
    keys: KeysOf,
    revoked_by: &str,
    reason: RevocationReason,
    now: DateTime<Utc>,
    events: &mut Vec<AccessEvent>,
) -> Result<Vec<Uuid>, DbErr> {
    let mut query = api_keys::Entity::find()
        .select_only()
        .column(api_keys::Column::Id)
        .filter(api_keys::Column::UserId.eq(keys.user_id))
        .filter(api_keys::Column::DeletedAt.is_null())
        .filter(api_keys::Column::RevokedAt.is_null());
    if let Some(company_id) = keys.company_id {
        query = query.filter(api_keys::Column::CompanyId.eq(company_id));
    }
    let ids: Vec<Uuid> = query.lock_exclusive().into_tuple().all(db).await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    api_keys::Entity::update_many()
        .col_expr(api_keys::Column::RevokedAt, Expr::value(now))
        .col_expr(api_keys::Column::RevokedBy, Expr::value(revoked_by))
        .col_expr(
            api_keys::Column::RevokedReason,
            Expr::value(reason.as_str()),
        )
        .filter(api_keys::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    for key_id in &ids {
        let event = AccessEvent::KeyRevoked { key_id: *key_id };
        events.push(revocation_events::append(db, event, now).await?);
    }
    Ok(ids)
}

impl Store {
    /// Active keys (neither deleted, revoked nor expired) by their company's
    /// plan: how many, and how many of them expire by `soon`. For metrics.
    pub async fn active_key_counts_by_plan(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> Result<Vec<PlanKeyCounts>, DbErr> {
        let by_plan = |expiring_by: Option<DateTime<Utc>>| {
            let company: sea_orm::RelationDef = api_keys::Entity::belongs_to(companies::Entity)
                .from(api_keys::Column::CompanyId)
                .to(companies::Column::Id)
                .into();
            let mut query = api_keys::Entity::find()
                .select_only()
                .column(companies::Column::Plan)
                .column_as(
                    Expr::col((api_keys::Entity, api_keys::Column::Id)).count(),
                    "keys",
                )
                .join(sea_orm::JoinType::InnerJoin, company)
                .filter(api_keys::Column::DeletedAt.is_null())
                .filter(api_keys::Column::RevokedAt.is_null())
                .filter(api_keys::Column::ExpiresAt.gt(now))
                .group_by(companies::Column::Plan);
            if let Some(by) = expiring_by {
                query = query.filter(api_keys::Column::ExpiresAt.lte(by));
            }
            query.into_tuple::<(String, i64)>().all(self.db())
        };
        let active = by_plan(None).await?;
        let expiring: HashMap<String, i64> = by_plan(Some(soon)).await?.into_iter().collect();
        Ok(active
            .into_iter()
            .map(|(plan, active)| PlanKeyCounts {
                expiring: expiring.get(&plan).copied().unwrap_or(0),
                active,
                plan,
            })
            .collect())
    }
}

pub struct PlanKeyCounts {
    pub plan: String,
    pub active: i64,
    pub expiring: i64,
}
