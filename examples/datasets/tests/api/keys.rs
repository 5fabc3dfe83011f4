//! Which keys the datasets service accepts, and when it stops accepting them.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use datasets::Policies;
use latchkey_client::Policy;
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::Value;

use crate::helpers::{
    assert_error, assert_invalid_token, scene, spawn_datasets, spawn_latchkey, DEFAULT_POLICIES,
    INTROSPECTION_TTL,
};

#[tokio::test]
async fn a_valid_key_reads_and_writes_its_company_datasets() {
    let scene = scene(DEFAULT_POLICIES).await;

    let created = scene.create(&scene.key).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let listed = scene.list(&scene.key).await;
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();

    assert_eq!(listed["count"], 1);
    assert_eq!(listed["results"][0], created);
    assert_eq!(created["name"], "sales");
}

#[tokio::test]
async fn a_request_without_a_token_gets_401_not_authenticated() {
    let latchkey = spawn_latchkey().await;
    let member = latchkey.member().await;
    let datasets = spawn_datasets(&latchkey, DEFAULT_POLICIES).await;

    // Both paths (with and without the trailing slash), both methods: each
    // is its own route, and each must carry the middleware.
    for path in ["datasets/", "datasets"] {
        let url = format!(
            "{}/api/v1/companies/{}/{path}",
            datasets.address, member.company_id
        );
        for request in [datasets.http.get(&url), datasets.http.post(&url).json(&())] {
            let response = request.send().await.unwrap();
            assert_eq!(
                response.headers()["www-authenticate"],
                r#"Bearer realm="latchkey""#,
                "{url}"
            );
            assert_error(response, 401, "not_authenticated").await;
        }
    }
}

#[tokio::test]
async fn a_deleted_key_is_refused_on_live_routes_within_the_cache_bound() {
    let scene = scene(DEFAULT_POLICIES).await;
    assert_eq!(scene.create(&scene.key).await.status(), 201);

    scene
        .latchkey
        .delete_key(&scene.member, &scene.key_id)
        .await;
    scene
        .datasets
        .clock
        .advance(INTROSPECTION_TTL + Duration::from_millis(1));

    assert_invalid_token(scene.create(&scene.key).await).await;
    // The offline route cannot know: it trusts the signature until expiry.
    assert_eq!(scene.list(&scene.key).await.status(), 200);
}

#[tokio::test]
async fn a_deleted_key_is_refused_on_confirmed_routes_once_its_confirmation_is_due() {
    let every = Duration::from_secs(30);
    let scene = scene(Policies {
        read: Policy::Confirmed(every),
        write: Policy::Live,
    })
    .await;
    assert_eq!(scene.list(&scene.key).await.status(), 200);

    scene
        .latchkey
        .delete_key(&scene.member, &scene.key_id)
        .await;
    scene.datasets.clock.advance(Duration::from_secs(10));
    assert_eq!(
        scene.list(&scene.key).await.status(),
        200,
        "confirmed 10 s ago: not asked again yet"
    );
    scene.datasets.clock.advance(every);

    assert_invalid_token(scene.list(&scene.key).await).await;
}

#[tokio::test]
async fn an_expired_key_is_refused_with_the_documented_401() {
    let scene = scene(DEFAULT_POLICIES).await;
    assert_eq!(scene.list(&scene.key).await.status(), 200);

    // An hour's key, plus latchkey's 30 s of leeway.
    scene.datasets.clock.advance(Duration::from_secs(3600 + 31));

    assert_invalid_token(scene.list(&scene.key).await).await;
}

#[tokio::test]
async fn forged_keys_are_refused_without_asking_latchkey() {
    let scene = scene(DEFAULT_POLICIES).await;
    assert_eq!(scene.list(&scene.key).await.status(), 200);
    let (signed, signature) = scene.key.rsplit_once('.').unwrap();

    let tampered_signature = {
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 1;
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let own_key_same_kid = {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        format!(
            "{signed}.{}",
            URL_SAFE_NO_PAD.encode(pair.sign(signed.as_bytes()))
        )
    };
    let alg_none = {
        let (_, payload) = signed.split_once('.').unwrap();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"apikey+jwt"}"#);
        format!("{header}.{payload}.")
    };
    // With latchkey cut off, a live route answers 401, not 503: nothing was asked.
    scene.latchkey.proxy.cut();
    for forged in [
        tampered_signature,
        own_key_same_kid,
        alg_none,
        "junk".to_owned(),
    ] {
        assert_invalid_token(scene.create(&forged).await).await;
        assert_invalid_token(scene.list(&forged).await).await;
    }
}

#[tokio::test]
async fn a_key_whose_signing_key_left_the_jwks_is_refused() {
    let scene = scene(DEFAULT_POLICIES).await;
    assert_eq!(scene.list(&scene.key).await.status(), 200);

    // Rotate, then age the old key past its grace: the JWKS drops it.
    let state = &scene.latchkey.state;
    let old_kid = state.keys.current().signing_kid.clone();
    let test = latchkey::store::audit::Actor::named("test");
    state.keys.rotate(&state.store, &test).await.unwrap();
    let mut old: entity::signing_keys::ActiveModel =
        entity::signing_keys::Entity::find_by_id(old_kid.clone())
            .one(state.store.db())
            .await
            .unwrap()
            .unwrap()
            .into();
    old.retired_at = Set(Some(Utc::now() - chrono::Duration::days(4000)));
    old.update(state.store.db()).await.unwrap();
    state.keys.reload(&state.store).await.unwrap();
    let jwks = scene
        .latchkey
        .http
        .get(scene.latchkey.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    let jwks: Value = jwks.json().await.unwrap();
    assert!(!jwks.to_string().contains(&old_kid), "{jwks}");

    // Once the cached JWKS is older than its maximum age, it is fetched again.
    scene.datasets.clock.advance(Duration::from_secs(61));
    assert_invalid_token(scene.list(&scene.key).await).await;

    // A service that never saw the old key refuses it too.
    let fresh = spawn_datasets(&scene.latchkey, DEFAULT_POLICIES).await;
    assert_invalid_token(fresh.list(scene.member.company_id, &scene.key).await).await;
    // The member's login token went with the old key: a new login, and a
    // key signed by the new one, pass everywhere.
    let member = scene.latchkey.member().await;
    let (_, new_key) = scene.latchkey.api_key(&member).await;
    assert_eq!(fresh.list(member.company_id, &new_key).await.status(), 200);
    assert_eq!(
        scene
            .datasets
            .list(member.company_id, &new_key)
            .await
            .status(),
        200
    );
}
