//! The audit log, for ops: the same filters and cursor as the admin API.

use super::output::{print, table};
use super::{connect, AuditListArgs};
use crate::services::AuditLog;
use crate::settings::Settings;
use crate::store::audit::AuditFilter;

pub async fn list(args: AuditListArgs, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let audit = AuditLog::new(connect(settings).await?);
    let filter = AuditFilter {
        actor: args.actor,
        company_id: args.company,
        action: args.action,
        since: args.since,
        until: args.until,
        before: args.cursor,
        limit: args.limit,
    };
    let page = audit.page(filter).await?;
    print(json, &page, || {
        let cells: Vec<Vec<String>> = page
            .results
            .iter()
            .map(|e| {
                vec![
                    e.id.to_string(),
                    e.at.to_rfc3339(),
                    e.actor.clone(),
                    e.action.clone(),
                    e.target.clone().unwrap_or_default(),
                    e.ip.clone().unwrap_or_default(),
                    e.outcome.clone(),
                ]
            })
            .collect();
        let mut out = table(
            &["ID", "AT", "ACTOR", "ACTION", "TARGET", "IP", "OUTCOME"],
            &cells,
        );
        if let Some(cursor) = &page.next_cursor {
            out.push_str(&format!("\nMore: --cursor {cursor}"));
        }
        out
    });
    Ok(())
}
