//! Every response carries the security headers, errors and 404s included;
//! the pages keep their own CSP, and anything not meant to be cached is not.

use latchkey::domain::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let keys = format!("/api/v1/companies/{company}/api-keys");
    let bad_login = json!({"email": "ada@example.com", "password": "wrong"});
    let good_login = json!({"email": "ada@example.com", "password": crate::helpers::PASSWORD});
    // (method, path, bearer token, JSON body, expected status, is a page)
    let table: Vec<(
        Method,
        String,
        Option<&str>,
        Option<serde_json::Value>,
        u16,
        bool,
    )> = vec![
        (Method::GET, "/healthz".into(), None, None, 200, false),
        (Method::GET, "/readyz".into(), None, None, 200, false),
        (Method::GET, "/no/such/thing".into(), None, None, 404, false),
        (
            Method::GET,
            "/api/v1/auth/login".into(),
            None,
            None,
            405,
            false,
        ),
        (
            Method::POST,
            "/api/v1/auth/login".into(),
            None,
            Some(bad_login),
            401,
            false,
        ),
        (
            Method::POST,
            "/api/v1/auth/login".into(),
            None,
            Some(good_login),
            200,
            false,
        ),
        (
            Method::GET,
            "/api/v1/auth/me".into(),
            None,
            None,
            401,
            false,
        ),
        (
            Method::GET,
            "/api/v1/auth/me".into(),
            Some(&token),
            None,
            200,
            false,
        ),
        (
            Method::POST,
            "/api/v1/introspect".into(),
            None,
            None,
            401,
            false,
        ),
        (Method::GET, keys.clone(), Some(&token), None, 200, false),
        (
            Method::POST,
            keys.clone(),
            Some(&token),
            Some(json!({"name": "ci", "expires_in": 86_400})),
            201,
            false,
        ),
        (
            Method::GET,
            format!("{keys}/not-a-uuid"),
            Some(&token),
            None,
            404,
            false,
        ),
        (Method::GET, "/ui/login".into(), None, None, 200, true),
        (
            Method::GET,
            "/ui/no/such/page".into(),
            None,
            None,
            404,
            true,
        ),
    ];

    for (method, path, bearer, body, status, is_page) in table {
        let mut request = app.client.request(method.clone(), app.url(&path));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let what = format!("{method} {path}");
        assert_eq!(response.status(), status, "{what}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .unwrap_or_else(|| panic!("{what}: no {name}"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(header("cache-control"), "no-store", "{what}");
        let csp = header("content-security-policy");
        if is_page {
            assert_eq!(csp, latchkey::web::CONTENT_SECURITY_POLICY, "{what}");
        } else {
            assert_eq!(csp, API_CSP, "{what}");
        }
    }
}

#[tokio::test]
async fn a_refused_compressed_body_carries_them_too() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-encoding", "gzip")
        .body("x")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 415);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["content-security-policy"], API_CSP);
}

#[tokio::test]
async fn the_public_key_set_keeps_its_own_caching() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["content-security-policy"], API_CSP);
}
