//! The audit log, for ops.

use serde_json::json;

use super::connect;
use super::output::{print, table};
use crate::services::AuditLog;
use crate::settings::Settings;

pub async fn list(limit: u64, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let audit = AuditLog::new(connect(settings).await?);
    let events = audit.recent(limit).await?;
    let rows: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": e.at,
                "actor": e.actor,
                "company_id": e.company_id,
                "action": e.action,
                "target": e.target,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "outcome": e.outcome,
                "details": e.details,
            })
        })
        .collect();
    print(json, &rows, || {
        let cells: Vec<Vec<String>> = events
            .iter()
            .map(|e| {
                vec![
                    e.at.to_rfc3339(),
                    e.actor.clone(),
                    e.action.clone(),
                    e.target.clone().unwrap_or_default(),
                    e.outcome.clone(),
                ]
            })
            .collect();
        table(&["AT", "ACTOR", "ACTION", "TARGET", "OUTCOME"], &cells)
    });
    Ok(())
}
