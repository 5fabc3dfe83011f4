//! Two instances on one database: a change made through one is in force at
//! the other within a second. On PostgreSQL polling is slowed to 10 s, so
//! only the LISTEN/NOTIFY doorbell can make it in time.

use std::time::{Duration, Instant};

use latchkey::domain::Role;
use serde_json::Value;

use crate::helpers::{inactive, spawn_app_with, TestApp};

async fn two_replicas() -> (TestApp, TestApp) {
    let on_postgres = std::env::var("LATCHKEY_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    let poll_ms = if on_postgres { 10_000 } else { 100 };
    let first = spawn_app_with(|s| {
        s.revocation.poll_interval_ms = poll_ms;
        s.revocation.max_staleness_seconds = 60;
    })
    .await;
    let second = first.replica().await;
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

    a.state
        .store
        .revoke_user_tokens(user.id, &latchkey::store::audit::Actor::named("test"))
        .await
        .unwrap();

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

    assert!(a
        .state
        .accounts
        .remove_member(
            user.id,
            company,
            &latchkey::store::audit::Actor::named("test")
        )
        .await
        .unwrap());

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

#[tokio::test]
async fn a_pruned_log_still_starts_a_working_replica() {
    use sea_orm::sea_query::Expr;
    use sea_orm::EntityTrait;

    let a = spawn_app_with(|_| {}).await;
    let (user, company, token) = a
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let kept = a.create_key_ok(&token, company).await;
    let deleted = a.create_key_ok(&token, company).await;
    a.delete_key(&token, company, deleted["id"].as_str().unwrap())
        .await;
    let revoked_login = a.access_token(&user).await;
    assert_eq!(a.revoke(&revoked_login).await.status(), 200);
    // Every event two years old, as in a log that has run that long.
    entity::revocation_events::Entity::update_many()
        .col_expr(
            entity::revocation_events::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::days(730)),
        )
        .exec(a.state.store.db())
        .await
        .unwrap();

    // An instance prunes the log as it starts; only the revocation of a
    // login token that is still alive is kept.
    let b = a.replica().await;
    crate::helpers::eventually("the log being pruned", || async {
        a.revocation_event_count().await == 1
    })
    .await;
    let c = a.replica().await;

    let fresh_login = a.access_token(&user).await;
    let uri = format!("/api/v1/companies/{company}/datasets/");
    for replica in [&b, &c] {
        let client = replica.create_client().await;
        let introspect = |token: String| {
            let client = client.clone();
            async move { replica.introspect_ok(&client, &token).await }
        };
        let kept = kept["token"].as_str().unwrap().to_owned();
        assert_eq!(introspect(kept).await["active"], true);
        let deleted = deleted["token"].as_str().unwrap().to_owned();
        assert_eq!(introspect(deleted).await, inactive());
        assert_eq!(introspect(revoked_login.clone()).await, inactive());
        assert_eq!(
            replica
                .verify(Some(&fresh_login), Some(&uri))
                .await
                .status(),
            200
        );
    }
}
