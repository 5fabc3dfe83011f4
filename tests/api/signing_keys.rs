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
async fn a_rotation_from_the_cli_publishes_the_new_key_before_it_signs_and_keeps_old_tokens_valid()
{
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
    assert_eq!(listed[0]["status"], "published");
    assert_eq!(listed[1]["status"], "active");
    // In the JWKS at once, so offline verifiers have it before they meet it;
    // the old key signs meanwhile.
    let jwks: serde_json::Value = app.jwks().await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert!(jwks.to_string().contains(&kid), "{jwks}");
    let kid_of = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let during_lead = app.access_token(&user).await;
    assert_ne!(kid_of(&during_lead), kid);
    assert_eq!(app.me(&during_lead).await.status(), 200);

    // Once the lead has passed, the new key signs, without a reload.
    let lead = app.settings.tokens.signing_key_publish_seconds;
    app.state
        .clock
        .advance(std::time::Duration::from_secs(lead));
    let new_token = app.access_token(&user).await;
    assert_eq!(kid_of(&new_token), kid);
    assert_eq!(app.me(&new_token).await.status(), 200);
    assert_eq!(
        app.me(&old_token).await.status(),
        200,
        "a retired key still verifies"
    );
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

    let events = cli.run_json(&["audit", "list", "--limit", "5", "--json"], "");

    assert_eq!(events[0]["action"], "login");
    assert_eq!(events[0]["outcome"], "success");
    assert_eq!(events[0]["actor"], user.id.to_string());
}
