//! The callers of introspection. Only a SHA-256 of each secret is stored.

use entity::service_clients;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::audit::{self, Actor, AuditEntry};
use super::revocation_events;
use super::{Committed, Store};
use crate::domain::AccessEvent;

impl Store {
    pub async fn create_service_client(
        &self,
        client_id: String,
        secret_hash: String,
        name: String,
        provisioning: bool,
        actor: &Actor,
    ) -> Result<Committed<service_clients::Model>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let client = service_clients::ActiveModel {
            client_id: Set(client_id.clone()),
            secret_hash: Set(secret_hash),
            name: Set(name),
            created_at: Set(now),
            revoked_at: Set(None),
            provisioning: Set(provisioning),
        }
        .insert(&txn)
        .await?;
        let entry = AuditEntry {
            details: Some(serde_json::json!({ "name": client.name, "provisioning": provisioning })),
            ..actor.entry("client.created", None, &client_id)
        };
        audit::record(&txn, entry, now).await?;
        let event = AccessEvent::ClientsChanged { client_id };
        let events = vec![revocation_events::append(&txn, event, now).await?];
        txn.commit().await?;
        Ok(Committed {
            value: client,
            events,
        })
    }

    pub async fn service_clients(&self) -> Result<Vec<service_clients::Model>, DbErr> {
        service_clients::Entity::find()
            .order_by_asc(service_clients::Column::CreatedAt)
            .all(self.db())
            .await
    }

    /// Clients that may call introspection: (client_id, secret_hash).
    pub async fn active_service_clients(&self) -> Result<Vec<(String, String)>, DbErr> {
        let clients = service_clients::Entity::find()
            .filter(service_clients::Column::RevokedAt.is_null())
            .all(self.db())
            .await?;
        Ok(clients
            .into_iter()
            .map(|c| (c.client_id, c.secret_hash))
            .collect())
    }

    /// No events if there is no such client or it was already revoked.
    /// A client that is not revoked, by id.
    pub async fn find_active_service_client(
        &self,
        client_id: &str,
    ) -> Result<Option<service_clients::Model>, DbErr> {
        service_clients::Entity::find_by_id(client_id.to_owned())
            .filter(service_clients::Column::RevokedAt.is_null())
            .one(self.db())
            .await
    }

    pub async fn revoke_service_client(
        &self,
        client_id: &str,
        actor: &Actor,
    ) -> Result<Vec<AccessEvent>, DbErr> {
        let txn = self.db().begin().await?;
        let now = self.now();
        let revoked = service_clients::Entity::update_many()
            .col_expr(service_clients::Column::RevokedAt, Expr::value(now))
            .filter(service_clients::Column::ClientId.eq(client_id))
            .filter(service_clients::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if revoked.rows_affected != 1 {
            return Ok(Vec::new());
        }
        audit::record(&txn, actor.entry("client.revoked", None, client_id), now).await?;
        let event = AccessEvent::ClientsChanged {
            client_id: client_id.to_owned(),
        };
        let events = vec![revocation_events::append(&txn, event, now).await?];
        txn.commit().await?;
        Ok(events)
    }
}
