//! Signing keys: rotation, revocation and listing.

use serde_json::json;

use super::output::{print, table};
use super::{cli_actor, connect, SigningKeyCommand};
use crate::services::{EventSink, Origin, SigningKeys};
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
            let kid = keys.rotate(master, &cli_actor()).await?;
            print(json, &json!({ "kid": kid, "active": true }), || {
                format!("Key {kid} now signs new tokens; running servers pick it up from the revocation log.")
            });
        }
        SigningKeyCommand::Revoke { kid, yes } => {
            let Some(live) = keys.live_api_keys_signed_by(&kid).await? else {
                anyhow::bail!("no signing key {kid}");
            };
            if !yes {
                anyhow::bail!(
                    "revoking signing key {kid} kills {live} live API key(s) and every login \
                     token it signed; run again with --yes to do it"
                );
            }
            let master = MasterKey::load_or_create(&settings.secrets)?;
            let revoked = keys
                .revoke(
                    master,
                    &kid,
                    &cli_actor().name,
                    Origin::default(),
                    &EventSink::log_only(),
                )
                .await?;
            print(json, &revoked, || {
                let replaced = match &revoked.new_active_kid {
                    Some(new) => format!(" Key {new} now signs new tokens."),
                    None => String::new(),
                };
                format!(
                    "Key {kid} revoked: {} live API key(s) killed with it; running servers drop \
                     it from the log.{replaced}",
                    revoked.killed_api_keys
                )
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
                            if k.signing { "yes" } else { "no" }.to_owned(),
                        ]
                    })
                    .collect();
                table(&["KID", "ALG", "CREATED", "STATUS", "SIGNING"], &cells)
            });
        }
    }
    Ok(())
}
