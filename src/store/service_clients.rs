//! The callers of introspection. Only a SHA-256 of each secret is stored.

use chrono::Utc;
use entity::service_clients;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use super::revocation_events::{self, RevocationEvent};
use super::Store;

impl Store {
    pub async fn create_service_client(
        &self,
        client_id: String,
        secret_hash: String,
        name: String,
    ) -> Result<service_clients::Model, DbErr> {
        let txn = self.db().begin().await?;
        let client = service_clients::ActiveModel {
            client_id: Set(client_id.clone()),
            secret_hash: Set(secret_hash),
            name: Set(name),
            created_at: Set(Utc::now()),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await?;
        revocation_events::append(&txn, RevocationEvent::ClientsChanged { client_id }).await?;
        txn.commit().await?;
        Ok(client)
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

    /// False if no such client or it was already revoked.
    pub async fn revoke_service_client(&self, client_id: &str) -> Result<bool, DbErr> {
        let txn = self.db().begin().await?;
        let revoked = service_clients::Entity::update_many()
            .col_expr(service_clients::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(service_clients::Column::ClientId.eq(client_id))
            .filter(service_clients::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
        if revoked.rows_affected != 1 {
            return Ok(false);
        }
        let event = RevocationEvent::ClientsChanged {
            client_id: client_id.to_owned(),
        };
        revocation_events::append(&txn, event).await?;
        txn.commit().await?;
        Ok(true)
    }
}
