//! Helpers for forward auth: as a client library sends it, and byte for
//! byte as each gateway does.

use latchkey::domain::Role;
use uuid::Uuid;

use super::TestApp;

/// How a gateway hands the original path to forward auth.
#[derive(Debug, Clone, Copy)]
pub enum Gateway {
    Nginx,
    Traefik,
    Envoy,
}

impl TestApp {
    pub async fn verify(
        &self,
        token: Option<&str>,
        original_uri: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.get(self.url("/api/v1/auth/verify"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(uri) = original_uri {
            request = request.header("x-original-uri", uri);
        }
        request.send().await.unwrap()
    }
}

impl TestApp {
    /// The status forward auth gives `token` for `original`, passed the
    /// gateway's way, as exact bytes (an HTTP client library would tidy the
    /// path up first).
    pub async fn verify_as(&self, gateway: Gateway, token: &str, original: &str) -> u16 {
        let (target, header) = match gateway {
            Gateway::Nginx => ("/api/v1/auth/verify".to_owned(), "x-original-uri"),
            Gateway::Traefik => ("/api/v1/auth/verify".to_owned(), "x-forwarded-uri"),
            Gateway::Envoy => (format!("/api/v1/auth/verify{original}"), ""),
        };
        let mut request =
            format!("GET {target} HTTP/1.1\r\nhost: latchkey\r\nauthorization: Bearer {token}\r\n");
        if !header.is_empty() {
            request.push_str(&format!("{header}: {original}\r\n"));
        }
        request.push_str("connection: close\r\n\r\n");
        self.raw_status(request.into_bytes()).await
    }
}

impl TestApp {
    /// `raw_exchange` with this app; the status of its answer.
    pub async fn raw_status(&self, request: Vec<u8>) -> u16 {
        let port = self.port();
        tokio::task::spawn_blocking(move || status_of(&raw_exchange(port, &request)))
            .await
            .unwrap()
    }
}

impl TestApp {
    pub async fn spawn_for_hostile_paths() -> HostilePathFixture {
        let app = super::spawn_app().await;
        let (_, company_a, short_a) = app
            .member_of_new_company("a@example.com", "professional", Role::Member)
            .await;
        let (_, company_b, short_b) = app
            .member_of_new_company("b@example.com", "professional", Role::Member)
            .await;
        let key = |created: serde_json::Value| created["token"].as_str().unwrap().to_owned();
        let key_a = key(app.create_key_ok(&short_a, company_a).await);
        let key_b = key(app.create_key_ok(&short_b, company_b).await);
        HostilePathFixture {
            app,
            company_a,
            company_b,
            short_a,
            key_a,
            short_b,
            key_b,
        }
    }
}

/// Sends `request` byte for byte to a local port (it should ask for
/// `connection: close`) and returns the whole response, lower-cased: for
/// paths an HTTP client library would tidy up before sending.
pub fn raw_exchange(port: u16, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = Vec::new();
    // A server may close without reading everything: keep what came.
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).to_ascii_lowercase()
}

/// The status code of a raw response.
pub fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {response:?}"))
}

/// Two companies, A and B, each with a member holding a login token and an
/// API key.
pub struct HostilePathFixture {
    pub app: TestApp,
    pub company_a: Uuid,
    pub company_b: Uuid,
    pub short_a: String,
    pub key_a: String,
    pub short_b: String,
    pub key_b: String,
}

impl HostilePathFixture {
    /// Every token, with whether it is company A's.
    pub fn tokens(&self) -> [(&str, bool); 4] {
        [
            (&self.short_a, true),
            (&self.key_a, true),
            (&self.short_b, false),
            (&self.key_b, false),
        ]
    }
}
