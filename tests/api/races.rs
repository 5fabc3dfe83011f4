//! Introspection racing revocation: the answer may be either, never an error.

use latchkey::domain::Role;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn parallel_introspections_during_deletions_never_fail() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let client = app.create_client().await;
    let mut keys = Vec::new();
    for _ in 0..10 {
        let key = app.create_key_ok(&token, company).await;
        keys.push((
            key["id"].as_str().unwrap().to_owned(),
            key["token"].as_str().unwrap().to_owned(),
        ));
    }

    let introspections = keys
        .iter()
        .cycle()
        .take(200)
        .map(|(_, key)| app.introspect(&client, key));
    let deletions = keys
        .iter()
        .map(|(id, _)| app.delete_key(&token, company, id));
    let (answers, deleted) = tokio::join!(
        futures::future::join_all(introspections),
        futures::future::join_all(deletions)
    );

    assert!(deleted.iter().all(|r| r.status() == 204));
    for answer in answers {
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.unwrap();
        assert!(body["active"].is_boolean(), "{body}");
    }
    // Once every deletion has answered, every key is dead.
    for (_, key) in &keys {
        assert_eq!(app.introspect_ok(&client, key).await["active"], false);
    }
}
