//! Service clients: the callers of introspection.

use anyhow::bail;
use serde_json::json;
use uuid::Uuid;

use super::output::{print, table};
use super::{connect, ClientCommand};
use crate::settings::Settings;
use crate::tokens::{random_secret, sha256_hex};

pub async fn client(command: ClientCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let store = connect(settings).await?;
    match command {
        ClientCommand::Create { name } => {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                bail!("invalid --name: 1 to 100 characters, no control characters");
            }
            let client_id = Uuid::now_v7().to_string();
            let secret = random_secret();
            store
                .create_service_client(client_id.clone(), sha256_hex(&secret), name)
                .await?;
            let out = json!({ "client_id": client_id, "client_secret": secret });
            print(json, &out, || {
                format!("client_id:     {client_id}\nclient_secret: {secret}\nThe secret is shown only now.")
            });
        }
        ClientCommand::List => {
            let clients = store.service_clients().await?;
            let rows: Vec<serde_json::Value> = clients
                .iter()
                .map(|c| {
                    json!({
                        "client_id": c.client_id,
                        "name": c.name,
                        "created_at": c.created_at,
                        "revoked_at": c.revoked_at,
                    })
                })
                .collect();
            print(json, &rows, || {
                let cells: Vec<Vec<String>> = clients
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
            if !store.revoke_service_client(&client_id).await? {
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
