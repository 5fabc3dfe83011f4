//! Service clients: the callers of introspection.

use anyhow::bail;
use serde_json::json;

use super::output::{print, table};
use super::{cli_actor, connect, ClientCommand};
use crate::services::{EventSink, ServiceClients};
use crate::settings::Settings;

pub async fn client(command: ClientCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let clients = ServiceClients::new(connect(settings).await?, EventSink::log_only());
    match command {
        ClientCommand::Create { name, provisioning } => {
            let created = clients
                .create(&name, provisioning, &cli_actor())
                .await
                .map_err(|e| match e {
                    crate::services::clients::CreateClientError::InvalidName => {
                        anyhow::anyhow!(
                            "invalid --name: 1 to 100 characters, no control characters"
                        )
                    }
                    other => other.into(),
                })?;
            print(json, &created, || {
                format!(
                    "client_id:     {}\nclient_secret: {}\nThe secret is shown only now.",
                    created.client_id, created.client_secret
                )
            });
        }
        ClientCommand::List => {
            let rows = clients.list().await?;
            print(json, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|c| {
                        let status = if c.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        vec![
                            c.client_id.clone(),
                            c.name.clone(),
                            c.created_at.to_rfc3339(),
                            status.to_owned(),
                        ]
                    })
                    .collect();
                table(&["CLIENT_ID", "NAME", "CREATED", "STATUS"], &cells)
            });
        }
        ClientCommand::Revoke { client_id } => {
            if !clients.revoke(&client_id, &cli_actor()).await? {
                bail!("no active client with id {client_id}");
            }
            print(
                json,
                &json!({ "client_id": client_id, "revoked": true }),
                || format!("Client {client_id} revoked."),
            );
        }
    }
    Ok(())
}
