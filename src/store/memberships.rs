//! Memberships: who belongs to which company, with which role.

use entity::{companies, memberships};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use super::api_keys::{revoke_keys, KeysOf, RevocationReason};
use super::audit::{self, Actor, AuditEntry};
use super::revocation_events;
use super::Store;
use crate::domain::{AccessEvent, Role};

#[derive(Debug, thiserror::Error)]
pub enum AddMemberError {
    #[error("no such user")]
    UnknownUser,
    #[error("no such company")]
    UnknownCompany,
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub struct CompanyMembership {
    pub company: companies::Model,
    pub role: String,
}

impl Store {
    /// Adds the user to the company, or changes their role there.
    pub async fn add_member(
        &self,
        user_id: Uuid,
        company_id: Uuid,
        role: Role,
        actor: &Actor,
    ) -> Result<Vec<AccessEvent>, AddMemberError> {
        if self.find_user(user_id).await?.is_none() {
            return Err(AddMemberError::UnknownUser);
        }
        if self.find_company(company_id).await?.is_none() {
            return Err(AddMemberError::UnknownCompany);
        }
        let txn = self.db().begin().await?;
        let now = self.now();
        memberships::Entity::insert(memberships::ActiveModel {
            user_id: Set(user_id),
            company_id: Set(company_id),
            role: Set(role.as_str().to_owned()),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([memberships::Column::UserId, memberships::Column::CompanyId])
                .update_column(memberships::Column::Role)
                .to_owned(),
        )
        .exec(&txn)
        .await?;
        let event = AccessEvent::MembershipChanged {
            user_id,
            company_id,
            role: Some(role),
        };
        let events = vec![revocation_events::append(&txn, event, now).await?];
        let audit_entry = AuditEntry {
            details: Some(serde_json::json!({ "role": role.as_str() })),
            ..actor.entry("member.added", Some(company_id), user_id)
        };
        audit::record(&txn, audit_entry, now).await?;
        txn.commit().await?;
        Ok(events)
    }

    pub async fn memberships_of_user(
        &self,
        user_id: Uuid,
    ) -> Result<Vec<CompanyMembership>, DbErr> {
        let memberships = memberships::Entity::find()
            .filter(memberships::Column::UserId.eq(user_id))
            .all(self.db())
            .await?;
        let ids: Vec<Uuid> = memberships.iter().map(|m| m.company_id).collect();
        let companies = companies::Entity::find()
            .filter(companies::Column::Id.is_in(ids))
            .all(self.db())
            .await?;
        let mut result: Vec<CompanyMembership> = memberships
            .into_iter()
            .filter_map(|m| {
                let company = companies.iter().find(|c| c.id == m.company_id)?.clone();
                Some(CompanyMembership {
                    company,
                    role: m.role,
                })
            })
            .collect();
        result.sort_by(|a, b| a.company.name.cmp(&b.company.name));
        Ok(result)
    }
}

impl Store {
    pub async fn all_memberships(&self) -> Result<Vec<(Uuid, Uuid, Role)>, DbErr> {
        let rows = memberships::Entity::find().all(self.db()).await?;
        Ok(rows
            .into_iter()
            .filter_map(|m| Some((m.user_id, m.company_id, m.role.parse().ok()?)))
            .collect())
    }
}

impl Store {
    /// Removes the user from the company and ends their keys there for
    /// good, in one transaction with its events and audit row. No events if
    /// they were not a member.
    pub async fn remove_member(
        &self,
        user_id: Uuid,
        company_id: Uuid,
        actor: &Actor,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let removed = memberships::Entity::delete_by_id((user_id, company_id))
            .exec(&txn)
            .await?;
        if removed.rows_affected != 1 {
            return Ok(Vec::new());
        }
        let now = self.now();
        let event = AccessEvent::MembershipChanged {
            user_id,
            company_id,
            role: None,
        };
        let mut events = vec![revocation_events::append(&txn, event, now).await?];
        let keys = KeysOf {
            user_id,
            company_id: Some(company_id),
        };
        let reason = RevocationReason::MemberRemoved;
        let revoked = revoke_keys(&txn, keys, &actor.name, reason, now, &mut events).await?;
        let audit_entry = AuditEntry {
            details: Some(serde_json::json!({ "revoked_api_keys": revoked })),
            ..actor.entry("member.removed", Some(company_id), user_id)
        };
        audit::record(&txn, audit_entry, now).await?;
        txn.commit().await?;
        Ok(events)
    }
}
