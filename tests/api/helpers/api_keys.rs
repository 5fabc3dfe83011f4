//! Helpers for API keys and RFC 7009 revocation.

use latchkey::domain::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{TestApp, TestUser};

pub const DAY: i64 = 86_400;

impl TestApp {
    pub async fn create_key(&self, token: &str, company: Uuid, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/companies/{company}/api-keys")))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a 30-day key named "ci", then "ci 2", "ci 3"… on later calls.
    pub async fn create_key_ok(&self, token: &str, company: Uuid) -> Value {
        let made = self
            .keys_made
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = match made {
            0 => "ci".to_owned(),
            n => format!("ci {}", n + 1),
        };
        let response = self
            .create_key(
                token,
                company,
                json!({ "name": name, "expires_in": 30 * DAY }),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn list_keys(&self, token: &str, company: Uuid) -> reqwest::Response {
        self.get(&format!("/api/v1/companies/{company}/api-keys"), token)
            .await
    }

    pub async fn delete_key(&self, token: &str, company: Uuid, key: &str) -> reqwest::Response {
        self.client
            .delete(self.url(&format!("/api/v1/companies/{company}/api-keys/{key}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// A user with the given role in a new company on `plan`, and their login token.
    pub async fn member_of_new_company(
        &self,
        email: &str,
        plan: &str,
        role: Role,
    ) -> (TestUser, Uuid, String) {
        let user = self.create_user(email).await;
        let company = self.create_company(plan).await;
        self.add_member(&user, company, role).await;
        let token = self.access_token(&user).await;
        (user, company, token)
    }
}

impl TestApp {
    pub async fn revoke(&self, token: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/revoke"))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
    }
}
