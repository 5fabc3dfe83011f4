//! The append-only log every replica follows to keep its access state: how
//! an `AccessEvent` is written to `revocation_events` and read back.

use chrono::{DateTime, Utc};
use entity::revocation_events as events;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use super::audit::AuditEntry;
use super::Store;
use crate::domain::AccessEvent;

pub struct StoredEvent {
    pub id: i64,
    pub event: Option<AccessEvent>,
}

/// See `Store::transaction_horizon`.
#[derive(Clone, Copy, Debug)]
pub struct TransactionHorizon {
    pub oldest_running: i64,
    pub next: i64,
}

/// The PostgreSQL channel that rings when an event is appended.
pub const NOTIFY_CHANNEL: &str = "latchkey_revocation";

/// Appends `event` in the caller's transaction and hands it back, so the
/// write can return every event it appended.
pub async fn append(
    db: &impl ConnectionTrait,
    event: AccessEvent,
    now: DateTime<Utc>,
) -> Result<AccessEvent, DbErr> {
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    if postgres {
        // The transaction gets its id before it takes the event's id, so a
        // follower that sees the event's id skipped can tell, from the
        // transactions still running, whether it may yet commit
        // (`Store::transaction_horizon`).
        db.execute_unprepared("SELECT txid_current()").await?;
    }
    encode(&event, now).insert(db).await?;
    // The doorbell: delivered to every replica's listener when this commits.
    if postgres {
        db.execute_unprepared(&format!("NOTIFY {NOTIFY_CHANNEL}"))
            .await?;
    }
    Ok(event)
}

/// The row for an event: its kind, the id it is about (`subject`), and the
/// columns its kind needs.
fn encode(event: &AccessEvent, now: DateTime<Utc>) -> events::ActiveModel {
    let mut row = events::ActiveModel {
        created_at: Set(now),
        user_id: Set(None),
        company_id: Set(None),
        role: Set(None),
        not_after: Set(None),
        token_digest: Set(None),
        scopes: Set(None),
        ..Default::default()
    };
    let (kind, subject) = match event {
        AccessEvent::KeyCreated {
            key_id,
            company_id,
            user_id,
            expires_at,
            digest,
            scopes,
        } => {
            row.company_id = Set(Some(*company_id));
            row.user_id = Set(Some(*user_id));
            row.not_after = Set(Some(*expires_at));
            row.token_digest = Set(digest.map(|d| d.to_vec()));
            row.scopes = Set(scopes.clone());
            ("key_created", key_id.to_string())
        }
        AccessEvent::KeyDeleted { key_id } => ("key_deleted", key_id.to_string()),
        AccessEvent::KeyRevoked { key_id } => ("key_revoked", key_id.to_string()),
        AccessEvent::TokenRevoked { jti, expires_at } => {
            row.not_after = Set(Some(*expires_at));
            ("token_revoked", jti.to_string())
        }
        AccessEvent::UserDisabled { user_id } => ("user_disabled", user_id.to_string()),
        AccessEvent::UserTokensRevoked {
            user_id,
            valid_after,
        } => {
            row.not_after = Set(Some(*valid_after));
            ("user_tokens_revoked", user_id.to_string())
        }
        AccessEvent::MembershipChanged {
            user_id,
            company_id,
            role,
        } => {
            row.user_id = Set(Some(*user_id));
            row.company_id = Set(Some(*company_id));
            row.role = Set(role.map(|r| r.as_str().to_owned()));
            ("membership_changed", user_id.to_string())
        }
        AccessEvent::SigningKeysChanged { kid } => ("signing_keys_changed", kid.clone()),
        AccessEvent::ClientsChanged { client_id } => ("clients_changed", client_id.clone()),
    };
    row.kind = Set(kind.to_owned());
    row.subject = Set(subject);
    row
}

/// The event a row holds; None for a kind this version does not know, or a
/// row missing what its kind needs.
fn decode(row: events::Model) -> Option<AccessEvent> {
    let subject_uuid = || row.subject.parse::<Uuid>().ok();
    Some(match row.kind.as_str() {
        "key_created" => AccessEvent::KeyCreated {
            key_id: subject_uuid()?,
            company_id: row.company_id?,
            user_id: row.user_id?,
            expires_at: row.not_after?,
            // Rows from before digests were kept have none: the key is then
            // checked by signature. A digest of the wrong size is no digest.
            digest: row
                .token_digest
                .as_deref()
                .and_then(|d| <[u8; 32]>::try_from(d).ok()),
            scopes: row.scopes.clone(),
        },
        "key_deleted" => AccessEvent::KeyDeleted {
            key_id: subject_uuid()?,
        },
        "key_revoked" => AccessEvent::KeyRevoked {
            key_id: subject_uuid()?,
        },
        "token_revoked" => AccessEvent::TokenRevoked {
            jti: subject_uuid()?,
            expires_at: row.not_after?,
        },
        "user_disabled" => AccessEvent::UserDisabled {
            user_id: subject_uuid()?,
        },
        "user_tokens_revoked" => AccessEvent::UserTokensRevoked {
            user_id: subject_uuid()?,
            valid_after: row.not_after?,
        },
        "membership_changed" => AccessEvent::MembershipChanged {
            user_id: row.user_id?,
            company_id: row.company_id?,
            role: match row.role {
                Some(role) => Some(role.parse().ok()?),
                None => None,
            },
        },
        "signing_keys_changed" => AccessEvent::SigningKeysChanged { kid: row.subject },
        "clients_changed" => AccessEvent::ClientsChanged {
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

    /// On PostgreSQL, the transaction ids around the running ones: the
    /// oldest writing transaction still running in this database (every
    /// one before it has ended) and the next id to be given out. An event
    /// id skipped while `next` was X can no longer commit once
    /// `oldest_running` reaches X. None on SQLite, whose single writer
    /// commits ids in order.
    ///
    /// Only this database's transactions count: a long job in another
    /// database on the same server holds no event id, and must not keep a
    /// gap open. A running transaction's id can be above the snapshot's
    /// `xmax` (which is only one past the newest *ended* one), so `next`
    /// is past both. `backend_xid` is 32 bits: it is widened to the epoch
    /// nearest `xmax`.
    pub async fn transaction_horizon(&self) -> Result<Option<TransactionHorizon>, DbErr> {
        if self.db().get_database_backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let row = self
            .db()
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "WITH h AS (SELECT txid_snapshot_xmax(txid_current_snapshot())::int8 AS xmax), \
                 running AS ( \
                     SELECT h.xmax + CASE WHEN x.d >= 2147483648 THEN x.d - 4294967296 ELSE x.d END AS xid \
                     FROM h, LATERAL ( \
                         SELECT (a.backend_xid::text::int8 - h.xmax % 4294967296 + 4294967296) % 4294967296 AS d \
                         FROM pg_stat_activity a \
                         WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL) x), \
                 horizon AS (SELECT GREATEST(h.xmax, (SELECT max(xid) + 1 FROM running)) AS next FROM h) \
                 SELECT horizon.next AS next, COALESCE((SELECT min(xid) FROM running), horizon.next) AS oldest FROM horizon",
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("the transaction horizon query returned no row".into()))?;
        Ok(Some(TransactionHorizon {
            oldest_running: row.try_get("", "oldest")?,
            next: row.try_get("", "next")?,
        }))
    }

    /// The id of the newest event in the log; 0 when it is empty.
    pub async fn latest_revocation_event_id(&self) -> Result<i64, DbErr> {
        let last = events::Entity::find()
            .order_by_desc(events::Column::Id)
            .one(self.db())
            .await?;
        Ok(last.map_or(0, |row| row.id))
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
/// returns it if it was appended. Run inside a transaction: on PostgreSQL a
/// lock on the `jti` makes concurrent revocations of one token append it once.
pub async fn append_token_revoked_once(
    db: &impl ConnectionTrait,
    jti: Uuid,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<AccessEvent>, DbErr> {
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
        return Ok(None);
    }
    let event = AccessEvent::TokenRevoked { jti, expires_at };
    append(db, event, now).await.map(Some)
}

impl Store {
    /// Revokes one short-lived token (RFC 7009). No event if it already was.
    pub async fn revoke_token(
        &self,
        jti: Uuid,
        expires_at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = sea_orm::TransactionTrait::begin(self.db()).await?;
        let now = self.now();
        let appended = append_token_revoked_once(&txn, jti, expires_at, now).await?;
        // Audited only when it revoked something: a repeat writes nothing.
        if appended.is_some() {
            super::audit::record(&txn, audit, now).await?;
        }
        txn.commit().await?;
        Ok(appended.into_iter().collect())
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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use entity::revocation_events as events;
    use uuid::Uuid;

    use super::{decode, encode};
    use crate::domain::{AccessEvent, Role};

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    /// The row `encode` would insert, as the database hands it back.
    fn stored(event: &AccessEvent) -> events::Model {
        let row = encode(event, at("2026-01-01T00:00:00Z"));
        events::Model {
            id: 1,
            kind: row.kind.unwrap(),
            subject: row.subject.unwrap(),
            user_id: row.user_id.unwrap(),
            company_id: row.company_id.unwrap(),
            role: row.role.unwrap(),
            not_after: row.not_after.unwrap(),
            token_digest: row.token_digest.unwrap(),
            scopes: row.scopes.unwrap(),
            created_at: row.created_at.unwrap(),
        }
    }

    #[test]
    fn every_event_reads_back_as_it_was_written() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let when = at("2027-03-04T05:06:07Z");
        let events = [
            AccessEvent::KeyCreated {
                key_id: a,
                company_id: b,
                user_id: c,
                expires_at: when,
                digest: None,
                scopes: None,
            },
            AccessEvent::KeyCreated {
                key_id: b,
                company_id: b,
                user_id: c,
                expires_at: when,
                digest: Some([7; 32]),
                scopes: Some("keys:read keys:write".to_owned()),
            },
            AccessEvent::KeyDeleted { key_id: a },
            AccessEvent::KeyRevoked { key_id: a },
            AccessEvent::TokenRevoked {
                jti: a,
                expires_at: when,
            },
            AccessEvent::UserDisabled { user_id: c },
            AccessEvent::UserTokensRevoked {
                user_id: c,
                valid_after: when,
            },
            AccessEvent::MembershipChanged {
                user_id: c,
                company_id: b,
                role: Some(Role::Admin),
            },
            AccessEvent::MembershipChanged {
                user_id: c,
                company_id: b,
                role: None,
            },
            AccessEvent::SigningKeysChanged {
                kid: "kid-1".to_owned(),
            },
            AccessEvent::ClientsChanged {
                client_id: "client-1".to_owned(),
            },
        ];
        for event in events {
            assert_eq!(decode(stored(&event)), Some(event.clone()), "{event:?}");
        }
    }

    #[test]
    fn the_row_names_its_kind_and_subject() {
        let key_id = Uuid::now_v7();
        let row = stored(&AccessEvent::KeyDeleted { key_id });
        assert_eq!(row.kind, "key_deleted");
        assert_eq!(row.subject, key_id.to_string());
        assert_eq!(row.created_at, at("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn an_unknown_kind_or_an_incomplete_row_is_skipped_not_misread() {
        let key_id = Uuid::now_v7();
        let mut unknown = stored(&AccessEvent::KeyDeleted { key_id });
        unknown.kind = "key_renamed".to_owned();
        assert_eq!(decode(unknown), None);

        let mut incomplete = stored(&AccessEvent::KeyCreated {
            key_id,
            company_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            expires_at: at("2027-01-01T00:00:00Z"),
            digest: None,
            scopes: None,
        });
        incomplete.not_after = None;
        assert_eq!(decode(incomplete), None);

        let mut bad_subject = stored(&AccessEvent::KeyDeleted { key_id });
        bad_subject.subject = "not-a-uuid".to_owned();
        assert_eq!(decode(bad_subject), None);

        let mut bad_role = stored(&AccessEvent::MembershipChanged {
            user_id: key_id,
            company_id: key_id,
            role: Some(Role::Owner),
        });
        bad_role.role = Some("emperor".to_owned());
        assert_eq!(decode(bad_role), None);
    }
}
