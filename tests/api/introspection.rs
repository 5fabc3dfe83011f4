use std::time::Duration;

use latchkey::domain::Role;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::helpers::{assert_error, inactive, spawn_app, spawn_app_with, ServiceClient};

#[tokio::test]
async fn a_caller_without_valid_client_credentials_is_refused() {
    let app = spawn_app().await;
    let ServiceClient {
        id: client_id,
        secret,
    } = app.create_client().await;
    let url = app.url("/api/v1/introspect");

    let missing = app
        .client
        .post(&url)
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    let wrong = app
        .client
        .post(&url)
        .basic_auth(&client_id, Some("nope"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    let unknown = app
        .client
        .post(&url)
        .basic_auth("who", Some(&secret))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();

    for response in [missing, wrong, unknown] {
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Basic realm="latchkey""#
        );
        assert_error(response, 401, "invalid_client").await;
    }
}

#[tokio::test]
async fn an_active_short_lived_token_is_described() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;

    let response = app.introspect(&client, &token).await;

    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "active",
            "exp",
            "iat",
            "iss",
            "jti",
            "kind",
            "sub",
            "token_type"
        ]
    );
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["kind"], "short_lived");
    assert_eq!(body["sub"], user.id.to_string());
    assert_eq!(body["iss"], app.settings.issuer);
}

#[tokio::test]
async fn an_active_private_token_names_its_company() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let created = app.create_key_ok(&token, company).await;

    let body = app
        .introspect_ok(&client, created["token"].as_str().unwrap())
        .await;

    assert_eq!(body["active"], true);
    assert_eq!(body["kind"], "private");
    assert_eq!(body["company_id"], company.to_string());
    assert_eq!(body["jti"], created["id"]);
}

#[tokio::test]
async fn json_bodies_are_accepted_and_the_type_hint_is_not_trusted() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;

    let response = app
        .client
        .post(app.url("/api/v1/introspect"))
        .basic_auth(&client.id, Some(&client.secret))
        .json(&json!({ "token": token, "token_type_hint": "refresh_token" }))
        .send()
        .await
        .unwrap();

    let body: Value = response.json().await.unwrap();
    assert_eq!(body["active"], true);
}

#[tokio::test]
async fn a_body_with_two_tokens_is_refused_however_they_are_spelt() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;

    // A gateway that reads the first `token` and latchkey reading another
    // would judge two different tokens: no reading is chosen.
    for body in [
        format!("token={token}&token=junk"),
        format!("token=junk&token={token}"),
        format!("tok%65n=junk&token={token}"),
        format!("token={token}&token"),
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/introspect"))
            .basic_auth(&client.id, Some(&client.secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "parse_error").await;
    }
    assert_eq!(app.introspect_ok(&client, &token).await["active"], true);
}

#[tokio::test]
async fn anything_but_a_live_token_is_exactly_inactive() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let deleted = app.create_key_ok(&token, company).await;
    app.delete_key(&token, company, deleted["id"].as_str().unwrap())
        .await;
    let logged_out = app.access_token(&user).await;
    app.client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&logged_out)
        .send()
        .await
        .unwrap();
    let refresh = app.login_ok(&user).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    for token in [
        "",
        "junk",
        "a.b.c",
        deleted["token"].as_str().unwrap(),
        &logged_out,
        &refresh,
    ] {
        assert_eq!(
            app.introspect_ok(&client, token).await,
            inactive(),
            "{token:?}"
        );
    }
    let no_token = app
        .client
        .post(app.url("/api/v1/introspect"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.json::<Value>().await.unwrap(), inactive());
}

#[tokio::test]
async fn disabled_users_and_revoked_users_tokens_are_inactive() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let (ada, company, ada_token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let ada_key = app.create_key_ok(&ada_token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = app.create_user("bob@example.com").await;
    let bob_token = app.access_token(&bob).await;

    app.state
        .store
        .disable_user(ada.id, &latchkey::store::audit::Actor::named("test"))
        .await
        .unwrap();
    app.state
        .store
        .revoke_user_tokens(bob.id, &latchkey::store::audit::Actor::named("test"))
        .await
        .unwrap();
    app.state.follower.catch_up().await.unwrap();

    assert_eq!(app.introspect_ok(&client, &ada_token).await, inactive());
    assert_eq!(app.introspect_ok(&client, &ada_key).await, inactive());
    assert_eq!(app.introspect_ok(&client, &bob_token).await, inactive());
    let bob_again = app.access_token(&bob).await;
    assert_eq!(app.introspect_ok(&client, &bob_again).await["active"], true);
}

#[tokio::test]
async fn a_revoked_client_is_refused_at_once() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    assert_eq!(app.introspect(&client, "x").await.status(), 200);

    app.state
        .store
        .revoke_service_client(&client.id, &latchkey::store::audit::Actor::named("test"))
        .await
        .unwrap();
    app.state.follower.catch_up().await.unwrap();

    assert_error(app.introspect(&client, "x").await, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_token_that_expires_in_the_verified_cache_becomes_inactive() {
    let app = spawn_app_with(|s| {
        // Ten seconds: room for a slow machine before the jump.
        s.tokens.access_ttl_seconds = 10;
        s.tokens.leeway_seconds = 0;
    })
    .await;
    let client = app.create_client().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    assert_eq!(app.introspect_ok(&client, &token).await["active"], true);
    assert_eq!(app.introspect_ok(&client, &token).await["active"], true);

    app.state.clock.advance(Duration::from_secs(11));
    app.state.follower.catch_up().await.unwrap();

    assert_eq!(app.introspect_ok(&client, &token).await, inactive());
}

#[tokio::test]
async fn introspection_and_forward_auth_send_no_database_query() {
    let app = spawn_app_with(|s| {
        s.revocation.poll_interval_ms = 600_000;
        s.revocation.max_staleness_seconds = 3600;
        s.api_keys.last_used_flush_seconds = 3600;
    })
    .await;
    let client = app.create_client().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Setup rang the PostgreSQL doorbell; let the follower finish reading.
    let mut before = app.state.store.statements_executed();
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let now = app.state.store.statements_executed();
        if now == before {
            break;
        }
        before = now;
    }

    for _ in 0..20 {
        for candidate in [token.as_str(), key.as_str(), "junk", ""] {
            app.introspect(&client, candidate).await;
            app.client
                .get(app.url("/api/v1/auth/verify"))
                .bearer_auth(candidate)
                .header(
                    "x-original-uri",
                    format!("/api/v1/companies/{company}/datasets/"),
                )
                .send()
                .await
                .unwrap();
        }
    }

    assert_eq!(
        app.state.store.statements_executed(),
        before,
        "the hot path queried the database"
    );
    // The counter does count: one listing is at least one statement.
    app.list_keys(&token, company).await;
    assert!(app.state.store.statements_executed() > before);
}

#[tokio::test]
async fn a_stale_revocation_state_fails_closed_and_recovers() {
    let app = spawn_app_with(|s| {
        s.revocation.poll_interval_ms = 100;
        s.revocation.max_staleness_seconds = 1;
    })
    .await;
    let client = app.create_client().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    let db = sea_orm::Database::connect(&app.db.url).await.unwrap();

    // The log becomes unreadable, as when the database is gone.
    db.execute_unprepared("ALTER TABLE revocation_events RENAME TO revocation_events_away")
        .await
        .unwrap();
    // A read already under way may still succeed; then time passes.
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.state.clock.advance(Duration::from_secs(2));

    assert_error(
        app.introspect(&client, &token).await,
        503,
        "service_unavailable",
    )
    .await;
    let verify = app
        .client
        .get(app.url("/api/v1/auth/verify"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(verify, 503, "service_unavailable").await;
    assert_error(
        app.client.get(app.url("/readyz")).send().await.unwrap(),
        503,
        "service_unavailable",
    )
    .await;

    db.execute_unprepared("ALTER TABLE revocation_events_away RENAME TO revocation_events")
        .await
        .unwrap();
    crate::helpers::eventually("the state to recover", || async {
        app.state.access.is_fresh()
    })
    .await;
    assert_eq!(app.introspect_ok(&client, &token).await["active"], true);
}

#[tokio::test]
async fn the_client_is_checked_before_the_body_is_read() {
    let app = spawn_app().await;

    let response = app.post_raw_json("/api/v1/introspect", "{not json").await;

    assert_error(response, 401, "invalid_client").await;
}
