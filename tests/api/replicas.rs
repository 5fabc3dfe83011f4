//! Two instances on one database: a change made through one is in force at
//! the other within a second. On PostgreSQL polling is slowed to 10 s, so
//! only the LISTEN/NOTIFY doorbell can make it in time.

use std::time::{Duration, Instant};

use latchkey::domain::Role;
use serde_json::Value;

use crate::helpers::{inactive, spawn_app_with, spawn_on, test_settings, TestApp, TestDatabase};

async fn two_replicas() -> (TestApp, TestApp) {
    let on_postgres = std::env::var("LATCHKEY_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    let poll_ms = if on_postgres { 10_000 } else { 100 };
    let first = spawn_app_with(|s| {
        s.revocation.poll_interval_ms = poll_ms;
        s.revocation.max_staleness_seconds = 60;
    })
    .await;
    let db = TestDatabase::same_as(&first.db);
    let mut settings = test_settings(&db);
    settings.secrets.master_key = first.settings.secrets.master_key.clone();
    settings.revocation = first.settings.revocation.clone();
    let second = spawn_on(db, settings).await;
    (first, second)
}

/// Polls until `done` says yes; fails after a second.
async fn within_a_second<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what} took more than a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_key_deleted_through_one_replica_is_inactive_at_the_other() {
    let (a, b) = two_replicas().await;
    let client = b.create_client().await;
    let (_, company, token) = a
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = a.create_key_ok(&token, company).await;
    let key_token = key["token"].as_str().unwrap().to_owned();
    within_a_second("the new key reaching b", || async {
        b.introspect_ok(&client, &key_token).await["active"] == true
    })
    .await;

    assert_eq!(
        a.delete_key(&token, company, key["id"].as_str().unwrap())
            .await
            .status(),
        204
    );

    within_a_second("the deletion reaching b", || async {
        b.introspect_ok(&client, &key_token).await == inactive()
    })
    .await;
}

#[tokio::test]
async fn revoking_a_users_tokens_reaches_the_other_replica() {
    let (a, b) = two_replicas().await;
    let client = b.create_client().await;
    let user = a.create_user("ada@example.com").await;
    let token = a.access_token(&user).await;
    assert_eq!(b.introspect_ok(&client, &token).await["active"], true);

    a.state.store.revoke_user_tokens(user.id).await.unwrap();

    within_a_second("revoke-tokens reaching b", || async {
        b.introspect_ok(&client, &token).await == inactive()
    })
    .await;
}

#[tokio::test]
async fn a_removed_membership_reaches_the_other_replica() {
    let (a, b) = two_replicas().await;
    let client = b.create_client().await;
    let (user, company, token) = a
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let key = a.create_key_ok(&token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = format!("/api/v1/companies/{company}/datasets/");
    within_a_second("the membership reaching b", || async {
        b.verify(Some(&token), Some(&uri)).await.status() == 200
    })
    .await;

    assert!(a.state.store.remove_member(user.id, company).await.unwrap());

    within_a_second("the removal reaching b", || async {
        b.verify(Some(&token), Some(&uri)).await.status() == 403
    })
    .await;
    let body: Value = b.introspect_ok(&client, &key).await;
    assert_eq!(
        body,
        inactive(),
        "a removed member's keys die with the membership"
    );
}
