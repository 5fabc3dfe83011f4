//! The append-only log every replica follows to keep its revocation state.

use chrono::{DateTime, Utc};
use entity::revocation_events as events;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use super::Store;
use crate::domain::Role;

#[derive(Debug, Clone, PartialEq)]
pub enum RevocationEvent {
    KeyCreated {
        key_id: Uuid,
        company_id: Uuid,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    KeyDeleted {
        key_id: Uuid,
    },
    /// Ended for good without being deleted (member removed, user disabled,
    /// tokens revoked); in force exactly like a deletion.
    KeyRevoked {
        key_id: Uuid,
    },
    TokenRevoked {
        jti: Uuid,
        expires_at: DateTime<Utc>,
    },
    UserDisabled {
        user_id: Uuid,
    },
    UserTokensRevoked {
        user_id: Uuid,
        valid_after: DateTime<Utc>,
    },
    MembershipChanged {
        user_id: Uuid,
        company_id: Uuid,
        role: Option<Role>,
    },
    SigningKeysChanged {
        kid: String,
    },
    ClientsChanged {
        client_id: String,
    },
}

pub struct StoredEvent {
    pub id: i64,
    pub event: Option<RevocationEvent>,
}

/// The PostgreSQL channel that rings when an event is appended.
pub const NOTIFY_CHANNEL: &str = "latchkey_revocation";

pub async fn append(db: &impl ConnectionTrait, event: RevocationEvent) -> Result<(), DbErr> {
    let mut row = events::ActiveModel {
        created_at: Set(Utc::now()),
        user_id: Set(None),
        company_id: Set(None),
        role: Set(None),
        not_after: Set(None),
        ..Default::default()
    };
    let (kind, subject) = match &event {
        RevocationEvent::KeyCreated {
            key_id,
            company_id,
            user_id,
            expires_at,
        } => {
            row.company_id = Set(Some(*company_id));
            row.user_id = Set(Some(*user_id));
            row.not_after = Set(Some(*expires_at));
            ("key_created", key_id.to_string())
        }
        RevocationEvent::KeyDeleted { key_id } => ("key_deleted", key_id.to_string()),
        RevocationEvent::KeyRevoked { key_id } => ("key_revoked", key_id.to_string()),
        RevocationEvent::TokenRevoked { jti, expires_at } => {
            row.not_after = Set(Some(*expires_at));
            ("token_revoked", jti.to_string())
        }
        RevocationEvent::UserDisabled { user_id } => ("user_disabled", user_id.to_string()),
        RevocationEvent::UserTokensRevoked {
            user_id,
            valid_after,
        } => {
            row.not_after = Set(Some(*valid_after));
            ("user_tokens_revoked", user_id.to_string())
        }
        RevocationEvent::MembershipChanged {
            user_id,
            company_id,
            role,
        } => {
            row.user_id = Set(Some(*user_id));
            row.company_id = Set(Some(*company_id));
            row.role = Set(role.map(|r| r.as_str().to_owned()));
            ("membership_changed", user_id.to_string())
        }
        RevocationEvent::SigningKeysChanged { kid } => ("signing_keys_changed", kid.clone()),
        RevocationEvent::ClientsChanged { client_id } => ("clients_changed", client_id.clone()),
    };
    row.kind = Set(kind.to_owned());
    row.subject = Set(subject);
    row.insert(db).await?;
    // The doorbell: delivered to every replica's listener when this commits.
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {NOTIFY_CHANNEL}"))
            .await?;
    }
    Ok(())
}

fn decode(row: events::Model) -> Option<RevocationEvent> {
    let subject_uuid = || row.subject.parse::<Uuid>().ok();
    Some(match row.kind.as_str() {
        "key_created" => RevocationEvent::KeyCreated {
            key_id: subject_uuid()?,
            company_id: row.company_id?,
            user_id: row.user_id?,
            expires_at: row.not_after?,
        },
        "key_deleted" => RevocationEvent::KeyDeleted {
            key_id: subject_uuid()?,
        },
        "key_revoked" => RevocationEvent::KeyRevoked {
            key_id: subject_uuid()?,
        },
        "token_revoked" => RevocationEvent::TokenRevoked {
            jti: subject_uuid()?,
            expires_at: row.not_after?,
        },
        "user_disabled" => RevocationEvent::UserDisabled {
            user_id: subject_uuid()?,
        },
        "user_tokens_revoked" => RevocationEvent::UserTokensRevoked {
            user_id: subject_uuid()?,
            valid_after: row.not_after?,
        },
        "membership_changed" => RevocationEvent::MembershipChanged {
            user_id: row.user_id?,
            company_id: row.company_id?,
            role: match row.role {
                Some(role) => Some(role.parse().ok()?),
                None => None,
            },
        },
        "signing_keys_changed" => RevocationEvent::SigningKeysChanged { kid: row.subject },
        "clients_changed" => RevocationEvent::ClientsChanged {
            client_id: row.subject,
        },
        _ => return None,
    })
}

impl Store {
    /// Events after `cursor`, plus the ids in `gaps`: on PostgreSQL a sequence id
    /// can commit after a higher one, so ids skipped over are asked for again.
    pub async fn revocation_events_after(
        &self,
        cursor: i64,
        gaps: &[i64],
        limit: u64,
    ) -> Result<Vec<StoredEvent>, DbErr> {
        let mut condition = Condition::any().add(events::Column::Id.gt(cursor));
        if !gaps.is_empty() {
            condition = condition.add(events::Column::Id.is_in(gaps.iter().copied()));
        }
        let rows = events::Entity::find()
            .filter(condition)
            .order_by_asc(events::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| StoredEvent {
                id: row.id,
                event: decode(row),
            })
            .collect())
    }

    /// The last event appended before `cutoff`, or 0.
    pub async fn last_revocation_event_id_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<i64, DbErr> {
        let last = events::Entity::find()
            .filter(events::Column::CreatedAt.lt(cutoff))
            .order_by_desc(events::Column::Id)
            .one(self.db())
            .await?;
        Ok(last.map_or(0, |row| row.id))
    }

    /// Revoked short-lived tokens that have not yet expired by themselves.
    pub async fn live_revoked_tokens(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Uuid, DateTime<Utc>)>, DbErr> {
        let rows = events::Entity::find()
            .filter(events::Column::Kind.eq("token_revoked"))
            .filter(events::Column::NotAfter.gt(now))
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| Some((row.subject.parse().ok()?, row.not_after?)))
            .collect())
    }
}

/// Appends `TokenRevoked` unless the log already holds it for this `jti`;
/// true if it was appended. Run inside a transaction: on PostgreSQL a lock
/// on the `jti` makes concurrent revocations of one token append it once.
pub async fn append_token_revoked_once(
    db: &impl ConnectionTrait,
    jti: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let (high, _) = jti.as_u64_pair();
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [i64::from_ne_bytes(high.to_ne_bytes()).into()],
        ))
        .await?;
    }
    let logged = events::Entity::find()
        .filter(events::Column::Subject.eq(jti.to_string()))
        .filter(events::Column::Kind.eq("token_revoked"))
        .one(db)
        .await?
        .is_some();
    if logged {
        return Ok(false);
    }
    append(db, RevocationEvent::TokenRevoked { jti, expires_at }).await?;
    Ok(true)
}

impl Store {
    /// Revokes one short-lived token (RFC 7009); false if it already was.
    pub async fn revoke_token(&self, jti: Uuid, expires_at: DateTime<Utc>) -> Result<bool, DbErr> {
        let txn = sea_orm::TransactionTrait::begin(self.db()).await?;
        let appended = append_token_revoked_once(&txn, jti, expires_at).await?;
        txn.commit().await?;
        Ok(appended)
    }

    /// Deletes events appended before `before`, except revocations of tokens
    /// that may still be presented (their `not_after` is after `live_after`).
    /// Nothing is lost: every other event's effect is also in the tables the
    /// start-up snapshot reads.
    pub async fn prune_revocation_events(
        &self,
        before: DateTime<Utc>,
        live_after: DateTime<Utc>,
    ) -> Result<u64, DbErr> {
        let live_revocation = Condition::all()
            .add(events::Column::Kind.eq("token_revoked"))
            .add(events::Column::NotAfter.gt(live_after));
        let pruned = events::Entity::delete_many()
            .filter(events::Column::CreatedAt.lt(before))
            .filter(live_revocation.not())
            .exec(self.db())
            .await?;
        Ok(pruned.rows_affected)
    }
}
