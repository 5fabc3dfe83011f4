use std::io::Write;

use serde_json::Value;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn an_unknown_path_is_not_found_in_the_documented_shape() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/no/such/thing"))
        .send()
        .await
        .unwrap();

    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_method_not_allowed() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();

    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let app = spawn_app().await;

    let response = app
        .post_raw_json("/api/v1/auth/login", "{\"email\": ")
        .await;

    assert_error(response, 400, "parse_error").await;
}

#[tokio::test]
async fn a_missing_or_mistyped_field_is_invalid_with_its_name() {
    let app = spawn_app().await;
    let login = |body: &'static str| app.post_raw_json("/api/v1/auth/login", body);

    let missing = assert_error(login(r#"{"email": "a@b.c"}"#).await, 400, "invalid").await;
    let mistyped = assert_error(
        login(r#"{"email": 5, "password": "x"}"#).await,
        400,
        "invalid",
    )
    .await;

    assert_eq!(missing["attr"], "password");
    assert_eq!(mistyped["attr"], "email");
}

#[tokio::test]
async fn a_huge_body_is_refused_without_a_server_error() {
    let app = spawn_app().await;
    let body = format!(
        r#"{{"email": "a@b.c", "password": "{}"}}"#,
        "x".repeat(1_000_000)
    );

    let response = app.post_raw_json("/api/v1/auth/login", body).await;

    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_trailing_slash_is_optional() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/healthz/")).send().await.unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;

    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    let not_found = app.client.get(app.url("/nope")).send().await.unwrap();
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();

    assert!(!ok.headers()["x-request-id"].is_empty());
    assert_ne!(
        ok.headers()["x-request-id"],
        not_found.headers()["x-request-id"]
    );
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn readiness_reports_database_and_revocation_state() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn the_metadata_names_our_endpoints() {
    let app = spawn_app().await;

    let body: Value = app
        .client
        .get(app.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(body["issuer"], app.settings.issuer);
    assert_eq!(
        body["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.settings.issuer)
    );
    assert_eq!(
        body["introspection_endpoint"],
        format!("{}/api/v1/introspect", app.settings.issuer)
    );
}

#[tokio::test]
async fn a_compressed_body_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    // 8 MiB of JSON padding gzips to a few KiB: inflated, 128 times the
    // body limit.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(b"{\"token\": \"").unwrap();
    gzip.write_all(&vec![b'a'; 8 << 20]).unwrap();
    gzip.write_all(b"\"}").unwrap();
    let body = gzip.finish().unwrap();
    assert!(body.len() < 64 * 1024);

    for path in ["/api/v1/revoke", "/api/v1/auth/login", "/api/v1/introspect"] {
        for coding in ["gzip", "GZIP", "deflate", "br", "identity, gzip", ""] {
            let response = app
                .client
                .post(app.url(path))
                .header("content-type", "application/json")
                .header("content-encoding", coding)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let item = assert_error(response, 415, "unsupported_media_type").await;
            assert_eq!(item["attr"], Value::Null, "{path} {coding:?}");
        }
    }
    let identity = app
        .client
        .post(app.url("/api/v1/revoke"))
        .header("content-encoding", "Identity")
        .form(&[("token", "junk")])
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), 200);
}

#[tokio::test]
async fn forward_auth_ignores_the_encoding_of_a_body_meant_for_another_service() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;

    for path in [
        "/api/v1/auth/verify",
        "/api/v1/auth/verify/api/v1/datasets/",
    ] {
        let response = app
            .client
            .post(app.url(path))
            .bearer_auth(&token)
            .header("content-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}
