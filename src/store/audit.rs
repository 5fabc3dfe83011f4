use chrono::{DateTime, Utc};
use entity::audit_events;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect, Set,
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
        audit_events::Entity::find()
            .order_by_desc(audit_events::Column::Id)
            .limit(limit)
            .all(self.db())
            .await
    }
}
