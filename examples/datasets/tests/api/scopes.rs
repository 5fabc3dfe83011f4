//! Scopes, black-box: keys created on a real latchkey with and without
//! scopes, against the datasets service's routes.

use serde_json::json;

use crate::helpers::{assert_error, scene, spawn_datasets, spawn_latchkey, DEFAULT_POLICIES};

#[tokio::test]
async fn a_key_without_scopes_may_read_and_write() {
    let scene = scene(DEFAULT_POLICIES).await;

    assert_eq!(scene.create(&scene.key).await.status(), 201);
    assert_eq!(scene.list(&scene.key).await.status(), 200);
}

#[tokio::test]
async fn a_read_only_key_cannot_write() {
    let latchkey = spawn_latchkey().await;
    let member = latchkey.member().await;
    let key = latchkey
        .create_key(
            &member,
            json!({ "name": "reader", "expires_in": 3600, "scopes": ["datasets:read"] }),
        )
        .await;
    let key = key["token"].as_str().unwrap();
    let datasets = spawn_datasets(&latchkey, DEFAULT_POLICIES).await;

    assert_eq!(datasets.list(member.company_id, key).await.status(), 200);
    let response = datasets.create(member.company_id, key).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="latchkey", error="insufficient_scope", scope="datasets:write""#
    );
    assert_error(response, 403, "insufficient_scope").await;
}

#[tokio::test]
async fn a_write_only_key_cannot_read_even_offline() {
    let latchkey = spawn_latchkey().await;
    let member = latchkey.member().await;
    let key = latchkey
        .create_key(
            &member,
            json!({ "name": "writer", "expires_in": 3600, "scopes": ["datasets:write"] }),
        )
        .await;
    let key = key["token"].as_str().unwrap();
    let datasets = spawn_datasets(&latchkey, DEFAULT_POLICIES).await;

    assert_eq!(datasets.create(member.company_id, key).await.status(), 201);
    let response = datasets.list(member.company_id, key).await;
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="latchkey", error="insufficient_scope", scope="datasets:read""#
    );
    assert_error(response, 403, "insufficient_scope").await;
}
