//! The command line: `serve` (the default), `migrate`, and the ops commands.

use clap::{Parser, Subcommand};
use serde_json::json;
use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::Role;
use crate::settings::Settings;
use crate::startup::Application;
use crate::store::audit::Actor;
use crate::store::Store;

mod accounts;
mod api_keys;
mod audit;
mod clients;
mod output;
mod signing_keys;

use output::print;

/// Who the audit log and revoked keys name for what ops do here:
/// `cli:<os user>`.
pub(crate) fn cli_actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    Actor::named(format!("cli:{user}"))
}

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
    /// Manage the service clients that may call introspection.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Rotate, revoke and list the keys that sign tokens.
    #[command(subcommand, name = "signing-key")]
    SigningKey(SigningKeyCommand),
    /// Read the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
pub enum SigningKeyCommand {
    /// Make a new key active; old ones verify until their tokens expire.
    Rotate,
    /// List signing keys, newest first.
    List,
    /// Revoke a leaked key: it leaves the JWKS, every token it signed stops
    /// working on every replica, and the API keys it signed are revoked.
    /// Without --yes, only says how many live API keys that would kill.
    Revoke {
        kid: String,
        /// Do it.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Audit events, newest first, filtered as `GET /api/v1/admin/audit-events`.
    List(AuditListArgs),
}

#[derive(clap::Args)]
pub struct AuditListArgs {
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    /// Only this actor: a user id, `client:<id>` or `cli:<os user>`.
    #[arg(long)]
    pub actor: Option<String>,
    #[arg(long)]
    pub company: Option<Uuid>,
    /// Only this action, such as `api_key.deleted`.
    #[arg(long)]
    pub action: Option<String>,
    /// From this time on (RFC 3339).
    #[arg(long)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The `next_cursor` of the previous page.
    #[arg(long)]
    pub cursor: Option<i64>,
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// List keys that are not deleted (active, expired and revoked).
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
    Add {
        #[arg(long)]
        company: Uuid,
        #[arg(long)]
        user: Uuid,
        #[arg(long)]
        role: Role,
    },
    /// Remove a user from a company, on every instance at once.
    Remove {
        #[arg(long)]
        company: Uuid,
        #[arg(long)]
        user: Uuid,
    },
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Create a service client; its secret is shown once.
    Create {
        #[arg(long)]
        name: String,
        /// May also call the provisioning API (companies, users, memberships).
        #[arg(long)]
        provisioning: bool,
    },
    /// List service clients.
    List,
    /// Revoke a client: its introspection calls are refused at once.
    Revoke { client_id: String },
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    let json = cli.json;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_signalled()
                .await?
        }
        Command::Migrate => {
            connect(&settings).await?;
            print(json, &json!({ "migrated": true }), || {
                "Migrations applied.".to_owned()
            });
        }
        Command::Company(command) => accounts::company(command, &settings, json).await?,
        Command::User(command) => accounts::user(command, &settings, json).await?,
        Command::Member(command) => accounts::member(command, &settings, json).await?,
        Command::ApiKey(command) => api_keys::api_key(command, &settings, json).await?,
        Command::Client(command) => clients::client(command, &settings, json).await?,
        Command::SigningKey(command) => signing_keys::signing_key(command, &settings, json).await?,
        Command::Audit(AuditCommand::List(args)) => audit::list(args, &settings, json).await?,
    }
    Ok(())
}

pub(crate) async fn connect(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database, Clock::system()).await?;
    store.migrate().await?;
    Ok(store)
}
