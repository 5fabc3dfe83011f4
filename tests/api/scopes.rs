//! Key scopes (issue #13): chosen at creation from `api_keys.scopes`, fixed,
//! listed, signed into the token, and passed on by introspection and
//! forward auth, which refuses a key lacking a scope the gateway requires.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latchkey::domain::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_with, TestApp, DAY};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn create_scoped(app: &TestApp, token: &str, company: uuid::Uuid, scopes: Value) -> Value {
    let response = app
        .create_key(
            token,
            company,
            json!({ "name": "scoped", "expires_in": DAY, "scopes": scopes }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn verify_requiring(app: &TestApp, token: &str, required: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/api/v1/auth/verify"))
        .bearer_auth(token);
    if let Some(required) = required {
        request = request.header("x-auth-required-scopes", required);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_scoped_key_shows_its_scopes_everywhere() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;

    // Asked for in any order; kept in the order of the setting.
    let created = create_scoped(
        &app,
        &token,
        company,
        json!(["datasets:write", "datasets:read"]),
    )
    .await;
    let both = json!(["datasets:read", "datasets:write"]);
    assert_eq!(created["scopes"], both);
    let key = created["token"].as_str().unwrap();
    let key_id = created["id"].as_str().unwrap();
    assert_eq!(claims_of(key)["scope"], "datasets:read datasets:write");

    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing["results"][0]["scopes"], both);
    let shown: Value = app
        .get(
            &format!("/api/v1/companies/{company}/api-keys/{key_id}"),
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["scopes"], both);

    let client = app.create_client().await;
    let introspected = app.introspect_ok(&client, key).await;
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["scope"], "datasets:read datasets:write");

    let verified = app.verify(Some(key), None).await;
    assert_eq!(verified.status(), 200);
    assert_eq!(
        verified.headers()["x-auth-scopes"],
        "datasets:read datasets:write"
    );

    let cli = app.cli();
    let company = company.to_string();
    let listed = cli.run_json(&["api-key", "list", "--company", &company, "--json"], "");
    assert_eq!(listed[0]["scopes"], both);
    let table = cli.run(&["api-key", "list", "--company", &company], "");
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("datasets:read datasets:write"), "{table}");
}

#[tokio::test]
async fn a_key_without_scopes_has_its_creators_full_rights_and_no_scope_anywhere() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;

    for body in [
        json!({ "name": "full", "expires_in": DAY }),
        json!({ "name": "full too", "expires_in": DAY, "scopes": null }),
    ] {
        let response = app.create_key(&token, company, body).await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["scopes"], Value::Null);
        let key = created["token"].as_str().unwrap();
        assert!(claims_of(key).get("scope").is_none());

        let client = app.create_client().await;
        let introspected = app.introspect_ok(&client, key).await;
        assert_eq!(introspected["active"], true);
        assert!(introspected.get("scope").is_none(), "{introspected}");
        let verified = verify_requiring(&app, key, Some("datasets:write")).await;
        assert_eq!(verified.status(), 200);
        assert!(verified.headers().get("x-auth-scopes").is_none());
    }
    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    for key in listing["results"].as_array().unwrap() {
        assert_eq!(key["scopes"], Value::Null);
    }
}

#[tokio::test]
async fn bad_scopes_are_refused_on_the_scopes_field_and_make_no_key() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;

    for scopes in [
        json!(["datasets:admin"]),
        json!(["datasets:read", "datasets:read"]),
        json!([""]),
        json!(["datasets:read datasets:write"]),
        json!([]),
        json!("datasets:read"),
        json!([1]),
        json!([null]),
        json!({ "datasets:read": true }),
        json!(false),
    ] {
        let body = json!({ "name": "bad", "expires_in": DAY, "scopes": scopes });
        let response = app.create_key(&token, company, body).await;
        let error = assert_error(response, 400, "invalid").await;
        assert_eq!(error["attr"], "scopes", "{scopes}");
    }
    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing["count"], 0);
}

#[tokio::test]
async fn the_allowed_scopes_are_a_setting() {
    let app = spawn_app_with(|settings| {
        settings.api_keys.scopes = vec!["billing:read".to_owned()];
    })
    .await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;

    let body = json!({ "name": "k", "expires_in": DAY, "scopes": ["datasets:read"] });
    let response = app.create_key(&token, company, body).await;
    let error = assert_error(response, 400, "invalid").await;
    assert!(
        error["detail"].as_str().unwrap().contains("billing:read"),
        "{error}"
    );
    let created = create_scoped(&app, &token, company, json!(["billing:read"])).await;
    assert_eq!(created["scopes"], json!(["billing:read"]));
}

#[tokio::test]
async fn forward_auth_refuses_a_key_lacking_the_gateways_required_scope() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let reader = create_scoped(&app, &token, company, json!(["datasets:read"])).await;
    let reader = reader["token"].as_str().unwrap();

    assert_eq!(
        verify_requiring(&app, reader, Some("datasets:read"))
            .await
            .status(),
        200
    );
    let refused = verify_requiring(&app, reader, Some("datasets:read datasets:write")).await;
    assert_eq!(
        refused.headers()["www-authenticate"],
        r#"Bearer realm="latchkey", error="insufficient_scope", scope="datasets:write""#
    );
    assert_eq!(refused.headers()["cache-control"], "no-store");
    let error = assert_error(refused, 403, "insufficient_scope").await;
    assert_eq!(error["extra"], json!({ "scope": "datasets:write" }));

    // A login token holds every scope, as its user does.
    let login = verify_requiring(&app, &token, Some("datasets:write")).await;
    assert_eq!(login.status(), 200);

    // A gateway's malformed requirement refuses rather than lets through.
    for malformed in ["", " ", "datasets:read\"x"] {
        let response = verify_requiring(&app, reader, Some(malformed)).await;
        assert_error(response, 403, "permission_denied").await;
    }
    // A bad token is a 401 whatever the scope.
    let response = verify_requiring(&app, "not-a-token", Some("datasets:read")).await;
    assert_error(response, 401, "invalid_token").await;
}

#[tokio::test]
async fn a_scoped_key_cannot_manage_api_keys_but_an_unscoped_one_can() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let reader = create_scoped(&app, &token, company, json!(["datasets:read"])).await;
    let reader_token = reader["token"].as_str().unwrap();
    let unscoped = app.create_key_ok(&token, company).await;
    let unscoped_token = unscoped["token"].as_str().unwrap();
    let unscoped_id = unscoped["id"].as_str().unwrap();

    assert_error(
        app.list_keys(reader_token, company).await,
        403,
        "permission_denied",
    )
    .await;
    assert_error(
        app.delete_key(reader_token, company, unscoped_id).await,
        403,
        "permission_denied",
    )
    .await;
    assert_eq!(app.me(unscoped_token).await.status(), 200);
    assert_eq!(app.list_keys(unscoped_token, company).await.status(), 200);
    assert_eq!(
        app.me(reader_token).await.status(),
        200,
        "/me stays readable"
    );
}
