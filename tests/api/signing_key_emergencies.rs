//! Signing keys in an emergency and on schedule: a leaked key revoked, a
//! retired key dropped once its tokens are all dead, a key rotated on age.

use latchkey::domain::Role;
use latchkey::store::audit::Actor;
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::helpers::{eventually, inactive, spawn_app, spawn_app_with, TestApp, TestDatabase};
use crate::key_digests::paths;
use crate::process::Latchkey;

fn cli_with_master_key(app: &TestApp) -> Latchkey {
    Latchkey {
        db: TestDatabase::same_as(&app.db),
        master_key: app.settings.secrets.master_key.expose_secret().to_owned(),
    }
}

fn jwks_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_revoked_signing_key_leaves_the_jwks_and_its_tokens_die_on_every_replica() {
    let app = spawn_app().await;
    let replica = app.replica().await;
    let leaked = app.state.keys.current().signing_kid.clone();
    let (user, company, login_token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&login_token, company).await;
    let key_token = key["token"].as_str().unwrap().to_owned();
    let client = app.create_client().await;
    // Both replicas have verified (and cached) both tokens; the replica
    // once it has read the key's creation from the log.
    for instance in [&app, &replica] {
        assert_eq!(instance.me(&login_token).await.status(), 200);
        eventually("the key works on both replicas", || async {
            instance.me(&key_token).await.status() == 200
        })
        .await;
    }
    let cli = cli_with_master_key(&app);

    let unconfirmed = cli.run(&["signing-key", "revoke", &leaked], "");
    assert!(!unconfirmed.status.success(), "refused without --yes");
    let said = String::from_utf8_lossy(&unconfirmed.stderr);
    assert!(said.contains("kills 1 live API key"), "{said}");
    assert!(said.contains("--yes"), "{said}");
    assert_eq!(app.me(&login_token).await.status(), 200, "nothing was done");

    let revoked = cli.run_json(&["signing-key", "revoke", &leaked, "--yes", "--json"], "");
    assert_eq!(revoked["killed_api_keys"], 1);
    let new_kid = revoked["new_active_kid"].as_str().unwrap().to_owned();

    for instance in [&app, &replica] {
        eventually("the leaked key's login token dies", || async {
            instance.me(&login_token).await.status() == 401
        })
        .await;
        assert_eq!(instance.me(&key_token).await.status(), 401);
        let kids = jwks_kids(&instance.jwks().await);
        assert!(!kids.contains(&leaked), "{kids:?}");
        assert!(kids.contains(&new_kid), "{kids:?}");
    }
    assert_eq!(app.introspect_ok(&client, &key_token).await, inactive());
    let owner_token = app.access_token(&user).await;
    let listing: Value = app
        .list_keys(&owner_token, company)
        .await
        .json()
        .await
        .unwrap();
    let row = listing["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key["id"])
        .expect("a revoked key stays listed");
    assert_eq!(row["status"], "revoked", "{row}");
    let fresh = replica
        .access_token(&app.create_user("bob@example.com").await)
        .await;
    let header = jsonwebtoken::decode_header(&fresh).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    let keys = cli.run_json(&["signing-key", "list", "--json"], "");
    let statuses: Vec<(&str, &str)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["status"].as_str().unwrap()))
        .collect();
    assert!(
        statuses.contains(&(leaked.as_str(), "revoked")),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(new_kid.as_str(), "active")),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn revoking_an_unknown_key_says_so() {
    let app = spawn_app().await;

    let output = cli_with_master_key(&app).run(&["signing-key", "revoke", "nope", "--yes"], "");

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no signing key nope"));
}

#[tokio::test]
async fn a_retired_key_is_dropped_once_its_last_token_can_have_expired() {
    let app = spawn_app().await;
    let old = app.state.keys.current().signing_kid.clone();
    app.state
        .keys
        .rotate(&app.state.store, &Actor::named("test"))
        .await
        .unwrap();
    let grace = app.settings.signing_key_verify_grace();

    app.state
        .clock
        .advance((grace - chrono::Duration::seconds(5)).to_std().unwrap());
    app.state.follower.prune_memory().await;
    assert!(
        jwks_kids(&app.jwks().await).contains(&old),
        "still within its grace"
    );

    app.state.clock.advance(std::time::Duration::from_secs(10));
    app.state.follower.prune_memory().await;
    let kids = jwks_kids(&app.jwks().await);
    assert!(!kids.contains(&old), "{kids:?}");
    assert_eq!(kids.len(), 1);
}

#[tokio::test]
async fn the_signing_key_is_rotated_once_it_is_as_old_as_the_setting_says() {
    let app = spawn_app_with(|s| s.signing_keys.rotate_every_days = 30).await;
    let every = app.settings.signing_keys.rotation_interval().unwrap();
    let first = app.state.keys.current().signing_kid.clone();
    let rotate = || app.state.keys.rotate_if_older_than(&app.state.store, every);

    app.state
        .clock
        .advance(std::time::Duration::from_secs(29 * 86_400));
    assert_eq!(rotate().await.unwrap(), None, "not due yet");

    app.state
        .clock
        .advance(std::time::Duration::from_secs(2 * 86_400));
    let rotated = rotate().await.unwrap().expect("due: rotated");
    assert_ne!(rotated, first);
    assert_eq!(app.state.keys.current().signing_kid, rotated);
    assert_eq!(rotate().await.unwrap(), None, "the new key is not due");
    let kids = jwks_kids(&app.jwks().await);
    assert!(kids.contains(&first) && kids.contains(&rotated), "{kids:?}");

    // The first key (made at first start) and the scheduled one are both
    // audited, by the server itself.
    let audited = app.state.store.recent_audit_events(50).await.unwrap();
    let rotations: Vec<_> = audited
        .iter()
        .filter(|e| e.action == "signing_key.rotated")
        .collect();
    assert_eq!(rotations.len(), 2, "{rotations:?}");
    assert_eq!(rotations[0].target.as_deref(), Some(rotated.as_str()));
    assert!(rotations.iter().all(|e| e.actor == "system"));
}

#[test]
fn automatic_rotation_is_off_by_default() {
    let settings = latchkey::settings::Settings::defaults();
    assert_eq!(settings.signing_keys.rotation_interval(), None);
}

#[tokio::test]
async fn a_key_known_by_its_digest_dies_with_its_signing_key_on_every_replica() {
    let app = spawn_app().await;
    let replica = app.replica().await;
    let leaked = app.state.keys.current().signing_kid.clone();
    let (_, company, login_token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&login_token, company).await;
    let key_token = key["token"].as_str().unwrap().to_owned();
    let client = app.create_client().await;
    replica.state.follower.catch_up().await.unwrap();
    for instance in [&app, &replica] {
        let before = paths(instance).await;
        assert_eq!(
            instance.introspect_ok(&client, &key_token).await["active"],
            true
        );
        let after = paths(instance).await;
        assert_eq!(
            after[0] - before[0],
            1.0,
            "checked by its digest, not its signature"
        );
        assert_eq!(after[2], before[2]);
    }

    let revoked = cli_with_master_key(&app)
        .run_json(&["signing-key", "revoke", &leaked, "--yes", "--json"], "");
    assert_eq!(revoked["killed_api_keys"], 1);

    for instance in [&app, &replica] {
        instance.state.follower.catch_up().await.unwrap();
        let before = paths(instance).await;
        assert_eq!(
            instance.introspect_ok(&client, &key_token).await,
            inactive()
        );
        assert_eq!(instance.me(&key_token).await.status(), 401);
        let after = paths(instance).await;
        assert_eq!(after[2], before[2], "no signature check for a dead key");
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Rotates in this process (whose settings publish ahead), not by the CLI;
/// the new key's id.
async fn rotate(app: &TestApp) -> String {
    let actor = Actor::named("test");
    app.state
        .keys
        .rotate(&app.state.store, &actor)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_key_is_published_ahead_and_signs_once_it_has_been_published_that_long() {
    let app = spawn_app_with(|s| s.signing_keys.publish_ahead_seconds = 300).await;
    let user = app.create_user("ada@example.com").await;
    let old = app.state.keys.current().signing_kid.clone();
    let new = rotate(&app).await;

    let kids = jwks_kids(&app.jwks().await);
    assert!(kids.contains(&old) && kids.contains(&new), "{kids:?}");
    let during = app.access_token(&user).await;
    assert_eq!(kid_of(&during), old, "the replaced key signs meanwhile");
    assert_eq!(app.me(&during).await.status(), 200);

    // (Logging in hashes a password, which takes real time too: the steps
    // keep seconds away from the hand-over.)
    app.state.clock.advance(std::time::Duration::from_secs(290));
    assert_eq!(kid_of(&app.access_token(&user).await), old);
    app.state.clock.advance(std::time::Duration::from_secs(12));
    let after = app.access_token(&user).await;
    assert_eq!(kid_of(&after), new, "published for 300 s: it signs");
    // Five minutes passed at once: the revocation state is read again first.
    app.state.follower.catch_up().await.unwrap();
    assert_eq!(app.me(&after).await.status(), 200);
    assert_eq!(app.me(&during).await.status(), 200);
}

#[tokio::test]
async fn a_second_rotation_within_the_window_never_lets_a_key_sign_unpublished() {
    let app = spawn_app_with(|s| s.signing_keys.publish_ahead_seconds = 300).await;
    let user = app.create_user("ada@example.com").await;
    let advance = |seconds| {
        app.state
            .clock
            .advance(std::time::Duration::from_secs(seconds))
    };
    let signing_keys = latchkey::services::SigningKeys::new(app.state.store.clone(), &app.settings);
    let listed_signer = || async {
        let listed = signing_keys.list().await.unwrap();
        let signing: Vec<_> = listed.iter().filter(|k| k.signing).collect();
        assert_eq!(signing.len(), 1, "one key signs");
        signing[0].kid.clone()
    };
    let first = app.state.keys.current().signing_kid.clone();
    let second = rotate(&app).await;
    advance(100);
    let third = rotate(&app).await;

    // Each key signs once it has been published for 300 s, in turn.
    // (Logging in hashes a password, which takes real time too: each step
    // keeps seconds away from a hand-over.)
    for (at, signer) in [
        (0, &first),
        (150, &first),
        (60, &second),
        (50, &second),
        (60, &third),
    ] {
        advance(at);
        assert_eq!(&kid_of(&app.access_token(&user).await), signer);
        assert_eq!(&listed_signer().await, signer);
    }
}

#[tokio::test]
async fn revoking_the_replaced_key_kills_what_it_signed_ahead_and_the_new_key_signs_at_once() {
    let app = spawn_app_with(|s| s.signing_keys.publish_ahead_seconds = 300).await;
    let replaced = app.state.keys.current().signing_kid.clone();
    let (user, company, login_token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let new = rotate(&app).await;
    // Made after the rotation, but signed by the replaced key: only the kid
    // the row keeps says so.
    let key = app.create_key_ok(&login_token, company).await;
    let key_token = key["token"].as_str().unwrap().to_owned();
    assert_eq!(kid_of(&key_token), replaced);
    assert_eq!(app.me(&key_token).await.status(), 200);

    let revoked = cli_with_master_key(&app)
        .run_json(&["signing-key", "revoke", &replaced, "--yes", "--json"], "");
    assert_eq!(revoked["killed_api_keys"], 1, "{revoked}");
    assert!(revoked["new_active_kid"].is_null(), "{revoked}");
    app.state.follower.catch_up().await.unwrap();

    assert_eq!(app.me(&key_token).await.status(), 401);
    let fresh = app.access_token(&user).await;
    let listing: Value = app.list_keys(&fresh, company).await.json().await.unwrap();
    let listed = &listing["results"][0];
    assert_eq!(listed["revoked_reason"], "signing_key_revoked", "{listed}");
    assert_eq!(
        kid_of(&fresh),
        new,
        "nothing else signs: the new key, at once"
    );
    assert_eq!(app.me(&fresh).await.status(), 200);
}

#[tokio::test]
async fn revoking_a_key_still_being_published_leaves_its_predecessor_signing_until_the_replacement_is_published(
) {
    use latchkey::services::{EventSink, Origin, SigningKeys};
    use latchkey::tokens::MasterKey;

    let app = spawn_app_with(|s| s.signing_keys.publish_ahead_seconds = 300).await;
    let user = app.create_user("ada@example.com").await;
    let advance = |seconds| {
        app.state
            .clock
            .advance(std::time::Duration::from_secs(seconds))
    };
    let first = app.state.keys.current().signing_kid.clone();
    let unpublished = rotate(&app).await;
    advance(200);
    // In this process, so that the revocation shares the test's clock.
    let revoked = SigningKeys::new(app.state.store.clone(), &app.settings)
        .revoke(
            MasterKey::load_or_create(&app.settings.secrets).unwrap(),
            &unpublished,
            "test",
            Origin::default(),
            &EventSink::log_only(),
        )
        .await
        .unwrap();
    let replacement = revoked.new_active_kid.unwrap();
    app.state.keys.reload(&app.state.store).await.unwrap();

    // The first key would have stopped 300 s after the rotation; it signs
    // on until the replacement has been published for 300 s.
    // (Logging in takes real time: each step keeps seconds from a hand-over.)
    for (at, signer) in [
        (0, &first),
        (150, &first),
        (140, &first),
        (20, &replacement),
    ] {
        advance(at);
        assert_eq!(&kid_of(&app.access_token(&user).await), signer);
    }
    app.state.follower.catch_up().await.unwrap();
    let token = app.access_token(&user).await;
    assert_eq!(app.me(&token).await.status(), 200);
}
