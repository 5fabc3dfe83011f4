//! `/api/v1/admin/*` for platform admins: companies and keys, any key
//! deleted, a user's tokens revoked or the user disabled, the audit log.

use latchkey::domain::Role;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::{assert_error, assert_invalid_token, inactive, spawn_app, Caller};

const ADMIN_GETS: [&str; 2] = ["/api/v1/admin/companies", "/api/v1/admin/audit-events"];

#[tokio::test]
async fn only_a_platform_admins_login_token_reaches_the_admin_api() {
    let app = spawn_app().await;
    let (_, _, member_token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let (admin, admin_token) = app.admin().await;
    let company = app.create_company("professional").await;
    app.add_member(&admin, company, Role::Owner).await;
    let admin_key = app.create_key_ok(&admin_token, company).await;
    let admin_key = admin_key["token"].as_str().unwrap();
    let billing = app.provisioning_client().await;

    for path in ADMIN_GETS {
        for token in [member_token.as_str(), admin_key] {
            assert_error(app.get(path, token).await, 403, "permission_denied").await;
        }
        let as_client = app.admin_request(Method::GET, path, Caller::Client(&billing));
        assert_error(as_client.send().await.unwrap(), 403, "permission_denied").await;
        let anonymous = app.client.get(app.url(path)).send().await.unwrap();
        assert_error(anonymous, 401, "not_authenticated").await;
        assert_eq!(app.get(path, &admin_token).await.status(), 200, "{path}");
    }

    // A refusal of a caller whose token was good is audited: the member's,
    // and the admin's API key. The client (whose credentials the admin API
    // does not read) and the anonymous are not.
    let audited = app.state.store.recent_audit_events(100).await.unwrap();
    let denied: Vec<_> = audited
        .iter()
        .filter(|e| e.action == "operator_api.denied")
        .collect();
    // Once per caller per minute: the member and the admin's key, each on
    // its first route; their second refusals are not written again.
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert!(denied.iter().all(|e| e.outcome == "denied"));
    assert!(denied
        .iter()
        .any(|e| e.target.as_deref() == Some("GET /api/v1/admin/companies")));
}

#[tokio::test]
async fn an_admin_lists_companies_and_their_keys_and_deletes_any_key() {
    let app = spawn_app().await;
    let client = app.create_client().await;
    let (_, company, owner_token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&owner_token, company).await;
    let key_id = key["id"].as_str().unwrap();
    let (admin, admin_token) = app.admin().await;

    let companies: Value = app
        .get("/api/v1/admin/companies", &admin_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(companies["count"], 1, "{companies}");
    assert_eq!(companies["results"][0]["id"], company.to_string());
    assert_eq!(companies["results"][0]["plan"], "professional");
    let keys: Value = app
        .get(
            &format!("/api/v1/admin/companies/{company}/api-keys"),
            &admin_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys["count"], 1, "{keys}");
    assert_eq!(keys["results"][0]["id"], key_id);
    assert!(keys["results"][0].get("token").is_none(), "{keys}");

    let path = format!("/api/v1/admin/api-keys/{key_id}");
    let delete = || {
        app.admin_request(Method::DELETE, &path, Caller::Bearer(&admin_token))
            .header("user-agent", "ops-console/1")
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), 204);
    assert_eq!(
        app.introspect_ok(&client, key["token"].as_str().unwrap())
            .await,
        inactive()
    );
    assert_error(delete().await.unwrap(), 404, "not_found").await;

    let events = app
        .audit_events(&admin_token, "action=api_key.deleted")
        .await;
    let event = &events["results"][0];
    assert_eq!(event["actor"], admin.id.to_string(), "{event}");
    assert_eq!(event["target"], key_id);
    assert_eq!(event["company_id"], company.to_string());
    assert_eq!(event["ip"], "127.0.0.1");
    assert_eq!(event["user_agent"], "ops-console/1");
    assert_eq!(event["outcome"], "success");
    assert_eq!(events["results"].as_array().unwrap().len(), 1, "{events}");
}

#[tokio::test]
async fn an_admin_revokes_a_users_tokens_then_disables_the_user() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    let (admin, admin_token) = app.admin().await;
    let post = |path: String| {
        app.admin_request(Method::POST, &path, Caller::Bearer(&admin_token))
            .send()
    };

    let revoke = post(format!("/api/v1/admin/users/{}/revoke-tokens", user.id));
    assert_eq!(revoke.await.unwrap().status(), 204);
    assert_invalid_token(app.me(&token).await).await;
    // A token issued after the cut-off works (iat has whole seconds).
    app.state.clock.advance(std::time::Duration::from_secs(2));
    let fresh = app.access_token(&user).await;
    assert_eq!(app.me(&fresh).await.status(), 200);

    let disable = post(format!("/api/v1/admin/users/{}/disable", user.id));
    assert_eq!(disable.await.unwrap().status(), 204);
    assert_invalid_token(app.me(&fresh).await).await;
    let login = app.login(&user.email, crate::helpers::PASSWORD).await;
    assert_error(login, 401, "invalid_credentials").await;

    let unknown = post(format!("/api/v1/admin/users/{}/disable", uuid::Uuid::nil()));
    assert_error(unknown.await.unwrap(), 404, "not_found").await;
    let query = format!("actor={}&limit=10", admin.id);
    let events = app.audit_events(&admin_token, &query).await;
    let actions: Vec<&str> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    // The admin's own sign-in comes first.
    assert_eq!(
        actions,
        ["user.disabled", "user.tokens_revoked", "login"],
        "{events}"
    );
    let results = events["results"].as_array().unwrap();
    assert!(results[..2]
        .iter()
        .all(|e| e["ip"] == "127.0.0.1" && e["target"] == user.id.to_string()));
}

#[tokio::test]
async fn the_audit_log_pages_with_a_cursor_and_filters_by_company_and_time() {
    let app = spawn_app().await;
    let (_, company, owner_token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    for _ in 0..3 {
        app.create_key_ok(&owner_token, company).await;
    }
    let (_, admin_token) = app.admin().await;

    let query = format!("company_id={company}&action=api_key.created&limit=2");
    let first = app.audit_events(&admin_token, &query).await;
    assert_eq!(first["results"].as_array().unwrap().len(), 2, "{first}");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = app
        .audit_events(&admin_token, &format!("{query}&cursor={cursor}"))
        .await;
    assert_eq!(second["results"].as_array().unwrap().len(), 1, "{second}");
    let ids: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|page| page["results"].as_array().unwrap().clone())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let third = app
        .audit_events(&admin_token, &format!("{query}&cursor={}", ids[2]))
        .await;
    assert_eq!(third["results"], serde_json::json!([]));
    assert_eq!(third["next_cursor"], Value::Null);

    let other = uuid::Uuid::now_v7();
    let none = app
        .audit_events(&admin_token, &format!("company_id={other}"))
        .await;
    assert_eq!(none["results"], serde_json::json!([]));
    let later = (app.state.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
    let since = app
        .audit_events(&admin_token, &format!("since={}", urlencode(&later)))
        .await;
    assert_eq!(since["results"], serde_json::json!([]));
    let until = app
        .audit_events(
            &admin_token,
            &format!("until={}&action=api_key.created", urlencode(&later)),
        )
        .await;
    assert_eq!(until["results"].as_array().unwrap().len(), 3);

    let bad = app
        .get("/api/v1/admin/audit-events?since=yesterday", &admin_token)
        .await;
    assert_error(bad, 400, "invalid").await;
}

fn urlencode(value: &str) -> String {
    value.replace('+', "%2B").replace(':', "%3A")
}
