//! RFC 7009: possession of a token is enough to kill it.

use latchkey::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_invalid_token, inactive, spawn_app};

#[tokio::test]
async fn revoking_a_private_token_deletes_its_key_for_good() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&token, company).await;
    let key_token = key["token"].as_str().unwrap();

    assert_eq!(app.revoke(key_token).await.status(), 200);

    assert_eq!(app.introspect_ok(&client, key_token).await, inactive());
    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing["count"], 0);
    let events = app.state.store.recent_audit_events(5).await.unwrap();
    let deleted = events
        .iter()
        .find(|e| e.action == "api_key.deleted")
        .expect("deletion audited");
    assert_eq!(deleted.actor, "revocation endpoint");
    assert_eq!(deleted.target.as_deref(), key["id"].as_str());
}

#[tokio::test]
async fn revoking_a_short_lived_token_kills_it_and_only_it() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    let other = app.access_token(&user).await;

    assert_eq!(app.revoke(&token).await.status(), 200);

    assert_invalid_token(app.me(&token).await).await;
    assert_eq!(app.me(&other).await.status(), 200);
}

#[tokio::test]
async fn revoking_a_refresh_token_kills_its_family() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let pair = app.login_ok(&user).await;

    let response = app
        .client
        .post(app.url("/api/v1/revoke"))
        .json(&json!({ "token": pair["refresh_token"] }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let refreshed = app.refresh(&pair["refresh_token"]).await;
    assert_invalid_token(refreshed).await;
    assert_invalid_token(app.me(pair["access_token"].as_str().unwrap()).await).await;
}

#[tokio::test]
async fn anything_else_gets_200_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A forged copy of the key: same claims, broken signature.
    let forged = format!("{}AAAA", &key[..key.len() - 4]);

    for junk in ["", "junk", &forged, &"x".repeat(43)] {
        assert_eq!(app.revoke(junk).await.status(), 200, "{junk:?}");
    }
    let empty = app
        .client
        .post(app.url("/api/v1/revoke"))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 200);

    assert_eq!(app.me(&key).await.status(), 200);
}

#[tokio::test]
async fn a_malformed_body_still_gets_200() {
    let app = spawn_app().await;

    let response = app.post_raw_json("/api/v1/revoke", "{not json").await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn revoking_a_refresh_token_200_times_writes_only_the_first_event() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let pair = app.login_ok(&user).await;
    let refresh_token = pair["refresh_token"].as_str().unwrap();
    let before = app.revocation_event_count().await;

    for _ in 0..200 {
        assert_eq!(app.revoke(refresh_token).await.status(), 200);
    }

    assert_eq!(app.revocation_event_count().await, before + 1);
    assert_invalid_token(app.me(pair["access_token"].as_str().unwrap()).await).await;
}

#[tokio::test]
async fn revoking_a_login_token_again_writes_nothing_even_in_parallel() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let sequential = app.access_token(&user).await;
    let parallel = app.access_token(&user).await;
    let before = app.revocation_event_count().await;

    for _ in 0..200 {
        assert_eq!(app.revoke(&sequential).await.status(), 200);
    }
    let answers = futures::future::join_all((0..50).map(|_| app.revoke(&parallel))).await;

    assert!(answers.iter().all(|a| a.status() == 200));
    assert_eq!(app.revocation_event_count().await, before + 2);
    assert_invalid_token(app.me(&parallel).await).await;
}

#[tokio::test]
async fn logout_and_refresh_reuse_write_each_revocation_once() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let first = app.login_ok(&user).await;
    let second: Value = app
        .refresh(&first["refresh_token"])
        .await
        .json()
        .await
        .unwrap();
    let before = app.revocation_event_count().await;

    // Reuse: the family's two live access tokens are revoked, once.
    for _ in 0..20 {
        assert_invalid_token(app.refresh(&first["refresh_token"]).await).await;
    }
    assert_eq!(app.revocation_event_count().await, before + 2);
    assert_eq!(
        app.revoke(second["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_eq!(app.revocation_event_count().await, before + 2);

    // Logout revokes the token and its family once; after it, nothing.
    let third = app.login_ok(&user).await;
    let access = third["access_token"].as_str().unwrap();
    let logout = |token: String| {
        app.client
            .post(app.url("/api/v1/auth/logout"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(logout(access.to_owned()).await.unwrap().status(), 204);
    assert_eq!(app.revocation_event_count().await, before + 3);
    assert_invalid_token(logout(access.to_owned()).await.unwrap()).await;
    assert_eq!(
        app.revoke(third["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
    assert_eq!(app.revoke(access).await.status(), 200);
    assert_eq!(app.revocation_event_count().await, before + 3);
}
