use latchkey::startup::Application;
use secrecy::SecretString;

use crate::helpers::{random_master_key, spawn_app, test_settings, TestDatabase};

#[tokio::test]
async fn a_replica_with_another_master_key_refuses_to_start_and_says_why() {
    let app = spawn_app().await;
    let db = TestDatabase {
        url: app.db.url.clone(),
        dir: tempfile::tempdir().unwrap(),
    };
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
