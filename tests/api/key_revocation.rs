//! Removing a member, disabling a user and `user revoke-tokens` end the
//! affected API keys for good: listed as `revoked` (who, when, why), never
//! counted towards the plan's limit, and never brought back.

use latchkey::domain::Role;
use latchkey::store::audit::Actor;
use serde_json::{json, Value};

use crate::helpers::{assert_error, eventually, inactive, spawn_app, spawn_app_with};

fn token(key: &Value) -> &str {
    key["token"].as_str().unwrap()
}

fn id(key: &Value) -> &str {
    key["id"].as_str().unwrap()
}

fn assert_revoked(listed: &Value, reason: &str) {
    assert_eq!(listed["status"], "revoked", "{listed}");
    assert_eq!(listed["revoked_reason"], reason, "{listed}");
    let by = listed["revoked_by"].as_str().unwrap();
    assert!(by.starts_with("cli:"), "{listed}");
    assert!(listed["revoked_at"].is_string(), "{listed}");
}

fn assert_untouched(listed: &Value) {
    assert_eq!(listed["status"], "active", "{listed}");
    for field in ["revoked_at", "revoked_by", "revoked_reason"] {
        assert_eq!(listed[field], Value::Null, "{field} of {listed}");
    }
}

#[tokio::test]
async fn removing_a_member_ends_their_keys_for_good_even_when_they_are_added_again() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let company = app.company_with_a_keyholding_member().await;
    let (company_id, member_id) = (company.id.to_string(), company.member.id.to_string());

    app.ops(&[
        "member",
        "remove",
        "--company",
        &company_id,
        "--user",
        &member_id,
    ]);
    for key in &company.member_keys {
        eventually("the removal reaching the server", || async {
            app.introspect_ok(&client, token(key)).await == inactive()
        })
        .await;
    }

    let listed = app.listed(&company).await;
    assert_eq!(listed.len(), 3, "revoked keys stay listed");
    for key in &company.member_keys {
        assert_revoked(&listed[id(key)], "member_removed");
    }
    assert_untouched(&listed[id(&company.owners_key)]);
    let from_cli = app.ops(&["api-key", "list", "--company", &company_id]);
    let from_cli: Vec<&Value> = from_cli
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["created_by"] == member_id.as_str())
        .collect();
    assert_eq!(from_cli.len(), 2);
    for listed in from_cli {
        assert_revoked(listed, "member_removed");
    }

    // Added again: the old keys stay dead, here and on a fresh instance.
    app.ops(&[
        "member",
        "add",
        "--company",
        &company_id,
        "--user",
        &member_id,
        "--role",
        "member",
    ]);
    let member_token = app.access_token(&company.member).await;
    eventually("the member coming back", || async {
        app.list_keys(&member_token, company.id).await.status() == 200
    })
    .await;
    let restarted = app.replica().await;
    let restarted_client = restarted.create_client().await;
    for key in &company.member_keys {
        assert_eq!(app.introspect_ok(&client, token(key)).await, inactive());
        assert_eq!(
            restarted.introspect_ok(&restarted_client, token(key)).await,
            inactive()
        );
        assert_revoked(&app.listed(&company).await[id(key)], "member_removed");
    }
    let owners_key = token(&company.owners_key);
    assert_eq!(
        restarted.introspect_ok(&restarted_client, owners_key).await["active"],
        true
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_keys_in_every_company() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let company = app.company_with_a_keyholding_member().await;
    let second = app.create_company("professional").await;
    app.add_member(&company.member, second, Role::Owner).await;
    let member_token = app.access_token(&company.member).await;
    let elsewhere = app.create_key_ok(&member_token, second).await;

    app.ops(&["user", "disable", &company.member.id.to_string()]);

    for key in company.member_keys.iter().chain([&elsewhere]) {
        eventually("the disable reaching the server", || async {
            app.introspect_ok(&client, token(key)).await == inactive()
        })
        .await;
    }
    let listed = app.listed(&company).await;
    for key in &company.member_keys {
        assert_revoked(&listed[id(key)], "user_disabled");
    }
    assert_untouched(&listed[id(&company.owners_key)]);
    let from_cli = app.ops(&["api-key", "list", "--user", &company.member.id.to_string()]);
    assert_eq!(from_cli.as_array().unwrap().len(), 3);
    for listed in from_cli.as_array().unwrap() {
        assert_revoked(listed, "user_disabled");
    }
}

#[tokio::test]
async fn revoke_tokens_ends_the_users_keys_and_new_ones_work() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let company = app.company_with_a_keyholding_member().await;

    app.ops(&["user", "revoke-tokens", &company.member.id.to_string()]);

    for key in &company.member_keys {
        eventually("revoke-tokens reaching the server", || async {
            app.introspect_ok(&client, token(key)).await == inactive()
        })
        .await;
    }
    let member_token = app.access_token(&company.member).await;
    let listing: Value = app
        .list_keys(&member_token, company.id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listing["count"], 2);
    for listed in listing["results"].as_array().unwrap() {
        assert_revoked(listed, "tokens_revoked");
    }
    assert_untouched(&app.listed(&company).await[id(&company.owners_key)]);
    let fresh = app.create_key_ok(&member_token, company.id).await;
    assert_eq!(
        app.introspect_ok(&client, token(&fresh)).await["active"],
        true
    );
}

#[tokio::test]
async fn revoked_keys_do_not_count_towards_the_plan_limit() {
    let app =
        spawn_app_with(|s| s.plans.get_mut("professional").unwrap().max_active_keys = 3).await;
    let company = app.company_with_a_keyholding_member().await;
    let member_token = app.access_token(&company.member).await;
    let body = json!({ "name": "x", "expires_in": 86_400 });
    assert_error(
        app.create_key(&member_token, company.id, body.clone())
            .await,
        403,
        "api_key_limit_reached",
    )
    .await;

    assert!(app
        .state
        .accounts
        .remove_member(company.member.id, company.id, &Actor::named("cli:test"))
        .await
        .unwrap());
    app.add_member(&company.member, company.id, Role::Member)
        .await;
    let member_token = app.access_token(&company.member).await;

    for _ in 0..2 {
        app.create_key_ok(&member_token, company.id).await;
    }
    assert_error(
        app.create_key(&member_token, company.id, body).await,
        403,
        "api_key_limit_reached",
    )
    .await;
    let listed = app.listed(&company).await;
    let statuses: Vec<&str> = listed
        .values()
        .map(|k| k["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "active").count(), 3);
    assert_eq!(statuses.iter().filter(|s| **s == "revoked").count(), 2);
}
