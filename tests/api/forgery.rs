//! Tokens that must never be accepted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use serde_json::{json, Value};

use crate::helpers::{
    assert_invalid_token, spawn_app, spawn_on, test_settings, TestApp, TestDatabase,
};

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let claims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (header, claims, it.next().unwrap().to_owned())
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

async fn logged_in() -> (TestApp, String) {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    (app, token)
}

#[tokio::test]
async fn a_tampered_payload_is_rejected() {
    let (app, token) = logged_in().await;
    let (header, mut claims, signature) = parts(&token);
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);

    let forged = format!(
        "{}.{}.{signature}",
        encode_part(&header),
        encode_part(&claims)
    );

    assert_invalid_token(app.me(&forged).await).await;
}

#[tokio::test]
async fn alg_none_is_rejected() {
    let (app, token) = logged_in().await;
    let (mut header, claims, _) = parts(&token);
    header["alg"] = json!("none");

    let forged = format!("{}.{}.", encode_part(&header), encode_part(&claims));

    assert_invalid_token(app.me(&forged).await).await;
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_rejected() {
    let (app, token) = logged_in().await;
    let (header, claims, _) = parts(&token);
    let jwks: Value = app.jwks().await;
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = header["kid"].as_str().map(str::to_owned);
    hs_header.typ = header["typ"].as_str().map(str::to_owned);

    latchkey::tokens::crypto_provider::install();
    let forged = jsonwebtoken::encode(&hs_header, &claims, &EncodingKey::from_secret(&public));

    // Our provider refuses to even produce HS256; either way nothing verifies.
    if let Ok(forged) = forged {
        assert_invalid_token(app.me(&forged).await).await;
    }
    let unsigned = format!(
        "{}.{}.c2ln",
        encode_part(&json!({"alg":"HS256","typ":"at+jwt","kid":header["kid"]})),
        encode_part(&claims)
    );
    assert_invalid_token(app.me(&unsigned).await).await;
}

#[tokio::test]
async fn a_token_signed_by_a_key_that_is_not_ours_is_rejected() {
    let (app, token) = logged_in().await;
    let (header, claims, _) = parts(&token);
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let mut forged_header = Header::new(Algorithm::EdDSA);
    forged_header.kid = header["kid"].as_str().map(str::to_owned);
    forged_header.typ = header["typ"].as_str().map(str::to_owned);

    latchkey::tokens::crypto_provider::install();
    let forged = jsonwebtoken::encode(
        &forged_header,
        &claims,
        &EncodingKey::from_ed_der(pkcs8.as_ref()),
    )
    .unwrap();

    assert_invalid_token(app.me(&forged).await).await;
}

/// A second instance on the same database signs with the same key, but
/// claims another issuer or audience.
async fn token_from_a_twin(
    app: &TestApp,
    change: impl FnOnce(&mut latchkey::settings::Settings),
) -> String {
    let db = TestDatabase::same_as(&app.db);
    let mut settings = test_settings(&db);
    settings.secrets.master_key = app.settings.secrets.master_key.clone();
    change(&mut settings);
    let twin = spawn_on(db, settings).await;
    let user = twin.create_user("twin@example.com").await;
    twin.access_token(&user).await
}

#[tokio::test]
async fn a_wrong_issuer_is_rejected() {
    let app = spawn_app().await;
    let token = token_from_a_twin(&app, |s| s.issuer = "https://evil.example".to_owned()).await;

    assert_invalid_token(app.me(&token).await).await;
}

#[tokio::test]
async fn a_wrong_audience_is_rejected() {
    let app = spawn_app().await;
    let token = token_from_a_twin(&app, |s| s.audience = "someone-else".to_owned()).await;

    assert_invalid_token(app.me(&token).await).await;
}

#[tokio::test]
async fn a_short_lived_token_living_longer_than_the_ttl_allows_is_rejected() {
    let app = spawn_app().await;
    // Signed with our own key (a twin sharing it), but for a whole day.
    let token = token_from_a_twin(&app, |s| s.tokens.access_ttl_seconds = 86_400).await;

    assert_invalid_token(app.me(&token).await).await;
}

#[tokio::test]
async fn junk_is_rejected() {
    let app = spawn_app().await;

    for junk in ["junk", "a.b.c", "....", &"x".repeat(5000)] {
        assert_invalid_token(app.me(junk).await).await;
    }
}

#[tokio::test]
async fn the_jwks_verifies_an_issued_token_offline() {
    let (app, token) = logged_in().await;
    let jwks: Value = app.jwks().await;
    let (header, _, _) = parts(&token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's kid is in the JWKS");
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");

    latchkey::tokens::crypto_provider::install();
    let key = DecodingKey::from_ed_components(jwk["x"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&app.settings.issuer]);
    validation.set_audience(&[&app.settings.audience]);
    let data = jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .expect("the JWKS verifies the token");

    let claims = data.claims.as_object().unwrap();
    let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["aud", "exp", "iat", "iss", "jti", "kind", "nbf", "sub"]
    );
    assert_eq!(claims["kind"], "short_lived");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
}
