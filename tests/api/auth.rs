use latchkey::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_invalid_token, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn login_returns_a_short_lived_token_and_a_refresh_token() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;

    let response = app.login("Ada@Example.com", PASSWORD).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    let me: Value = app
        .me(body["access_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user.id.to_string());
    assert_eq!(me["email"], "ada@example.com");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user("ada@example.com").await;

    let wrong_password = app
        .login("ada@example.com", "not the password at all")
        .await;
    let unknown_user = app.login("nobody@example.com", PASSWORD).await;

    let challenge = wrong_password.headers()["www-authenticate"].clone();
    assert_eq!(challenge, r#"Bearer realm="latchkey""#);
    let a = assert_error(wrong_password, 401, "invalid_credentials").await;
    let b = assert_error(unknown_user, 401, "invalid_credentials").await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_disabled_user_cannot_log_in_and_loses_their_tokens() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;

    app.state
        .store
        .disable_user(user.id, &latchkey::store::audit::Actor::named("test"))
        .await
        .unwrap();
    app.state.follower.catch_up().await.unwrap();

    assert_error(
        app.login("ada@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_invalid_token(app.me(&token).await).await;
}

#[tokio::test]
async fn me_lists_the_companies_with_plan_and_role() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let company = app.create_company("professional").await;
    app.add_member(&user, company, Role::Admin).await;
    let token = app.access_token(&user).await;

    let me: Value = app.me(&token).await.json().await.unwrap();

    assert_eq!(
        me["companies"],
        json!([{ "id": company.to_string(), "name": "Acme", "plan": "professional", "role": "admin" }])
    );
}

#[tokio::test]
async fn a_request_without_credentials_is_not_authenticated() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();

    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="latchkey""#
    );
    assert_error(response, 401, "not_authenticated").await;
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_a_reused_refresh_token_revokes_the_family() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let first = app.login_ok(&user).await;
    let rotated = app.refresh(&first["refresh_token"]).await;
    assert_eq!(rotated.status(), 200);
    assert_eq!(rotated.headers()["cache-control"], "no-store");
    let second: Value = rotated.json().await.unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(
        app.me(second["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // The spent token comes back: theft is assumed, the whole family dies.
    assert_invalid_token(app.refresh(&first["refresh_token"]).await).await;
    assert_invalid_token(app.refresh(&second["refresh_token"]).await).await;
    assert_invalid_token(app.me(second["access_token"].as_str().unwrap()).await).await;
    assert_invalid_token(app.me(first["access_token"].as_str().unwrap()).await).await;
}

#[tokio::test]
async fn an_unknown_refresh_token_is_invalid() {
    let app = spawn_app().await;

    let response = app.refresh(&json!("made-up")).await;

    assert_invalid_token(response).await;
}

#[tokio::test]
async fn logout_revokes_the_token_and_its_refresh_family() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let pair = app.login_ok(&user).await;
    let token = pair["access_token"].as_str().unwrap();

    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 204);
    assert_invalid_token(app.me(token).await).await;
    let refreshed = app.refresh(&pair["refresh_token"]).await;
    assert_invalid_token(refreshed).await;
    // Other sessions of the same user are untouched.
    let other = app.access_token(&user).await;
    assert_eq!(app.me(&other).await.status(), 200);
}

#[tokio::test]
async fn revoking_a_users_tokens_kills_every_token_issued_so_far() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let before = app.login_ok(&user).await;

    app.state
        .store
        .revoke_user_tokens(user.id, &latchkey::store::audit::Actor::named("test"))
        .await
        .unwrap();
    app.state.follower.catch_up().await.unwrap();

    assert_invalid_token(app.me(before["access_token"].as_str().unwrap()).await).await;
    let refreshed = app.refresh(&before["refresh_token"]).await;
    assert_invalid_token(refreshed).await;
    let after = app.access_token(&user).await;
    assert_eq!(app.me(&after).await.status(), 200);
}

#[tokio::test]
async fn an_expired_token_is_invalid() {
    let app = spawn_app_with(|s| {
        // Ten seconds: room for a slow machine before the jump.
        s.tokens.access_ttl_seconds = 10;
        s.tokens.leeway_seconds = 0;
    })
    .await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    assert_eq!(app.me(&token).await.status(), 200);

    app.state.clock.advance(std::time::Duration::from_secs(11));
    app.state.follower.catch_up().await.unwrap();

    assert_invalid_token(app.me(&token).await).await;
}

#[tokio::test]
async fn login_is_throttled_when_the_password_queue_is_full() {
    let app = spawn_app_with(|s| {
        s.passwords.max_concurrent_hashes = 1;
        s.passwords.max_queued_hashes = 0;
    })
    .await;
    app.create_user("ada@example.com").await;

    let attempts = (0..8).map(|_| app.login("ada@example.com", "wrong password here"));
    let responses = futures::future::join_all(attempts).await;

    let throttled: Vec<_> = responses
        .into_iter()
        .filter(|r| r.status() == 429)
        .collect();
    assert!(!throttled.is_empty(), "no login was throttled");
    assert!(throttled[0].headers().contains_key("retry-after"));
}
