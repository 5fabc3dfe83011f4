use latchkey::domain::Role;
use uuid::Uuid;

use crate::helpers::{assert_error, assert_invalid_token, spawn_app};

fn datasets(company: Uuid) -> String {
    format!("/api/v1/companies/{company}/datasets/")
}

#[tokio::test]
async fn a_live_token_is_admitted_with_identity_headers() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let key = app.create_key_ok(&token, company).await;

    let short = app.verify(Some(&token), Some(&datasets(company))).await;
    let private = app
        .verify(
            Some(key["token"].as_str().unwrap()),
            Some(&datasets(company)),
        )
        .await;

    assert_eq!(short.status(), 200);
    assert_eq!(short.headers()["x-auth-subject"], user.id.to_string());
    assert_eq!(short.headers()["x-auth-token-kind"], "short_lived");
    assert!(short.headers().contains_key("x-auth-token-id"));
    assert!(!short.headers().contains_key("x-auth-company-id"));
    assert_eq!(private.status(), 200);
    assert_eq!(private.headers()["x-auth-token-kind"], "private");
    assert_eq!(
        private.headers()["x-auth-token-id"],
        key["id"].as_str().unwrap()
    );
    assert_eq!(private.headers()["x-auth-company-id"], company.to_string());
}

#[tokio::test]
async fn no_token_or_a_bad_one_is_turned_away() {
    let app = spawn_app().await;

    assert_error(app.verify(None, None).await, 401, "not_authenticated").await;
    assert_invalid_token(app.verify(Some("junk"), None).await).await;
}

#[tokio::test]
async fn a_deleted_key_is_turned_away() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&token, company).await;
    app.delete_key(&token, company, key["id"].as_str().unwrap())
        .await;

    assert_invalid_token(
        app.verify(
            Some(key["token"].as_str().unwrap()),
            Some(&datasets(company)),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn a_token_may_not_reach_another_company() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let key = app.create_key_ok(&token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.create_company("professional").await;

    for candidate in [&token, &key] {
        assert_error(
            app.verify(Some(candidate), Some(&datasets(other))).await,
            403,
            "permission_denied",
        )
        .await;
        let disguised = format!("/api/v1/x/../compan%69es/{other}/datasets/");
        assert_error(
            app.verify(Some(candidate), Some(&disguised)).await,
            403,
            "permission_denied",
        )
        .await;
        let junk_id = "/api/v1/companies/not-a-company/datasets/";
        assert_error(
            app.verify(Some(candidate), Some(junk_id)).await,
            403,
            "permission_denied",
        )
        .await;
    }
    let traefik = app
        .client
        .get(app.url("/api/v1/auth/verify"))
        .bearer_auth(&key)
        .header("x-forwarded-uri", datasets(other))
        .send()
        .await
        .unwrap();
    assert_error(traefik, 403, "permission_denied").await;
    let envoy = app
        .get(&format!("/api/v1/auth/verify{}", datasets(other)), &key)
        .await;
    assert_error(envoy, 403, "permission_denied").await;
    assert_eq!(
        app.get(&format!("/api/v1/auth/verify{}", datasets(company)), &key)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn gateways_may_forward_any_method() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;

    let response = app
        .client
        .post(app.url("/api/v1/auth/verify"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_original_uri_that_is_not_ascii_is_still_checked() {
    let app = spawn_app().await;
    let (_, _, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let other = app.create_company("professional").await;
    let mut uri = datasets(other).into_bytes();
    uri.extend_from_slice(b"?x=\xC3\xA9");

    let response = app
        .client
        .get(app.url("/api/v1/auth/verify"))
        .bearer_auth(&token)
        .header(
            "x-original-uri",
            reqwest::header::HeaderValue::from_bytes(&uri).unwrap(),
        )
        .send()
        .await
        .unwrap();

    assert_error(response, 403, "permission_denied").await;
}

#[tokio::test]
async fn a_path_that_climbs_out_of_its_company_is_refused() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let other = app.create_company("professional").await;

    for uri in [
        format!("/api/v1/companies/{other}/datasets/../../{company}/datasets/"),
        format!("/api/v1/companies/{other}/datasets/..%2F..%2F{company}/datasets/"),
    ] {
        assert_error(
            app.verify(Some(&token), Some(&uri)).await,
            403,
            "permission_denied",
        )
        .await;
    }
}
