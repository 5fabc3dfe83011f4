//! Reading the audit log, for ops.

use entity::audit_events;
use sea_orm::DbErr;

use crate::store::Store;

/// At most this many events are read at once.
const MAX_EVENTS: u64 = 10_000;

pub struct AuditLog {
    store: Store,
}

impl AuditLog {
    pub fn new(store: Store) -> Self {
        AuditLog { store }
    }

    /// The most recent events, newest first.
    pub async fn recent(&self, limit: u64) -> Result<Vec<audit_events::Model>, DbErr> {
        self.store.recent_audit_events(limit.min(MAX_EVENTS)).await
    }
}
