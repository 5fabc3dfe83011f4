use chrono::{DateTime, Utc};
use entity::audit_events;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::Store;

/// Who did what, from where. Recorded for every security-relevant action.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub actor: String,
    pub company_id: Option<Uuid>,
    pub action: &'static str,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: &'static str,
    pub details: Option<serde_json::Value>,
}

/// Who acts, from where: the actor of every audit row a write records.
/// `name` is a user id, `client:<client_id>` or `cli:<os user>`.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub name: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    /// An actor known by name only, with no request behind it.
    pub fn named(name: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The audit row of a successful `action` on `target`.
    pub fn entry(
        &self,
        action: &'static str,
        company_id: Option<Uuid>,
        target: impl ToString,
    ) -> AuditEntry {
        AuditEntry {
            actor: self.name.clone(),
            company_id,
            action,
            target: Some(target.to_string()),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            outcome: "success",
            details: None,
        }
    }
}

/// Which audit events to read: every filter given must match. Newest
/// first; `before` is the cursor (the id of the last event already read).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub company_id: Option<Uuid>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before: Option<i64>,
    pub limit: u64,
}

/// Records an entry on `db`, which may be the transaction of the audited write.
pub async fn record(
    db: &impl ConnectionTrait,
    entry: AuditEntry,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit_events::ActiveModel {
        at: Set(at),
        actor: Set(entry.actor),
        company_id: Set(entry.company_id),
        action: Set(entry.action.to_owned()),
        target: Set(entry.target),
        ip: Set(entry.ip),
        user_agent: Set(entry.user_agent),
        outcome: Set(entry.outcome.to_owned()),
        details: Set(entry.details),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

impl Store {
    pub async fn record_audit(&self, entry: AuditEntry) -> Result<(), DbErr> {
        record(self.db(), entry, self.now()).await
    }

    pub async fn recent_audit_events(&self, limit: u64) -> Result<Vec<audit_events::Model>, DbErr> {
        let filter = AuditFilter {
            limit,
            ..Default::default()
        };
        self.audit_events(filter).await
    }

    /// Events matching `filter`, newest first.
    pub async fn audit_events(
        &self,
        filter: AuditFilter,
    ) -> Result<Vec<audit_events::Model>, DbErr> {
        use audit_events::Column;
        let mut query = audit_events::Entity::find();
        if let Some(actor) = filter.actor {
            query = query.filter(Column::Actor.eq(actor));
        }
        if let Some(company_id) = filter.company_id {
            query = query.filter(Column::CompanyId.eq(company_id));
        }
        if let Some(action) = filter.action {
            query = query.filter(Column::Action.eq(action));
        }
        if let Some(since) = filter.since {
            query = query.filter(Column::At.gte(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(Column::At.lt(until));
        }
        if let Some(before) = filter.before {
            query = query.filter(Column::Id.lt(before));
        }
        query
            .order_by_desc(Column::Id)
            .limit(filter.limit)
            .all(self.db())
            .await
    }
}
