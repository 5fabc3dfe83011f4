//! Signing keys: rotation and listing.

use serde_json::json;

use super::output::{print, table};
use super::{connect, SigningKeyCommand};
use crate::services::SigningKeys;
use crate::settings::Settings;
use crate::tokens::MasterKey;

pub async fn signing_key(
    command: SigningKeyCommand,
    settings: &Settings,
    json: bool,
) -> anyhow::Result<()> {
    let keys = SigningKeys::new(connect(settings).await?, settings);
    match command {
        SigningKeyCommand::Rotate => {
            let master = MasterKey::load_or_create(&settings.secrets)?;
            let kid = keys.rotate(master).await?;
            print(json, &json!({ "kid": kid, "active": true }), || {
                format!("Key {kid} now signs new tokens; running servers pick it up from the revocation log.")
            });
        }
        SigningKeyCommand::List => {
            let rows = keys.list().await?;
            print(json, &rows, || {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|k| {
                        vec![
                            k.kid.clone(),
                            k.algorithm.clone(),
                            k.created_at.to_rfc3339(),
                            k.status.to_owned(),
                        ]
                    })
                    .collect();
                table(&["KID", "ALG", "CREATED", "STATUS"], &cells)
            });
        }
    }
    Ok(())
}
