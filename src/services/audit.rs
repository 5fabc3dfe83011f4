//! Reading the audit log: for the admin API and `latchkey audit list`,
//! with the same filters and cursor.

use chrono::{DateTime, Utc};
use entity::audit_events;
use sea_orm::DbErr;
use serde::Serialize;
use uuid::Uuid;

use crate::store::audit::AuditFilter;
use crate::store::Store;

/// At most this many events are read at once.
pub const MAX_EVENTS: u64 = 1_000;

pub struct AuditLog {
    store: Store,
}

/// One audit event as shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEventView {
    /// Increasing; the cursor of a page is the id of its last event.
    pub id: i64,
    pub at: DateTime<Utc>,
    /// A user id, `client:<client_id>`, `cli:<os user>` or `anonymous`.
    pub actor: String,
    pub company_id: Option<Uuid>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// `success`, `failure`, `throttled`, `denied`.
    pub outcome: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// A page of events, newest first, and the cursor of the next page (none
/// once the last page is read).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub results: Vec<AuditEventView>,
    pub next_cursor: Option<String>,
}

impl AuditLog {
    pub fn new(store: Store) -> Self {
        AuditLog { store }
    }

    /// The events matching `filter` (its limit capped at `MAX_EVENTS`).
    pub async fn page(&self, mut filter: AuditFilter) -> Result<AuditPage, DbErr> {
        filter.limit = filter.limit.clamp(1, MAX_EVENTS);
        let limit = filter.limit;
        let events = self.store.audit_events(filter).await?;
        let next_cursor = (events.len() as u64 == limit)
            .then(|| events.last().map(|e| e.id.to_string()))
            .flatten();
        Ok(AuditPage {
            results: events.into_iter().map(view).collect(),
            next_cursor,
        })
    }
}

fn view(e: audit_events::Model) -> AuditEventView {
    AuditEventView {
        id: e.id,
        at: e.at,
        actor: e.actor,
        company_id: e.company_id,
        action: e.action,
        target: e.target,
        ip: e.ip,
        user_agent: e.user_agent,
        outcome: e.outcome,
        details: e.details,
    }
}
