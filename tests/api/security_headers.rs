//! Every response carries the security headers, errors and 404s included;
//! the pages keep their own CSP, and anything not meant to be cached is not.

use latchkey::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// One request of the table, and what it must answer.
struct Case {
    method: Method,
    path: String,
    bearer: Option<String>,
    body: Option<Value>,
    status: u16,
    is_page: bool,
}

fn case(method: Method, path: impl Into<String>, status: u16) -> Case {
    let path = path.into();
    Case {
        is_page: path.starts_with("/ui"),
        method,
        path,
        bearer: None,
        body: None,
        status,
    }
}

impl Case {
    fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let keys = format!("/api/v1/companies/{company}/api-keys");
    let login = |password: &str| json!({"email": "ada@example.com", "password": password});
    let table = [
        case(Method::GET, "/healthz", 200),
        case(Method::GET, "/readyz", 200),
        case(Method::GET, "/no/such/thing", 404),
        case(Method::GET, "/api/v1/auth/login", 405),
        case(Method::POST, "/api/v1/auth/login", 401).json(login("wrong")),
        case(Method::POST, "/api/v1/auth/login", 200).json(login(crate::helpers::PASSWORD)),
        case(Method::GET, "/api/v1/auth/me", 401),
        case(Method::GET, "/api/v1/auth/me", 200).bearer(&token),
        case(Method::POST, "/api/v1/introspect", 401),
        case(Method::GET, keys.clone(), 200).bearer(&token),
        case(Method::POST, keys.clone(), 201)
            .bearer(&token)
            .json(json!({"name": "ci", "expires_in": 86_400})),
        case(Method::GET, format!("{keys}/not-a-uuid"), 404).bearer(&token),
        case(Method::GET, "/ui/login", 200),
        case(Method::GET, "/ui/no/such/page", 404),
    ];

    for case in table {
        let mut request = app.client.request(case.method.clone(), app.url(&case.path));
        if let Some(token) = &case.bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &case.body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let what = format!("{} {}", case.method, case.path);
        assert_eq!(response.status(), case.status, "{what}");
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
        let expected_csp = if case.is_page {
            latchkey::web::CONTENT_SECURITY_POLICY
        } else {
            API_CSP
        };
        assert_eq!(header("content-security-policy"), expected_csp, "{what}");
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
