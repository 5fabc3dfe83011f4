use latchkey::startup::Application;
use secrecy::SecretString;

use crate::helpers::{random_master_key, spawn_app, test_settings, TestDatabase};

#[tokio::test]
async fn a_replica_with_another_master_key_refuses_to_start_and_says_why() {
    let app = spawn_app().await;
    let db = TestDatabase::same_as(&app.db);
    let mut settings = test_settings(&db);
    settings.secrets.master_key = SecretString::from(random_master_key());

    let error = Application::build(settings)
        .await
        .err()
        .expect("start-up must fail");

    let message = format!("{error:#}");
    assert!(message.contains("master_key"), "{message}");
    assert!(message.contains("cannot decrypt signing key"), "{message}");
}

#[tokio::test]
async fn without_a_master_key_one_is_generated_with_mode_0600() {
    let db = TestDatabase::new().await;
    let mut settings = test_settings(&db);
    settings.secrets.master_key = SecretString::from(String::new());
    let key_file = db.dir.path().join("data").join("master.key");
    settings.secrets.master_key_file = key_file.clone();

    let app = Application::build(settings.clone())
        .await
        .expect("first start");
    drop(app);

    let encoded = std::fs::read_to_string(&key_file).expect("the key file exists");
    assert_eq!(encoded.trim().len(), 44);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A restart reads the same key back and can decrypt the signing key.
    Application::build(settings)
        .await
        .expect("second start with the generated key");
}

#[tokio::test]
async fn a_rotation_from_the_cli_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() {
    use secrecy::ExposeSecret;

    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let old_token = app.access_token(&user).await;
    let cli = crate::process::Latchkey {
        db: TestDatabase::same_as(&app.db),
        master_key: app.settings.secrets.master_key.expose_secret().to_owned(),
    };

    let rotated = cli.run_json(&["signing-key", "rotate", "--json"], "");
    let kid = rotated["kid"].as_str().unwrap().to_owned();
    // What the poller does within an interval: read the log, reload the keys.
    app.state.follower.catch_up().await.unwrap();

    let listed = cli.run_json(&["signing-key", "list", "--json"], "");
    assert_eq!(listed[0]["kid"], kid.as_str());
    assert_eq!(listed[0]["status"], "active");
    assert_eq!(listed[1]["status"], "retired");
    let jwks: serde_json::Value = app.jwks().await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.me(&old_token).await.status(),
        200,
        "a retired key still verifies"
    );
    let new_token = app.access_token(&user).await;
    let header = jsonwebtoken::decode_header(&new_token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
    assert_eq!(app.me(&new_token).await.status(), 200);

    let audited = app.state.store.recent_audit_events(50).await.unwrap();
    let rotation = audited
        .iter()
        .find(|e| e.action == "signing_key.rotated" && e.target.as_deref() == Some(kid.as_str()))
        .expect("the rotation is audited");
    assert!(rotation.actor.starts_with("cli:"), "{rotation:?}");
}

#[tokio::test]
async fn the_audit_log_is_readable_from_the_cli() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    app.access_token(&user).await;
    let cli = crate::process::Latchkey {
        db: TestDatabase::same_as(&app.db),
        master_key: String::new(),
    };

    let page = cli.run_json(&["audit", "list", "--limit", "5", "--json"], "");
    let events = &page["results"];

    assert_eq!(events[0]["action"], "login");
    assert_eq!(events[0]["outcome"], "success");
    assert_eq!(events[0]["actor"], user.id.to_string());
}
