//! What the service writes to disk is readable by its own user only.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::helpers::{spawn_on, test_settings, TestDatabase};

/// The permission bits, in octal as `ls` and `chmod` spell them.
fn mode(path: &Path) -> String {
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

/// A SQLite database in `data/` under a fresh directory, whatever database
/// the rest of the suite runs on.
fn sqlite_in_data_dir() -> (TestDatabase, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data").join("latchkey.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    (TestDatabase { url, dir }, file)
}

fn with_suffix(file: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[tokio::test]
async fn a_fresh_sqlite_database_and_its_directory_are_private() {
    let (db, file) = sqlite_in_data_dir();
    let settings = test_settings(&db);
    let app = spawn_on(db, settings).await;
    app.create_user("ada@example.com").await;

    assert_eq!(mode(file.parent().unwrap()), "700");
    assert_eq!(mode(&file), "600");
    for suffix in ["-wal", "-shm"] {
        assert_eq!(mode(&with_suffix(&file, suffix)), "600", "{suffix}");
    }
}

#[tokio::test]
async fn an_existing_database_readable_by_others_is_tightened() {
    let (db, file) = sqlite_in_data_dir();
    std::fs::create_dir(file.parent().unwrap()).unwrap();
    for path in [file.clone(), with_suffix(&file, "-wal")] {
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let settings = test_settings(&db);
    let app = spawn_on(db, settings).await;
    app.create_user("ada@example.com").await;

    assert_eq!(mode(&file), "600");
    assert_eq!(mode(&with_suffix(&file, "-wal")), "600");
}

#[tokio::test]
async fn a_generated_master_key_gets_a_private_directory() {
    let db = TestDatabase::new().await;
    let mut settings = test_settings(&db);
    let key_file = db.dir.path().join("secrets").join("master.key");
    settings.secrets.master_key = secrecy::SecretString::from(String::new());
    settings.secrets.master_key_file = key_file.clone();

    let _app = spawn_on(db, settings).await;

    assert_eq!(mode(key_file.parent().unwrap()), "700");
    assert_eq!(mode(&key_file), "600");
}
