//! Signing keys: rotation and listing.

use chrono::Utc;
use serde_json::json;

use super::output::{print, table};
use super::{connect, SigningKeyCommand};
use crate::settings::Settings;
use crate::startup::verify_grace;
use crate::tokens::{KeyRing, MasterKey};

pub async fn signing_key(
    command: SigningKeyCommand,
    settings: &Settings,
    json: bool,
) -> anyhow::Result<()> {
    let store = connect(settings).await?;
    match command {
        SigningKeyCommand::Rotate => {
            crate::tokens::crypto_provider::install();
            let master = MasterKey::load_or_create(&settings.secrets)?;
            let keys = KeyRing::load(&store, master, verify_grace(settings)).await?;
            let kid = keys.rotate(&store).await?;
            print(json, &json!({ "kid": kid, "active": true }), || {
                format!("Key {kid} now signs new tokens; running servers pick it up from the revocation log.")
            });
        }
        SigningKeyCommand::List => {
            let now = Utc::now();
            let grace = verify_grace(settings);
            let rows: Vec<serde_json::Value> = store
                .signing_keys()
                .await?
                .iter()
                .map(|k| {
                    let status = match k.retired_at {
                        None => "active",
                        Some(at) if at + grace > now => "retired",
                        Some(_) => "expired",
                    };
                    json!({
                        "kid": k.kid,
                        "algorithm": k.algorithm,
                        "created_at": k.created_at,
                        "retired_at": k.retired_at,
                        "status": status,
                    })
                })
                .collect();
            print(json, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        ["kid", "algorithm", "created_at", "status"]
                            .iter()
                            .map(|f| r[*f].as_str().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .collect();
                table(&["KID", "ALG", "CREATED", "STATUS"], &cells)
            });
        }
    }
    Ok(())
}
