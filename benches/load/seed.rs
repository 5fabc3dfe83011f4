//! Fills a database through the library, as fast as bulk inserts allow.

use base64::Engine;
use chrono::{Duration, Utc};
use entity::{api_keys, revocation_events};
use latchkey::clock::Clock;
use latchkey::domain::{CompanyName, Email, Plan, Role};
use latchkey::settings::Settings;
use latchkey::state::AppState;
use latchkey::store::audit::Actor;
use latchkey::store::Store;
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{EntityTrait, Set, TransactionTrait};
use secrecy::SecretString;
use uuid::Uuid;

pub const EMAIL: &str = "bench@example.com";
pub const PASSWORD: &str = "bench password that is long";

pub struct Seeded {
    pub state: AppState,
    pub master_key: String,
    pub company_id: Uuid,
    pub user_id: Uuid,
    pub client: (String, String),
}

pub fn master_key() -> String {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).unwrap();
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// A company on the unlimited plan, a user who owns it, and a service client.
pub async fn base(database_url: &str) -> anyhow::Result<Seeded> {
    let master_key = master_key();
    let mut settings = Settings::defaults();
    settings.database.url = SecretString::from(database_url.to_owned());
    settings.secrets.master_key = SecretString::from(master_key.clone());
    let store = Store::connect(&settings.database, Clock::system()).await?;
    store.migrate().await?;
    let plan = Plan::parse("professional_unlimited", &settings)?;
    let company = store
        .create_company(&CompanyName::parse("Bench")?, &plan)
        .await?;
    let hash = latchkey::passwords::hash_blocking(&SecretString::from(PASSWORD.to_owned()))?;
    let user = store
        .create_user(&Email::parse(EMAIL)?, hash, false, |u| {
            latchkey::store::audit::Actor::named("bench").entry("user.created", None, u.id)
        })
        .await?;
    store
        .add_member(user.id, company.id, Role::Owner, &Actor::named("bench"))
        .await?;
    let client_id = Uuid::now_v7().to_string();
    let secret = latchkey::tokens::random_secret();
    store
        .create_service_client(
            client_id.clone(),
            latchkey::tokens::sha256_hex(&secret),
            "bench".to_owned(),
            false,
            &Actor::named("bench"),
        )
        .await?;
    let state = AppState::build(settings, store).await?;
    Ok(Seeded {
        state,
        master_key,
        company_id: company.id,
        user_id: user.id,
        client: (client_id, secret),
    })
}

/// `count` active API keys of the seeded user; returns their tokens when asked.
pub async fn api_keys(
    seeded: &Seeded,
    count: usize,
    want_tokens: bool,
) -> anyhow::Result<Vec<String>> {
    let expires_at = (Utc::now() + Duration::days(30)).with_timezone(&Utc);
    let expires_at = chrono::DurationRound::duration_trunc(expires_at, Duration::seconds(1))?;
    let mut tokens = Vec::new();
    let db = seeded.state.store.db();
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let txn = db.begin().await?;
        let mut rows = Vec::with_capacity(chunk.len());
        for i in chunk {
            let id = Uuid::now_v7();
            // With tokens, each row keeps its token's digest, as a key
            // created through the API does.
            let (mut digest, mut signing_kid) = (None, None);
            if want_tokens {
                let token = seeded.state.issuer.api_key(
                    id,
                    seeded.user_id,
                    seeded.company_id,
                    expires_at,
                    None,
                )?;
                digest = Some(latchkey::tokens::token_digest(&token.token).to_vec());
                signing_kid = Some(token.kid.clone());
                tokens.push(token.token);
            }
            rows.push(api_keys::ActiveModel {
                id: Set(id),
                company_id: Set(seeded.company_id),
                user_id: Set(seeded.user_id),
                name: Set(format!("key {i}")),
                created_at: Set(Utc::now()),
                expires_at: Set(expires_at),
                last_used_at: Set(None),
                deleted_at: Set(None),
                deleted_by: Set(None),
                revoked_at: Set(None),
                revoked_by: Set(None),
                revoked_reason: Set(None),
                scopes: Set(None),
                token_digest: Set(digest),
                signing_kid: Set(signing_kid),
            });
        }
        api_keys::Entity::insert_many(rows).exec(&txn).await?;
        txn.commit().await?;
    }
    Ok(tokens)
}

/// `count` short-lived tokens of the seeded user.
pub fn short_lived_tokens(seeded: &Seeded, count: usize) -> anyhow::Result<Vec<String>> {
    (0..count)
        .map(|_| {
            Ok(seeded
                .state
                .issuer
                .short_lived(seeded.user_id, Uuid::now_v7())?
                .token)
        })
        .collect()
}

/// `count` revoked token ids that the server will hold in memory.
pub async fn revoked_tokens(seeded: &Seeded, count: usize) -> anyhow::Result<()> {
    let db = seeded.state.store.db();
    let not_after = Utc::now() + Duration::hours(1);
    for chunk in (0..count).collect::<Vec<_>>().chunks(2000) {
        let txn = db.begin().await?;
        let rows = chunk.iter().map(|_| revocation_events::ActiveModel {
            kind: Set("token_revoked".to_owned()),
            subject: Set(Uuid::now_v7().to_string()),
            user_id: Set(None),
            company_id: Set(None),
            role: Set(None),
            not_after: Set(Some(not_after)),
            created_at: Set(Utc::now()),
            token_digest: Set(None),
            scopes: Set(None),
            ..Default::default()
        });
        revocation_events::Entity::insert_many(rows)
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
    Ok(())
}
