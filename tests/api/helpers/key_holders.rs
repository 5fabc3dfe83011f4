//! A company whose member holds keys: for the ways keys end without being
//! deleted.

use latchkey::domain::Role;
use serde_json::Value;
use uuid::Uuid;

use super::{TestApp, TestUser};

/// A company with an owner, and a member holding two keys.
pub struct Company {
    pub id: Uuid,
    pub owner_token: String,
    pub member: TestUser,
    pub member_keys: [Value; 2],
    pub owners_key: Value,
}

impl TestApp {
    pub async fn company_with_a_keyholding_member(&self) -> Company {
        let (_, id, owner_token) = self
            .member_of_new_company("owner@example.com", "professional", Role::Owner)
            .await;
        let member = self.create_user("member@example.com").await;
        self.add_member(&member, id, Role::Member).await;
        let member_token = self.access_token(&member).await;
        let member_keys = [
            self.create_key_ok(&member_token, id).await,
            self.create_key_ok(&member_token, id).await,
        ];
        let owners_key = self.create_key_ok(&owner_token, id).await;
        Company {
            id,
            owner_token,
            member,
            member_keys,
            owners_key,
        }
    }

    /// The company's keys as its owner sees them, by id.
    pub async fn listed(&self, company: &Company) -> std::collections::HashMap<String, Value> {
        let listing: Value = self
            .list_keys(&company.owner_token, company.id)
            .await
            .json()
            .await
            .unwrap();
        listing["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| (key["id"].as_str().unwrap().to_owned(), key.clone()))
            .collect()
    }

    /// Runs an ops command; it must succeed.
    pub fn ops(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        self.cli().run_json(&args, "")
    }
}
