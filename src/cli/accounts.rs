//! Companies, users and memberships.

use std::io::Read;

use anyhow::{bail, Context};
use secrecy::SecretString;
use serde_json::json;

use super::output::{print, table};
use super::{cli_actor, connect, CompanyCommand, MemberCommand, UserCommand};
use crate::domain::{CompanyName, Email, Password, Plan};
use crate::services::{Accounts, EventSink};
use crate::settings::Settings;

async fn accounts(settings: &Settings) -> anyhow::Result<Accounts> {
    Ok(Accounts::new(
        connect(settings).await?,
        EventSink::log_only(),
    ))
}

pub async fn company(
    command: CompanyCommand,
    settings: &Settings,
    json: bool,
) -> anyhow::Result<()> {
    let accounts = accounts(settings).await?;
    match command {
        CompanyCommand::Create { name, plan } => {
            let name = CompanyName::parse(&name).context("invalid --name")?;
            let plan = Plan::parse(&plan, settings).context("invalid --plan")?;
            let company = accounts
                .create_company(&name, &plan, &cli_actor(), None)
                .await?
                .value;
            let out = json!({ "id": company.id, "name": company.name, "plan": company.plan });
            print(json, &out, || {
                table(
                    &["ID", "NAME", "PLAN"],
                    &[vec![
                        company.id.to_string(),
                        company.name.clone(),
                        company.plan.clone(),
                    ]],
                )
            });
        }
        CompanyCommand::SetPlan { company_id, plan } => {
            let plan = Plan::parse(&plan, settings).context("invalid PLAN")?;
            if accounts
                .set_plan(company_id, &plan, &cli_actor())
                .await?
                .is_none()
            {
                bail!("no company with id {company_id}");
            }
            let out = json!({ "id": company_id, "plan": plan.as_str() });
            print(json, &out, || {
                format!("Company {company_id} is now on plan {}.", plan.as_str())
            });
        }
    }
    Ok(())
}

pub async fn user(command: UserCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let accounts = accounts(settings).await?;
    match command {
        UserCommand::Create { email, admin } => {
            let email = Email::parse(&email).context("invalid --email")?;
            let password = Password::parse(read_password()?).context("invalid password")?;
            let user = accounts
                .create_user_with_password(&email, password, admin, &cli_actor())
                .await?;
            let out = json!({ "id": user.id, "email": user.email });
            print(json, &out, || {
                table(
                    &["ID", "EMAIL", "ADMIN"],
                    &[vec![
                        user.id.to_string(),
                        user.email.clone(),
                        admin.to_string(),
                    ]],
                )
            });
        }
        UserCommand::Disable { user_id } => {
            if !accounts.disable_user(user_id, &cli_actor()).await? {
                bail!("no user with id {user_id}");
            }
            print(json, &json!({ "id": user_id, "disabled": true }), || {
                format!("User {user_id} disabled.")
            });
        }
        UserCommand::RevokeTokens { user_id } => {
            if !accounts.revoke_user_tokens(user_id, &cli_actor()).await? {
                bail!("no user with id {user_id}");
            }
            let out = json!({ "id": user_id, "tokens_revoked": true });
            print(json, &out, || {
                format!("Every token issued to {user_id} so far is revoked.")
            });
        }
    }
    Ok(())
}

pub async fn member(command: MemberCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let accounts = accounts(settings).await?;
    match command {
        MemberCommand::Add {
            company,
            user,
            role,
        } => {
            accounts
                .add_member(user, company, role, &cli_actor())
                .await?;
            let out = json!({ "user_id": user, "company_id": company, "role": role.as_str() });
            print(json, &out, || {
                format!("{user} is now {} of {company}.", role.as_str())
            });
        }
        MemberCommand::Remove { company, user } => {
            if !accounts.remove_member(user, company, &cli_actor()).await? {
                bail!("{user} is not a member of {company}");
            }
            let out = json!({ "user_id": user, "company_id": company, "removed": true });
            print(json, &out, || {
                format!("{user} is no longer a member of {company}.")
            });
        }
    }
    Ok(())
}

/// The password is never an argument: it would land in shell history and `ps`.
fn read_password() -> anyhow::Result<SecretString> {
    let mut input = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut input)
        .context("cannot read the password from stdin")?;
    let password = input.strip_suffix('\n').unwrap_or(&input);
    let password = password.strip_suffix('\r').unwrap_or(password);
    Ok(SecretString::from(password.to_owned()))
}
