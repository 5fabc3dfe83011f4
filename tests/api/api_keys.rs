use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latchkey::domain::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_error, assert_invalid_token, spawn_app, spawn_app_with, DAY};

fn claims_of(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    let claims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (header, claims)
}

#[tokio::test]
async fn a_key_is_created_listed_used_and_deleted_for_good() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;

    let created = app.create_key_ok(&token, company).await;
    let key = created["token"].as_str().unwrap();
    let key_id = created["id"].as_str().unwrap();
    assert_eq!(created["company_id"], company.to_string());
    assert_eq!(created["name"], "ci");

    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing["count"], 1);
    let listed = &listing["results"][0];
    assert_eq!(listed["id"], key_id);
    assert_eq!(listed["expires_at"], created["expires_at"]);
    assert_eq!(listed["status"], "active");
    assert_eq!(listed["created_by"], user.id.to_string());
    assert!(
        listed.get("token").is_none(),
        "the token is shown only at creation"
    );

    let me: Value = app.me(key).await.json().await.unwrap();
    assert_eq!(me["id"], user.id.to_string());

    assert_eq!(app.delete_key(&token, company, key_id).await.status(), 204);
    assert_invalid_token(app.me(key).await).await;
    assert_error(
        app.delete_key(&token, company, key_id).await,
        404,
        "not_found",
    )
    .await;
    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing, json!({ "count": 0, "results": [] }));
}

#[tokio::test]
async fn the_private_token_carries_its_key_and_company() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;

    let created = app.create_key_ok(&token, company).await;
    let (header, claims) = claims_of(created["token"].as_str().unwrap());

    assert_eq!(header["typ"], "apikey+jwt");
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(claims["kind"], "private");
    assert_eq!(claims["company_id"], company.to_string());
    assert_eq!(claims["sub"], user.id.to_string());
    assert_eq!(claims["jti"], created["id"]);
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap(), expires_at.timestamp());
    assert!(
        (claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() - 30 * DAY).abs() <= 1
    );
}

#[tokio::test]
async fn a_private_token_cannot_create_keys_but_can_list_its_company() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = app
        .create_key(&key, company, json!({ "name": "x", "expires_in": DAY }))
        .await;

    assert_error(response, 403, "short_lived_token_required").await;
    assert_eq!(app.list_keys(&key, company).await.status(), 200);
}

#[tokio::test]
async fn a_company_out_of_reach_is_not_found() {
    let app = spawn_app().await;
    let (_, _, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let other = app.create_company("professional").await;
    let body = json!({ "name": "x", "expires_in": DAY });

    assert_error(
        app.create_key(&token, other, body.clone()).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.create_key(&token, Uuid::new_v4(), body).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.list_keys(&token, other).await, 404, "not_found").await;
    assert_error(
        app.get("/api/v1/companies/not-a-uuid/api-keys", &token)
            .await,
        404,
        "not_found",
    )
    .await;
    let bad_key = format!("/api/v1/companies/{other}/api-keys/123");
    assert_error(app.get(&bad_key, &token).await, 404, "not_found").await;
}

#[tokio::test]
async fn members_reach_their_own_keys_and_admins_reach_all() {
    let app = spawn_app().await;
    let (_, company, owner_token) = app
        .member_of_new_company("owner@example.com", "professional", Role::Owner)
        .await;
    let member = app.create_user("member@example.com").await;
    app.add_member(&member, company, Role::Member).await;
    let member_token = app.access_token(&member).await;
    let admin = app.create_user("admin@example.com").await;
    app.add_member(&admin, company, Role::Admin).await;
    let admin_token = app.access_token(&admin).await;

    let owners_key = app.create_key_ok(&owner_token, company).await;
    let members_key = app.create_key_ok(&member_token, company).await;
    let owners_id = owners_key["id"].as_str().unwrap();
    let members_id = members_key["id"].as_str().unwrap();

    let seen_by_member: Value = app
        .list_keys(&member_token, company)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen_by_member["count"], 1);
    assert_eq!(seen_by_member["results"][0]["id"], members_id);
    let seen_by_admin: Value = app
        .list_keys(&admin_token, company)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen_by_admin["count"], 2);
    let path = format!("/api/v1/companies/{company}/api-keys/{owners_id}");
    assert_error(app.get(&path, &member_token).await, 404, "not_found").await;
    assert_eq!(app.get(&path, &admin_token).await.status(), 200);

    assert_error(
        app.delete_key(&member_token, company, owners_id).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.me(owners_key["token"].as_str().unwrap()).await.status(),
        200
    );
    assert_eq!(
        app.delete_key(&admin_token, company, owners_id)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.delete_key(&member_token, company, members_id)
            .await
            .status(),
        204
    );
}

#[tokio::test]
async fn a_plan_without_api_keys_cannot_create_them() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "free", Role::Owner)
        .await;

    let response = app
        .create_key(&token, company, json!({ "name": "x", "expires_in": DAY }))
        .await;

    assert_error(response, 403, "plan_not_allowed").await;
}

#[tokio::test]
async fn after_a_downgrade_keys_keep_working_and_no_new_one_is_made() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let free = latchkey::domain::Plan::parse("free", &app.settings).unwrap();
    app.state
        .store
        .set_company_plan(
            company,
            &free,
            &latchkey::store::audit::Actor::named("test"),
        )
        .await
        .unwrap();

    assert_eq!(app.me(&key).await.status(), 200);
    let response = app
        .create_key(&token, company, json!({ "name": "x", "expires_in": DAY }))
        .await;
    assert_error(response, 403, "plan_not_allowed").await;
}

#[tokio::test]
async fn the_active_key_limit_holds_under_concurrency() {
    let app = spawn_app_with(|s| {
        s.throttle.key_creation_burst = std::num::NonZeroU32::new(1000).unwrap();
    })
    .await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;

    let attempts = (0..100).map(|i| {
        app.create_key(
            &token,
            company,
            json!({ "name": format!("k{i}"), "expires_in": DAY }),
        )
    });
    let responses = futures::future::join_all(attempts).await;

    let mut created = 0;
    for response in responses {
        match response.status().as_u16() {
            201 => created += 1,
            _ => {
                assert_error(response, 403, "api_key_limit_reached").await;
            }
        }
    }
    assert_eq!(created, 25);
    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing["count"], 25);
}

#[tokio::test]
async fn the_unlimited_plan_has_no_key_limit() {
    let app =
        spawn_app_with(|s| s.plans.get_mut("professional").unwrap().max_active_keys = 2).await;
    let (_, limited, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let unlimited = app.create_company("professional_unlimited").await;
    let user = app
        .state
        .store
        .find_user_by_email(&latchkey::domain::Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    app.state
        .store
        .add_member(
            user.id,
            unlimited,
            Role::Owner,
            &latchkey::store::audit::Actor::named("test"),
        )
        .await
        .unwrap();

    for _ in 0..2 {
        app.create_key_ok(&token, limited).await;
    }
    for _ in 0..3 {
        app.create_key_ok(&token, unlimited).await;
    }
    let response = app
        .create_key(&token, limited, json!({ "name": "x", "expires_in": DAY }))
        .await;
    assert_error(response, 403, "api_key_limit_reached").await;
}

#[tokio::test]
async fn the_expiry_must_be_given_once_and_within_bounds() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let in_ten_days = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    let cases = [
        (json!({ "name": "x" }), "expires_at"),
        (
            json!({ "name": "x", "expires_in": DAY, "expires_at": in_ten_days }),
            "expires_at",
        ),
        (json!({ "name": "x", "expires_in": 59 }), "expires_in"),
        (json!({ "name": "x", "expires_in": -10 }), "expires_in"),
        (
            json!({ "name": "x", "expires_in": 366 * DAY }),
            "expires_in",
        ),
        (json!({ "name": "x", "expires_in": "soon" }), "expires_in"),
        (json!({ "name": "x", "expires_in": 1.5 }), "expires_in"),
        (
            json!({ "name": "x", "expires_at": "next tuesday" }),
            "expires_at",
        ),
        (
            json!({ "name": "x", "expires_at": "2020-01-01T00:00:00Z" }),
            "expires_at",
        ),
    ];

    for (body, attr) in cases {
        let item = assert_error(
            app.create_key(&token, company, body.clone()).await,
            400,
            "invalid",
        )
        .await;
        assert_eq!(item["attr"], attr, "{body}");
    }
    let response = app
        .create_key(
            &token,
            company,
            json!({ "name": "x", "expires_at": in_ten_days }),
        )
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn the_name_is_trimmed_and_bounded() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;

    for name in [
        json!(""),
        json!("   "),
        json!("x".repeat(101)),
        json!("tab\tname"),
        json!(5),
        json!(null),
    ] {
        let body = json!({ "name": name, "expires_in": DAY });
        let item = assert_error(app.create_key(&token, company, body).await, 400, "invalid").await;
        assert_eq!(item["attr"], "name", "{name}");
    }
    let response = app
        .create_key(
            &token,
            company,
            json!({ "name": "  deploy bot  ", "expires_in": DAY }),
        )
        .await;
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["name"], "deploy bot");
}

#[tokio::test]
async fn an_active_keys_name_is_unique_in_its_company_whatever_its_case() {
    let app = spawn_app().await;
    let (ada, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let other_company = app.create_company("professional").await;
    app.add_member(&ada, other_company, Role::Owner).await;
    let body = |name: &str| json!({ "name": name, "expires_in": DAY });
    let first: Value = app
        .create_key(&token, company, body("Deploy Bot"))
        .await
        .json()
        .await
        .unwrap();

    let item = assert_error(
        app.create_key(&token, company, body(" deploy bot ")).await,
        400,
        "invalid",
    )
    .await;
    assert_eq!(item["attr"], "name");
    assert_eq!(
        app.create_key(&token, other_company, body("Deploy Bot"))
            .await
            .status(),
        201,
        "another company's names are its own"
    );
    // Once the key is deleted, or has expired, its name is free again.
    let first_id = first["id"].as_str().unwrap();
    assert_eq!(
        app.delete_key(&token, company, first_id).await.status(),
        204
    );
    let second = app.create_key(&token, company, body("deploy bot")).await;
    assert_eq!(second.status(), 201);
    app.state
        .clock
        .advance(std::time::Duration::from_secs(2 * DAY as u64));
    // The state counts as caught up as of the old time; bring it forward.
    app.state.follower.catch_up().await.unwrap();
    let token = app.access_token(&ada).await;
    assert_eq!(
        app.create_key(&token, company, body("Deploy Bot"))
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn parallel_deletes_give_one_success_one_audit_row_and_never_a_server_error() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key_id = app.create_key_ok(&token, company).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let responses =
        futures::future::join_all((0..10).map(|_| app.delete_key(&token, company, &key_id))).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 404).count(),
        9,
        "{statuses:?}"
    );
    let audited = app.state.store.recent_audit_events(100).await.unwrap();
    let deletions = audited.iter().filter(|e| e.action == "api_key.deleted");
    assert_eq!(deletions.count(), 1, "one deletion, one audit row");
}

#[tokio::test]
async fn an_expired_key_stays_listed_as_expired() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key_id: Uuid = app.create_key_ok(&token, company).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    entity::api_keys::Entity::update_many()
        .col_expr(
            entity::api_keys::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(entity::api_keys::Column::Id.eq(key_id))
        .exec(app.state.store.db())
        .await
        .unwrap();

    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing["count"], 1);
    assert_eq!(listing["results"][0]["status"], "expired");
}

#[tokio::test]
async fn last_used_at_is_written_in_batches() {
    let app = spawn_app_with(|s| s.api_keys.last_used_flush_seconds = 3600).await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let created = app.create_key_ok(&token, company).await;
    let key_id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listing["results"][0]["last_used_at"], Value::Null);

    assert_eq!(
        app.me(created["token"].as_str().unwrap()).await.status(),
        200
    );
    // What the flusher does every `last_used_flush_seconds`.
    app.state.usage.flush(&app.state.store).await;

    let stored = app
        .state
        .store
        .find_api_key_by_id(key_id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.last_used_at.is_some(),
        "last_used_at was not written"
    );
    let listing: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert!(listing["results"][0]["last_used_at"].is_string());
}

#[tokio::test]
async fn creation_and_deletion_are_audited() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key_id = app.create_key_ok(&token, company).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.client
        .delete(app.url(&format!("/api/v1/companies/{company}/api-keys/{key_id}")))
        .bearer_auth(&token)
        .header("user-agent", "audit-test/1.0")
        .send()
        .await
        .unwrap();

    let events = app.state.store.recent_audit_events(10).await.unwrap();

    let created = events
        .iter()
        .find(|e| e.action == "api_key.created")
        .expect("creation audited");
    let deleted = events
        .iter()
        .find(|e| e.action == "api_key.deleted")
        .expect("deletion audited");
    for event in [created, deleted] {
        assert_eq!(event.actor, user.id.to_string());
        assert_eq!(event.company_id, Some(company));
        assert_eq!(event.target.as_deref(), Some(key_id.as_str()));
        assert_eq!(event.ip.as_deref(), Some("127.0.0.1"));
    }
    assert_eq!(deleted.user_agent.as_deref(), Some("audit-test/1.0"));
}

#[tokio::test]
async fn an_api_key_sees_only_its_own_company_in_me() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let second = app.create_company("professional").await;
    app.add_member(&user, second, Role::Owner).await;
    let key = app.create_key_ok(&token, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let with_login: Value = app.me(&token).await.json().await.unwrap();
    let with_key: Value = app.me(&key).await.json().await.unwrap();

    assert_eq!(with_login["companies"].as_array().unwrap().len(), 2);
    assert_eq!(with_key["companies"].as_array().unwrap().len(), 1);
    assert_eq!(with_key["companies"][0]["id"], company.to_string());
}
