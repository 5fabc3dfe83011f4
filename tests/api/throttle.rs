//! Per-user rate limits.

use std::num::NonZeroU32;

use latchkey::domain::Role;
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with};

#[tokio::test]
async fn key_creation_is_throttled_per_user_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.throttle.key_creations_per_minute = NonZeroU32::new(1).unwrap();
        s.throttle.key_creation_burst = NonZeroU32::new(3).unwrap();
    })
    .await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let other = app.create_user("bob@example.com").await;
    app.add_member(&other, company, Role::Member).await;
    let other_token = app.access_token(&other).await;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(app.create_key_ok(&token, company).await);
    }

    let refused = app
        .create_key(
            &token,
            company,
            json!({ "name": "x", "expires_in": 86_400 }),
        )
        .await;

    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_error(refused, 429, "throttled").await;
    // Someone else's allowance is their own; listing and deleting are free.
    app.create_key_ok(&other_token, company).await;
    assert_eq!(app.list_keys(&token, company).await.status(), 200);
    let key_id = created[0]["id"].as_str().unwrap();
    assert_eq!(app.delete_key(&token, company, key_id).await.status(), 204);
}
