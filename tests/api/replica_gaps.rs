//! Gaps in the revocation log: an event id a replica's cursor skipped
//! because its transaction commits after a later one. Gaps happen only on
//! PostgreSQL; on SQLite writers are serialized and ids commit in order, so
//! these tests return at once there.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latchkey::domain::AccessEvent;
use latchkey::store::revocation_events;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use serde_json::Value;

use crate::helpers::{assert_error, eventually, inactive, spawn_app, ServiceClient, TestApp};

/// Longer than the follower's patience with a gap (60 s).
const PAST_THE_PATIENCE: Duration = Duration::from_secs(61);

fn on_postgres() -> bool {
    std::env::var("LATCHKEY_TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

/// The revocation of `token`, appended in a transaction left open: its
/// event id is taken now and committed whenever the test says.
async fn revocation_held_open(app: &TestApp, token: &str) -> DatabaseTransaction {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let event = AccessEvent::TokenRevoked {
        jti: claims["jti"].as_str().unwrap().parse().unwrap(),
        expires_at: chrono::DateTime::from_timestamp(claims["exp"].as_i64().unwrap(), 0).unwrap(),
    };
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();
    let transaction = db.begin().await.unwrap();
    revocation_events::append(&transaction, event, app.state.clock.now())
        .await
        .unwrap();
    transaction
}

/// A held-open revocation of one token, then a committed revocation of
/// another, read by the app: its cursor has skipped the held id.
async fn a_gap(app: &TestApp, client: &ServiceClient) -> (String, DatabaseTransaction) {
    let user = app.create_user("ada@example.com").await;
    let held = app.access_token(&user).await;
    let later = app.access_token(&user).await;
    let transaction = revocation_held_open(app, &held).await;
    assert_eq!(app.revoke(&later).await.status(), 200);
    app.state.follower.catch_up().await.unwrap();
    assert_eq!(app.introspect_ok(client, &later).await, inactive());
    // Not committed yet: not revoked yet.
    assert_eq!(app.introspect_ok(client, &held).await["active"], true);
    (held, transaction)
}

async fn readyz(app: &TestApp) -> reqwest::Response {
    app.client.get(app.url("/readyz")).send().await.unwrap()
}

#[tokio::test]
async fn a_gap_open_past_its_patience_makes_the_replica_unready_until_it_closes() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let client = app.create_client().await;
    let (held, transaction) = a_gap(&app, &client).await;
    assert_eq!(readyz(&app).await.status(), 200);

    // The transaction is still running past the patience: the replica
    // cannot know what it will commit, so it does not call itself fresh.
    app.state.clock.advance(PAST_THE_PATIENCE);
    app.state.follower.catch_up().await.unwrap();
    assert!(!app.state.access.is_fresh());
    assert_error(readyz(&app).await, 503, "service_unavailable").await;
    assert_error(
        app.introspect(&client, &held).await,
        503,
        "service_unavailable",
    )
    .await;

    // It commits late: read, the state reloaded, and fresh again.
    transaction.commit().await.unwrap();
    app.state.follower.catch_up().await.unwrap();
    assert!(app.state.access.is_fresh());
    assert_eq!(app.introspect_ok(&client, &held).await, inactive());
    assert_eq!(readyz(&app).await.status(), 200);
}

#[tokio::test]
async fn a_gap_whose_transaction_rolled_back_closes_without_waiting_out_the_patience() {
    if !on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let client = app.create_client().await;
    let (held, transaction) = a_gap(&app, &client).await;

    transaction.rollback().await.unwrap();
    app.state.follower.catch_up().await.unwrap();
    // The id will never be filled; once every transaction running when it
    // was skipped has ended, it is no gap to wait for.
    // (Other tests' transactions on the shared server may hold that back
    // for a moment.)
    app.state.clock.advance(PAST_THE_PATIENCE);
    eventually("the rolled-back gap to close", || async {
        app.state.follower.catch_up().await.unwrap();
        app.state.access.is_fresh()
    })
    .await;
    assert_eq!(readyz(&app).await.status(), 200);
    assert_eq!(app.introspect_ok(&client, &held).await["active"], true);
}
