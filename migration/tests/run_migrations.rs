//! Runs the full migration set up -> down -> up against SQLite (in memory) and
//! PostgreSQL, then smoke-tests the entities against the resulting schema.
//!
//! The PostgreSQL test needs a reachable server. It connects to
//! `LATCHKEY_TEST_DATABASE_URL` when it is set, creates a throwaway
//! `mig_check_<suffix>` database, runs the checks there and drops it again.

use entity::{audit_events, companies, memberships, revocation_events, signing_keys, users};
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm_migration::sea_orm::{
    prelude::{ChronoDateTimeUtc, Uuid},
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, DbErr, EntityTrait,
    ModelTrait, PaginatorTrait, Set,
};

const TABLES: [&str; 9] = [
    "companies",
    "users",
    "memberships",
    "api_keys",
    "refresh_tokens",
    "signing_keys",
    "service_clients",
    "revocation_events",
    "audit_events",
];

async fn assert_tables(db: &DatabaseConnection, present: bool) -> Result<(), DbErr> {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        assert_eq!(
            manager.has_table(table).await?,
            present,
            "table {table} presence should be {present}"
        );
    }
    Ok(())
}

/// Fixed timestamp with microsecond precision (PostgreSQL's resolution).
fn ts() -> ChronoDateTimeUtc {
    ChronoDateTimeUtc::from_timestamp(1_800_000_000, 123_456_000).expect("valid timestamp")
}

async fn up_down_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    assert_tables(db, true).await?;
    // Re-running is a no-op.
    Migrator::up(db, None).await?;

    Migrator::down(db, None).await?;
    assert_tables(db, false).await?;

    Migrator::up(db, None).await?;
    assert_tables(db, true).await?;
    Ok(())
}

/// Inserts and reads back rows through the entities, covering the column
/// types most likely to differ between backends (uuid, timestamptz, bytes,
/// json, big auto-increment) plus the unique index and cascading FK.
async fn entity_smoke(db: &DatabaseConnection) -> Result<(), DbErr> {
    let company = companies::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set("Acme".to_owned()),
        plan: Set("free".to_owned()),
        created_at: Set(ts()),
    }
    .insert(db)
    .await?;
    assert_eq!(
        companies::Entity::find_by_id(company.id).one(db).await?,
        Some(company.clone())
    );

    let user = users::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set("alice@example.com".to_owned()),
        password_hash: Set("hash".to_owned()),
        is_admin: Set(false),
        disabled_at: Set(None),
        tokens_valid_after: Set(Some(ts())),
        created_at: Set(ts()),
    }
    .insert(db)
    .await?;
    assert_eq!(
        users::Entity::find_by_id(user.id).one(db).await?,
        Some(user.clone())
    );

    let duplicate = users::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set("alice@example.com".to_owned()),
        password_hash: Set("hash".to_owned()),
        is_admin: Set(false),
        disabled_at: Set(None),
        tokens_valid_after: Set(None),
        created_at: Set(ts()),
    }
    .insert(db)
    .await;
    assert!(duplicate.is_err(), "duplicate email must be rejected");

    memberships::ActiveModel {
        user_id: Set(user.id),
        company_id: Set(company.id),
        role: Set("owner".to_owned()),
        created_at: Set(ts()),
    }
    .insert(db)
    .await?;

    let key = signing_keys::ActiveModel {
        kid: Set("kid-1".to_owned()),
        algorithm: Set("EdDSA".to_owned()),
        public_key: Set(vec![0, 1, 2, 255]),
        private_key_encrypted: Set(vec![9; 64]),
        created_at: Set(ts()),
        retired_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    assert_eq!(
        signing_keys::Entity::find_by_id("kid-1").one(db).await?,
        Some(key)
    );

    let mut last_id = 0;
    for subject in ["a", "b"] {
        let event = revocation_events::ActiveModel {
            kind: Set("user".to_owned()),
            subject: Set(subject.to_owned()),
            user_id: Set(Some(user.id)),
            created_at: Set(ts()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        assert!(event.id > last_id, "revocation ids must increase");
        last_id = event.id;
    }

    let details = serde_json::json!({ "reason": "test", "n": 1 });
    let audit = audit_events::ActiveModel {
        at: Set(ts()),
        actor: Set(format!("user:{}", user.id)),
        company_id: Set(Some(company.id)),
        action: Set("login".to_owned()),
        target: Set(None),
        ip: Set(Some("127.0.0.1".to_owned())),
        user_agent: Set(None),
        outcome: Set("success".to_owned()),
        details: Set(Some(details.clone())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let fetched = audit_events::Entity::find_by_id(audit.id)
        .one(db)
        .await?
        .expect("audit event");
    assert_eq!(fetched.details, Some(details));
    assert_eq!(fetched, audit);

    // ON DELETE CASCADE: deleting the user removes the membership.
    user.delete(db).await?;
    assert_eq!(memberships::Entity::find().count(db).await?, 0);
    Ok(())
}

#[tokio::test]
async fn migrations_up_down_up_sqlite() -> Result<(), DbErr> {
    let db = Database::connect("sqlite::memory:").await?;
    up_down_up(&db).await?;
    entity_smoke(&db).await?;
    db.close().await
}

/// Replaces the database name (URL path) of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..authority_end], name);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[tokio::test]
async fn migrations_up_down_up_postgres() -> Result<(), DbErr> {
    // Like the API suite: PostgreSQL runs when asked for (CI always asks).
    let Ok(server_url) = std::env::var("LATCHKEY_TEST_DATABASE_URL") else {
        eprintln!(
            "LATCHKEY_TEST_DATABASE_URL is unset: PostgreSQL migrations not run in this pass"
        );
        return Ok(());
    };
    let server = Database::connect(&server_url).await.map_err(|e| {
        DbErr::Custom(format!(
            "cannot connect to PostgreSQL at {server_url} (set LATCHKEY_TEST_DATABASE_URL): {e}"
        ))
    })?;

    let db_name = format!("mig_check_{}", Uuid::new_v4().simple());
    server
        .execute_unprepared(&format!("CREATE DATABASE \"{db_name}\""))
        .await?;

    let result = async {
        let db = Database::connect(&with_database(&server_url, &db_name)).await?;
        let outcome = async {
            up_down_up(&db).await?;
            entity_smoke(&db).await
        }
        .await;
        db.close().await?;
        outcome
    }
    .await;

    // Always drop the throwaway database, even if the checks failed.
    let dropped = server
        .execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS \"{db_name}\" WITH (FORCE)"
        ))
        .await;
    server.close().await?;
    result?;
    dropped.map(|_| ())
}

#[test]
fn with_database_replaces_path() {
    assert_eq!(
        with_database("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
}
