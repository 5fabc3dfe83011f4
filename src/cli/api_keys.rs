//! API keys, for ops.

use std::sync::Arc;

use anyhow::bail;
use serde_json::json;

use super::output::{print, table};
use super::{cli_actor, connect, ApiKeyCommand};
use crate::services::{ApiKeyAdmin, EventSink};
use crate::settings::Settings;
use crate::store::api_keys::KeyFilter;
use crate::usage::KeyUsage;

pub async fn api_key(
    command: ApiKeyCommand,
    settings: &Settings,
    json: bool,
) -> anyhow::Result<()> {
    let store = connect(settings).await?;
    let clock = store.clock().clone();
    // No uses are pending here: the CLI serves no requests.
    let usage = Arc::new(KeyUsage::new(clock.clone()));
    let keys = ApiKeyAdmin::new(store, EventSink::log_only(), usage, clock);
    match command {
        ApiKeyCommand::List { company, user } => {
            let filter = KeyFilter {
                company_id: company,
                user_id: user,
            };
            let rows = keys.list(filter).await?;
            print(json, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|k| {
                        vec![
                            k.id.to_string(),
                            k.company_id.to_string(),
                            k.name.clone(),
                            k.expires_at.to_rfc3339(),
                            k.status.as_str().to_owned(),
                            k.scopes
                                .as_ref()
                                .map_or_else(|| "all".to_owned(), |s| s.join(" ")),
                        ]
                    })
                    .collect();
                table(
                    &["ID", "COMPANY", "NAME", "EXPIRES", "STATUS", "SCOPES"],
                    &cells,
                )
            });
        }
        ApiKeyCommand::Revoke { key_id } => {
            if !keys.delete_any(key_id, &cli_actor()).await? {
                bail!("no active or expired key with id {key_id}");
            }
            print(json, &json!({ "id": key_id, "revoked": true }), || {
                format!("Key {key_id} revoked.")
            });
        }
    }
    Ok(())
}
