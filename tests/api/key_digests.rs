//! API keys recognised by the SHA-256 of their token (issue #12): no
//! signature check for our own keys, none either for a key that is not
//! active or not its token, and the same answers as the signature path.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latchkey::domain::Role;
use sea_orm::sea_query::Expr;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{inactive, spawn_app, ServiceClient, TestApp, DAY};

/// (digest, refused, signature): how tokens missing from the verified
/// cache were judged so far, from `/metrics`.
pub async fn paths(app: &TestApp) -> [f64; 3] {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    ["digest", "refused", "signature"].map(|path| {
        let series = format!(r#"latchkey_token_check_paths_total{{path="{path}"}}"#);
        text.lines()
            .find_map(|line| {
                let (name, value) = line.rsplit_once(' ')?;
                (name == series).then(|| value.parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
    })
}

/// How the counts moved while `f` ran.
async fn paths_during<F: std::future::Future<Output = T>, T>(app: &TestApp, f: F) -> ([f64; 3], T) {
    let before = paths(app).await;
    let out = f.await;
    let after = paths(app).await;
    ([0, 1, 2].map(|i| after[i] - before[i]), out)
}

const DIGEST_ONLY: [f64; 3] = [1.0, 0.0, 0.0];
const REFUSED_UNSIGNED: [f64; 3] = [0.0, 1.0, 0.0];
const SIGNATURE_ONLY: [f64; 3] = [0.0, 0.0, 1.0];
const NOTHING: [f64; 3] = [0.0, 0.0, 0.0];

fn parts(token: &str) -> (String, Value, String) {
    let mut it = token.split('.');
    let header = it.next().unwrap().to_owned();
    let claims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (header, claims, it.next().unwrap().to_owned())
}

/// The token with its payload replaced, header and signature kept.
fn with_claims(token: &str, change: impl FnOnce(&mut Value)) -> String {
    let (header, mut claims, signature) = parts(token);
    change(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{header}.{payload}.{signature}")
}

async fn scoped_key(app: &TestApp, token: &str, company: Uuid, scopes: Option<Value>) -> String {
    let mut body = json!({ "name": format!("key {}", Uuid::now_v7()), "expires_in": DAY });
    if let Some(scopes) = scopes {
        body["scopes"] = scopes;
    }
    let response = app.create_key(token, company, body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    created["token"].as_str().unwrap().to_owned()
}

/// Forgets every key's digest, in the table and in the log, as if the keys
/// had been made before digests were kept.
async fn forget_digests(app: &TestApp) {
    let db = app.state.store.db();
    entity::api_keys::Entity::update_many()
        .col_expr(
            entity::api_keys::Column::TokenDigest,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .exec(db)
        .await
        .unwrap();
    entity::revocation_events::Entity::update_many()
        .col_expr(
            entity::revocation_events::Column::TokenDigest,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .exec(db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_key_is_recognised_by_its_digest_and_only_the_digest_is_stored() {
    let app = spawn_app().await;
    let (_, company, login) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&login, company).await;
    let token = key["token"].as_str().unwrap();
    let client = app.create_client().await;

    let (moved, answer) = paths_during(&app, app.introspect_ok(&client, token)).await;
    assert_eq!(answer["active"], true);
    assert_eq!(moved, DIGEST_ONLY, "no signature check for our own key");
    let (moved, me) = paths_during(&app, app.me(token)).await;
    assert_eq!(me.status(), 200);
    assert_eq!(moved, DIGEST_ONLY);

    let id: Uuid = key["id"].as_str().unwrap().parse().unwrap();
    let row = entity::api_keys::Entity::find_by_id(id)
        .one(app.state.store.db())
        .await
        .unwrap()
        .unwrap();
    let digest = row.token_digest.expect("a new key keeps its digest");
    assert_eq!(digest, latchkey::tokens::token_digest(token).to_vec());
    let events = entity::revocation_events::Entity::find()
        .all(app.state.store.db())
        .await
        .unwrap();
    let created = events.iter().find(|e| e.kind == "key_created").unwrap();
    assert_eq!(created.token_digest.as_deref(), Some(&digest[..]));
    for event in &events {
        assert!(!format!("{event:?}").contains(token), "a token in the log");
    }

    // Deleted: refused, still without a signature check.
    app.delete_key(&login, company, key["id"].as_str().unwrap())
        .await;
    let (moved, answer) = paths_during(&app, app.introspect_ok(&client, token)).await;
    assert_eq!(answer, inactive());
    assert_eq!(moved, REFUSED_UNSIGNED);
}

#[tokio::test]
async fn forged_keys_are_refused_before_any_signature_check() {
    let app = spawn_app().await;
    let (_, company, login) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let token = scoped_key(&app, &login, company, Some(json!(["datasets:read"]))).await;
    let client = app.create_client().await;

    let not_active = with_claims(&token, |c| c["jti"] = json!(Uuid::now_v7()));
    let more_scopes = with_claims(&token, |c| {
        c["scope"] = json!("datasets:read datasets:write")
    });
    let unscoped = with_claims(&token, |c| {
        c.as_object_mut().unwrap().remove("scope");
    });
    let later = with_claims(&token, |c| {
        let exp = c["exp"].as_i64().unwrap();
        c["exp"] = json!(exp + DAY);
    });
    let (header, claims, signature) = parts(&token);
    let mut bad_signature = signature.clone();
    bad_signature.replace_range(0..1, if signature.starts_with('A') { "B" } else { "A" });
    let other_signature = format!(
        "{header}.{}.{bad_signature}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    for forged in [
        &not_active,
        &more_scopes,
        &unscoped,
        &later,
        &other_signature,
    ] {
        let (moved, answer) = paths_during(&app, app.introspect_ok(&client, forged)).await;
        assert_eq!(answer, inactive(), "{forged}");
        assert_eq!(moved, REFUSED_UNSIGNED, "{forged}");
        let (moved, verified) = paths_during(&app, app.verify(Some(forged), None)).await;
        assert_eq!(verified.status(), 401);
        assert_eq!(moved, REFUSED_UNSIGNED, "{forged}");
    }

    // A `kid` that is not ours: refused at the header, before the allow-list.
    let mut header_json: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&header).unwrap()).unwrap();
    header_json["kid"] = json!("not-our-kid");
    let foreign = format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header_json).unwrap()),
        token.split('.').nth(1).unwrap()
    );
    let (moved, answer) = paths_during(&app, app.introspect_ok(&client, &foreign)).await;
    assert_eq!(answer, inactive());
    assert_eq!(moved, NOTHING);

    // The real one still works, by its digest.
    let (moved, answer) = paths_during(&app, app.introspect_ok(&client, &token)).await;
    assert_eq!(answer["active"], true);
    assert_eq!(moved, DIGEST_ONLY);
}

#[tokio::test]
async fn keys_made_before_digests_are_checked_by_signature() {
    let app = spawn_app().await;
    let (_, company, login) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&login, company).await;
    let token = key["token"].as_str().unwrap();
    forget_digests(&app).await;
    let old = app.replica().await;
    let client = old.create_client().await;

    let (moved, answer) = paths_during(&old, old.introspect_ok(&client, token)).await;
    assert_eq!(answer["active"], true);
    assert_eq!(moved, SIGNATURE_ONLY);
    // Forged on a key without a digest: the signature refuses it.
    let forged = with_claims(token, |c| c["scope"] = json!("datasets:read"));
    let (moved, answer) = paths_during(&old, old.introspect_ok(&client, &forged)).await;
    assert_eq!(answer, inactive());
    assert_eq!(moved, SIGNATURE_ONLY);

    app.delete_key(&login, company, key["id"].as_str().unwrap())
        .await;
    old.state.follower.catch_up().await.unwrap();
    assert_eq!(old.introspect_ok(&client, token).await, inactive());
}

/// Everything a caller sees of a token: the introspection body, and forward
/// auth's status, `x-auth-*` headers and body, without and with required
/// scopes.
async fn answers(app: &TestApp, client: &ServiceClient, token: &str) -> Vec<String> {
    let mut seen = vec![app.introspect(client, token).await.text().await.unwrap()];
    for required in [None, Some("datasets:read"), Some("datasets:write")] {
        let mut request = app
            .client
            .get(app.url("/api/v1/auth/verify"))
            .bearer_auth(token);
        if let Some(required) = required {
            request = request.header("x-auth-required-scopes", required);
        }
        let response = request.send().await.unwrap();
        let mut headers: Vec<String> = response
            .headers()
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("x-auth-"))
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect();
        headers.sort();
        seen.push(format!(
            "{} {} {}",
            response.status(),
            headers.join("; "),
            response.text().await.unwrap()
        ));
    }
    seen
}

#[tokio::test]
async fn the_digest_path_answers_exactly_as_the_signature_path() {
    let app = spawn_app().await;
    // Learns the keys through the event log, digests and scopes included.
    let follower = app.replica().await;
    let (_, company, login) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let scoped = scoped_key(&app, &login, company, Some(json!(["datasets:read"]))).await;
    let unscoped = scoped_key(&app, &login, company, None).await;
    follower.state.follower.catch_up().await.unwrap();
    let client = app.create_client().await;
    follower.state.follower.catch_up().await.unwrap();

    let mut by_digest = Vec::new();
    for instance in [&app, &follower] {
        for token in [&scoped, &unscoped] {
            let (moved, seen) = paths_during(instance, answers(instance, &client, token)).await;
            assert_eq!(moved, [4.0, 0.0, 0.0], "all four by digest");
            by_digest.push(seen);
        }
    }
    // A scoped key keeps its scope on the digest path: in introspection,
    // in forward auth's header, and refused a scope it lacks.
    let scoped_seen = &by_digest[0];
    assert!(
        scoped_seen[0].contains(r#""scope":"datasets:read""#),
        "{scoped_seen:?}"
    );
    assert!(scoped_seen[1].starts_with("200 "), "{scoped_seen:?}");
    assert!(
        scoped_seen[1].contains("x-auth-scopes: datasets:read"),
        "{scoped_seen:?}"
    );
    assert!(scoped_seen[3].starts_with("403 "), "{scoped_seen:?}");
    assert!(
        scoped_seen[3].contains("insufficient_scope"),
        "{scoped_seen:?}"
    );
    let unscoped_seen = &by_digest[1];
    assert!(!unscoped_seen[0].contains("scope"), "{unscoped_seen:?}");
    assert!(unscoped_seen[3].starts_with("200 "), "{unscoped_seen:?}");

    forget_digests(&app).await;
    let by_signature = app.replica().await;
    for (i, token) in [&scoped, &unscoped].into_iter().enumerate() {
        let (moved, seen) =
            paths_during(&by_signature, answers(&by_signature, &client, token)).await;
        // The first check verifies the signature; the cache answers the rest.
        assert_eq!(moved, SIGNATURE_ONLY);
        assert_eq!(seen, by_digest[i], "the primary, by digest vs by signature");
        assert_eq!(
            seen,
            by_digest[2 + i],
            "the follower, by digest vs by signature"
        );
    }
}
