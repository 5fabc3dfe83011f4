//! The command line: `serve` (the default), `migrate`, and the ops commands.

use std::io::Read;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::domain::{CompanyName, Email, Password, Plan, Role};
use crate::settings::Settings;
use crate::startup::Application;
use crate::store::api_keys::KeyFilter;
use crate::store::audit::AuditEntry;
use crate::store::Store;

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "A standalone authentication service that issues tokens."
)]
pub struct Cli {
    /// Print one JSON object or array on stdout instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage companies.
    #[command(subcommand)]
    Company(CompanyCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage company memberships.
    #[command(subcommand)]
    Member(MemberCommand),
    /// List and revoke API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// List keys that are not deleted (active and expired).
    List {
        #[arg(long)]
        company: Option<Uuid>,
        #[arg(long)]
        user: Option<Uuid>,
    },
    /// Delete a key for good; every instance stops accepting it.
    Revoke { key_id: Uuid },
}

#[derive(Subcommand)]
pub enum CompanyCommand {
    /// Create a company.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        plan: String,
    },
    /// Change a company's plan. Existing keys keep working after a downgrade.
    SetPlan { company_id: Uuid, plan: String },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from stdin.
    Create {
        #[arg(long)]
        email: String,
        /// Make the user a platform admin.
        #[arg(long)]
        admin: bool,
    },
    /// Disable a user: every token of theirs stops working, on every instance.
    Disable { user_id: Uuid },
    /// Every token issued to the user so far stops working.
    RevokeTokens { user_id: Uuid },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Add a user to a company, or change their role there.
    Add(MemberAdd),
}

#[derive(Args)]
pub struct MemberAdd {
    #[arg(long)]
    company: Uuid,
    #[arg(long)]
    user: Uuid,
    #[arg(long)]
    role: Role,
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    let json = cli.json;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await?
        }
        Command::Migrate => {
            connect(&settings).await?;
            print(json, &json!({ "migrated": true }), || {
                "Migrations applied.".to_owned()
            });
        }
        Command::Company(command) => company(command, &settings, json).await?,
        Command::User(command) => user(command, &settings, json).await?,
        Command::ApiKey(command) => api_key(command, &settings, json).await?,
        Command::Member(MemberCommand::Add(add)) => {
            let store = connect(&settings).await?;
            store.add_member(add.user, add.company, add.role).await?;
            let out = json!({ "user_id": add.user, "company_id": add.company, "role": add.role.as_str() });
            print(json, &out, || {
                format!(
                    "{} is now {} of {}",
                    add.user,
                    add.role.as_str(),
                    add.company
                )
            });
        }
    }
    Ok(())
}

async fn company(command: CompanyCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let store = connect(settings).await?;
    match command {
        CompanyCommand::Create { name, plan } => {
            let name = CompanyName::parse(&name).context("invalid --name")?;
            let plan = Plan::parse(&plan, settings).context("invalid --plan")?;
            let company = store.create_company(&name, &plan).await?;
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
            if !store.set_company_plan(company_id, &plan).await? {
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

async fn user(command: UserCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
    let store = connect(settings).await?;
    match command {
        UserCommand::Create { email, admin } => {
            let email = Email::parse(&email).context("invalid --email")?;
            let password = Password::parse(read_password()?).context("invalid password")?;
            let hash = tokio::task::spawn_blocking(move || {
                crate::passwords::hash_blocking(password.secret())
            })
            .await??;
            let user = store.create_user(&email, hash, admin).await?;
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
            if !store.disable_user(user_id).await? {
                bail!("no user with id {user_id}");
            }
            print(json, &json!({ "id": user_id, "disabled": true }), || {
                format!("User {user_id} disabled.")
            });
        }
        UserCommand::RevokeTokens { user_id } => {
            if !store.revoke_user_tokens(user_id).await? {
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

async fn api_key(command: ApiKeyCommand, settings: &Settings, json: bool) -> anyhow::Result<()> {
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
                        "status": if k.expires_at > now { "active" } else { "expired" },
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
                actor: "cli".to_owned(),
                company_id: Some(key.company_id),
                action: "api_key.deleted",
                target: Some(key_id.to_string()),
                outcome: "success",
                ..Default::default()
            };
            if !store.delete_api_key(key_id, None, audit).await? {
                bail!("key {key_id} was deleted meanwhile");
            }
            print(json, &json!({ "id": key_id, "revoked": true }), || {
                format!("Key {key_id} revoked.")
            });
        }
    }
    Ok(())
}

async fn connect(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    Ok(store)
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

fn print(json: bool, value: &impl Serialize, human: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string(value).unwrap_or_default());
    } else {
        println!("{}", human());
    }
}

/// A plain text table with aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(headers.to_vec())];
    out.extend(
        rows.iter()
            .map(|row| line(row.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}
