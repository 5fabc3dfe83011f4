//! API keys, for ops.

use anyhow::bail;
use serde_json::json;

use super::output::{print, table};
use super::{connect, ApiKeyCommand, CLI_ACTOR};
use crate::settings::Settings;
use crate::store::api_keys::KeyFilter;
use crate::store::audit::AuditEntry;

pub async fn api_key(
    command: ApiKeyCommand,
    settings: &Settings,
    json: bool,
) -> anyhow::Result<()> {
    let store = connect(settings).await?;
    match command {
        ApiKeyCommand::List { company, user } => {
            let keys = store
                .list_api_keys(KeyFilter {
                    company_id: company,
                    user_id: user,
                })
                .await?;
            let now = chrono::Utc::now();
            let rows: Vec<serde_json::Value> = keys
                .iter()
                .map(|k| {
                    json!({
                        "id": k.id,
                        "company_id": k.company_id,
                        "name": k.name,
                        "created_at": k.created_at,
                        "expires_at": k.expires_at,
                        "last_used_at": k.last_used_at,
                        "created_by": k.user_id,
                        "status": crate::services::api_keys::status(k, now),
                        "revoked_at": k.revoked_at,
                        "revoked_by": k.revoked_by,
                        "revoked_reason": k.revoked_reason,
                    })
                })
                .collect();
            print(json, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        ["id", "company_id", "name", "expires_at", "status"]
                            .iter()
                            .map(|f| r[*f].as_str().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .collect();
                table(&["ID", "COMPANY", "NAME", "EXPIRES", "STATUS"], &cells)
            });
        }
        ApiKeyCommand::Revoke { key_id } => {
            let key = store
                .find_api_key_by_id(key_id)
                .await?
                .filter(|k| k.deleted_at.is_none());
            let Some(key) = key else {
                bail!("no active or expired key with id {key_id}");
            };
            let audit = AuditEntry {
                actor: CLI_ACTOR.to_owned(),
                company_id: Some(key.company_id),
                action: "api_key.deleted",
                target: Some(key_id.to_string()),
                outcome: "success",
                ..Default::default()
            };
            if store.delete_api_key(key_id, None, audit).await?.is_none() {
                bail!("key {key_id} was deleted meanwhile");
            }
            print(json, &json!({ "id": key_id, "revoked": true }), || {
                format!("Key {key_id} revoked.")
            });
        }
    }
    Ok(())
}
