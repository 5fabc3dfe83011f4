//! Service clients: the callers of introspection. Only a SHA-256 of each
//! secret is stored; the secret is shown once, at creation.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde::Serialize;
use uuid::Uuid;

use super::events::EventSink;
use crate::store::audit::Actor;
use crate::store::Store;
use crate::tokens::{random_secret, sha256_hex};

/// A client just created, with the only copy of its secret.
#[derive(Serialize)]
pub struct NewClient {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub provisioning: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateClientError {
    #[error("invalid name: 1 to 100 characters, no control characters")]
    InvalidName,
    #[error(transparent)]
    Db(#[from] DbErr),
}

#[derive(Clone)]
pub struct ServiceClients {
    store: Store,
    events: EventSink,
}

impl ServiceClients {
    pub fn new(store: Store, events: EventSink) -> Self {
        ServiceClients { store, events }
    }

    /// A client that may call introspection, and with `provisioning` the
    /// provisioning API too.
    pub async fn create(
        &self,
        name: &str,
        provisioning: bool,
        actor: &Actor,
    ) -> Result<NewClient, CreateClientError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(CreateClientError::InvalidName);
        }
        let client_id = Uuid::now_v7().to_string();
        let secret = random_secret();
        let created = self
            .store
            .create_service_client(
                client_id.clone(),
                sha256_hex(&secret),
                name.to_owned(),
                provisioning,
                actor,
            )
            .await?;
        self.events.put_in_force(created.events).await;
        Ok(NewClient {
            client_id,
            client_secret: secret,
        })
    }

    /// Every client, oldest first, revoked ones included.
    pub async fn list(&self) -> Result<Vec<ClientView>, DbErr> {
        let clients = self.store.service_clients().await?;
        Ok(clients
            .into_iter()
            .map(|c| ClientView {
                client_id: c.client_id,
                name: c.name,
                created_at: c.created_at,
                revoked_at: c.revoked_at,
                provisioning: c.provisioning,
            })
            .collect())
    }

    /// Its introspection calls are refused at once. False if there is no
    /// such client or it was already revoked.
    pub async fn revoke(&self, client_id: &str, actor: &Actor) -> Result<bool, DbErr> {
        let events = self.store.revoke_service_client(client_id, actor).await?;
        if events.is_empty() {
            return Ok(false);
        }
        self.events.put_in_force(events).await;
        Ok(true)
    }
}
