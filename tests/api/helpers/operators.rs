//! Helpers for the admin and provisioning API.

use latchkey::domain::Email;
use latchkey::store::audit::Actor;
use secrecy::SecretString;
use serde_json::Value;

use super::{ServiceClient, TestApp, TestUser, PASSWORD};

/// How a request to the admin API is signed.
pub enum Caller<'a> {
    Bearer(&'a str),
    Client(&'a ServiceClient),
}

impl TestApp {
    /// A platform admin (`is_admin`) and their login token.
    pub async fn admin(&self) -> (TestUser, String) {
        let password = SecretString::from(PASSWORD.to_owned());
        let hash = latchkey::passwords::hash_blocking(&password).unwrap();
        let email = Email::parse("root@example.com").unwrap();
        let user = self
            .state
            .store
            .create_user(&email, hash, true, |u| {
                latchkey::store::audit::Actor::named("test").entry("user.created", None, u.id)
            })
            .await
            .unwrap();
        let user = TestUser {
            id: user.id,
            email: user.email,
        };
        let token = self.access_token(&user).await;
        (user, token)
    }

    /// A service client granted provisioning, in force here.
    pub async fn provisioning_client(&self) -> ServiceClient {
        let created = self
            .state
            .clients
            .create("billing", true, &Actor::named("test"))
            .await
            .unwrap();
        ServiceClient {
            id: created.client_id,
            secret: created.client_secret,
        }
    }

    /// A request to the admin API, signed by `caller`, with an optional body.
    pub fn admin_request(
        &self,
        method: reqwest::Method,
        path: &str,
        caller: Caller<'_>,
    ) -> reqwest::RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match caller {
            Caller::Bearer(token) => request.bearer_auth(token),
            Caller::Client(client) => request.basic_auth(&client.id, Some(&client.secret)),
        }
    }

    /// The newest audit events, as the admin API lists them.
    pub async fn audit_events(&self, admin_token: &str, query: &str) -> Value {
        let response = self
            .get(&format!("/api/v1/admin/audit-events?{query}"), admin_token)
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

impl TestApp {
    /// A user created through the provisioning API without a password: the
    /// invitation the API answers with (`token`, `link`, …).
    pub async fn invite(&self, email: &str) -> Value {
        let billing = self.provisioning_client().await;
        let created: Value = self
            .admin_request(
                reqwest::Method::POST,
                "/api/v1/admin/users",
                Caller::Client(&billing),
            )
            .json(&serde_json::json!({ "email": email }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["invitation"].clone()
    }
}
