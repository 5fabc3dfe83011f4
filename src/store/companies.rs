use entity::companies;
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, QueryOrder, Set, TransactionTrait};
use uuid::Uuid;

use super::audit::{self, Actor, AuditEntry};
use super::idempotency::{self, Creation, IdempotencyError, IdempotencyKey};
use super::Store;
use crate::domain::{CompanyName, Plan};

impl Store {
    pub async fn create_company(
        &self,
        name: &CompanyName,
        plan: &Plan,
    ) -> Result<companies::Model, DbErr> {
        companies::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name.as_str().to_owned()),
            plan: Set(plan.as_str().to_owned()),
            created_at: Set(self.now()),
        }
        .insert(self.db())
        .await
    }

    /// Creates a company with its audit row, once per idempotency key.
    pub async fn provision_company(
        &self,
        name: &CompanyName,
        plan: &Plan,
        actor: &Actor,
        key: Option<&IdempotencyKey>,
    ) -> Result<Creation<companies::Model>, IdempotencyError> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let id = self.clock().new_v7();
        if let Some(key) = key {
            if !idempotency::claim(&txn, key, id.to_string(), now).await? {
                drop(txn);
                return self.replay(key).await;
            }
        }
        let company = companies::ActiveModel {
            id: Set(id),
            name: Set(name.as_str().to_owned()),
            plan: Set(plan.as_str().to_owned()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let entry = AuditEntry {
            details: Some(serde_json::json!({ "name": company.name, "plan": company.plan })),
            ..actor.entry("company.created", Some(id), id)
        };
        audit::record(&txn, entry, now).await?;
        txn.commit().await?;
        Ok(Creation::Created(company))
    }

    pub async fn find_company(&self, id: Uuid) -> Result<Option<companies::Model>, DbErr> {
        companies::Entity::find_by_id(id).one(self.db()).await
    }

    /// Every company, oldest first.
    pub async fn companies(&self) -> Result<Vec<companies::Model>, DbErr> {
        companies::Entity::find()
            .order_by_asc(companies::Column::CreatedAt)
            .order_by_asc(companies::Column::Id)
            .all(self.db())
            .await
    }

    /// Changes the plan, with an audit row naming both plans. `None` if
    /// there is no such company.
    pub async fn set_company_plan(
        &self,
        id: Uuid,
        plan: &Plan,
        actor: &Actor,
    ) -> Result<Option<companies::Model>, DbErr> {
        let txn = self.db().begin().await?;
        let Some(company) = companies::Entity::find_by_id(id).one(&txn).await? else {
            return Ok(None);
        };
        let from = company.plan.clone();
        let mut active: companies::ActiveModel = company.into();
        active.plan = Set(plan.as_str().to_owned());
        let company = active.update(&txn).await?;
        let entry = AuditEntry {
            details: Some(serde_json::json!({ "from": from, "to": plan.as_str() })),
            ..actor.entry("company.plan_changed", Some(id), id)
        };
        audit::record(&txn, entry, self.now()).await?;
        txn.commit().await?;
        Ok(Some(company))
    }
}
