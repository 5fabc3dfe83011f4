//! The JWT attack suite: every token an attacker might craft, sent to the
//! three places that judge tokens (`/me`, introspection and forward auth).
//! Each must be refused everywhere, in the documented shape.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use latchkey::domain::Role;
use ring::rand::SystemRandom;
use ring::signature::Ed25519KeyPair;
use serde_json::{json, Value};

use crate::helpers::{
    assert_error, assert_invalid_token, inactive, raw_exchange, spawn_app, status_of,
    ServiceClient, TestApp,
};

/// An app with one member of a professional company, their login token,
/// one of their API keys, and an introspection client.
struct Target {
    app: TestApp,
    client: ServiceClient,
    login: String,
    api_key: String,
}

async fn target() -> Target {
    let app = spawn_app().await;
    let (_, company, login) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let api_key = app.create_key_ok(&login, company).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = app.create_client().await;
    Target {
        app,
        client,
        login,
        api_key,
    }
}

impl Target {
    /// Refused by `/me` (401, the exact body), by introspection (inactive)
    /// and by forward auth (401), for `why`.
    async fn assert_refused(&self, token: &str, why: &str) {
        let me = self.app.me(token).await;
        assert_eq!(me.status(), 401, "/me accepted {why}");
        assert_invalid_token(me).await;
        assert_eq!(
            self.app.introspect_ok(&self.client, token).await,
            inactive(),
            "introspection accepted {why}"
        );
        let verify = self.app.verify(Some(token), Some("/anything")).await;
        assert_eq!(verify.status(), 401, "forward auth accepted {why}");
    }

    /// The control: a token every judge accepts.
    async fn assert_accepted(&self, token: &str, why: &str) {
        assert_eq!(self.app.me(token).await.status(), 200, "{why}");
        assert_eq!(
            self.app.introspect_ok(&self.client, token).await["active"],
            true,
            "{why}"
        );
    }

    /// Signs `header` and `claims` with the deployment's own signing key
    /// (its `kid` unless the header names one): what a token would look
    /// like if an attacker could make us sign anything.
    fn signed_by_us(&self, mut header: Value, claims: &Value) -> String {
        let keys = self.app.state.keys.current();
        let (kid, key) = keys.signer_at(chrono::Utc::now().timestamp());
        if header.get("kid").is_none() {
            header["kid"] = json!(kid);
        }
        let signing_input = format!("{}.{}", encode_part(&header), encode_part(claims));
        latchkey::tokens::crypto_provider::install();
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, Algorithm::EdDSA).unwrap();
        format!("{signing_input}.{signature}")
    }
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let mut decode =
        || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let (header, claims) = (decode(), decode());
    (header, claims, token.rsplit('.').next().unwrap().to_owned())
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn assemble(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        encode_part(header),
        encode_part(claims)
    )
}

fn header_of(typ: &str) -> Value {
    json!({ "alg": "EdDSA", "typ": typ })
}

#[tokio::test]
async fn alg_none_in_every_spelling_is_refused() {
    let t = target().await;
    let (header, claims, _) = parts(&t.login);
    for alg in ["none", "None", "NONE", "nOnE", ""] {
        let mut forged = header.clone();
        forged["alg"] = json!(alg);
        t.assert_refused(&assemble(&forged, &claims, ""), &format!("alg {alg:?}"))
            .await;
        let (_, _, signature) = parts(&t.login);
        t.assert_refused(
            &assemble(&forged, &claims, &signature),
            &format!("alg {alg:?} with the real signature"),
        )
        .await;
    }
    t.assert_accepted(&t.login, "the untouched login token")
        .await;
}

#[tokio::test]
async fn signatures_that_are_empty_truncated_or_psychic_are_refused() {
    let t = target().await;
    for token in [&t.login, &t.api_key] {
        let (header, claims, signature) = parts(token);
        t.assert_refused(&assemble(&header, &claims, ""), "an empty signature")
            .await;
        t.assert_refused(
            &assemble(&header, &claims, &signature[..signature.len() - 4]),
            "a truncated signature",
        )
        .await;
        t.assert_refused(
            &format!("{}.{}", encode_part(&header), encode_part(&claims)),
            "no signature part",
        )
        .await;
        // CVE-2022-21449: an ECDSA signature of r = s = 0 once verified
        // anything in Java. Our tokens are EdDSA only.
        let zeros = URL_SAFE_NO_PAD.encode([0u8; 64]);
        let mut es256 = header.clone();
        es256["alg"] = json!("ES256");
        t.assert_refused(
            &assemble(&es256, &claims, &zeros),
            "an all-zero ES256 signature",
        )
        .await;
        t.assert_refused(
            &assemble(&header, &claims, &zeros),
            "an all-zero EdDSA signature",
        )
        .await;
    }
}

#[tokio::test]
async fn hs256_keyed_with_our_public_key_is_refused() {
    let t = target().await;
    let (header, claims, _) = parts(&t.login);
    let jwks = t.app.jwks().await;
    let public = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().unwrap())
        .unwrap();
    let mut hs256 = header.clone();
    hs256["alg"] = json!("HS256");
    let signing_input = format!("{}.{}", encode_part(&hs256), encode_part(&claims));
    let mac = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public),
        signing_input.as_bytes(),
    );
    let forged = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
    t.assert_refused(&forged, "HS256 keyed with the public key")
        .await;
}

#[tokio::test]
async fn a_hostile_or_unknown_kid_is_refused_even_when_the_signature_is_ours() {
    let t = target().await;
    let (_, claims, _) = parts(&t.login);
    for kid in [
        "../../../../etc/passwd",
        "..\\..\\master.key",
        "' OR '1'='1",
        "1; DROP TABLE signing_keys; --",
        "$(touch /tmp/pwned)",
        "`id`",
        "\u{0}",
        "unknown-kid",
        "",
    ] {
        let mut header = header_of("at+jwt");
        header["kid"] = json!(kid);
        let forged = t.signed_by_us(header, &claims);
        t.assert_refused(&forged, &format!("kid {kid:?}")).await;
    }
    let mut no_kid = parts(&t.login).0;
    no_kid.as_object_mut().unwrap().remove("kid");
    t.assert_refused(&assemble(&no_kid, &claims, &parts(&t.login).2), "no kid")
        .await;
}

#[tokio::test]
async fn headers_that_name_their_own_key_are_refused() {
    let t = target().await;
    let (_, claims, _) = parts(&t.login);
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let attacker = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let attacker_jwk = json!({
        "kty": "OKP", "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(ring::signature::KeyPair::public_key(&attacker).as_ref()),
    });
    let keys = t.app.state.keys.current();
    let (kid, _) = keys.signer_at(chrono::Utc::now().timestamp());
    for (name, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", attacker_jwk),
        ("crit", json!(["exp"])),
        ("x5c", json!(["MIIB"])),
    ] {
        let mut header = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": kid });
        header[name] = value;
        let signing_input = format!("{}.{}", encode_part(&header), encode_part(&claims));
        // Signed by the attacker's key (what jku/jwk invite), and by ours.
        let theirs = URL_SAFE_NO_PAD.encode(attacker.sign(signing_input.as_bytes()).as_ref());
        t.assert_refused(
            &format!("{signing_input}.{theirs}"),
            &format!("{name} signed by the attacker"),
        )
        .await;
        let ours = t.signed_by_us(header.clone(), &claims);
        t.assert_refused(&ours, &format!("{name} signed by us"))
            .await;
    }
}

/// `claims` with `changes` applied; `null` removes a claim.
fn with(claims: &Value, changes: Value) -> Value {
    let mut claims = claims.clone();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

#[tokio::test]
async fn typ_and_kind_must_agree() {
    let t = target().await;
    let (_, login, _) = parts(&t.login);
    let (_, key, _) = parts(&t.api_key);
    let company = key["company_id"].clone();
    t.assert_accepted(
        &t.signed_by_us(header_of("at+jwt"), &login),
        "a re-signed login token",
    )
    .await;
    // An API key is known by the digest of the exact token we issued: the
    // same claims signed again are another token, refused (issue #12).
    t.assert_refused(
        &t.signed_by_us(header_of("apikey+jwt"), &key),
        "a re-signed API key",
    )
    .await;
    t.assert_accepted(&t.api_key, "the API key as issued").await;

    for (typ, claims, why) in [
        (
            "apikey+jwt",
            login.clone(),
            "a login token typed as an API key",
        ),
        ("at+jwt", key.clone(), "an API key typed as a login token"),
        ("JWT", login.clone(), "typ JWT"),
        ("at+JWT", login.clone(), "typ in another case"),
        (
            "at+jwt",
            with(&login, json!({ "kind": "private" })),
            "kind private under typ at+jwt",
        ),
        (
            "at+jwt",
            with(&login, json!({ "company_id": company })),
            "a login token naming a company",
        ),
        (
            "apikey+jwt",
            with(&key, json!({ "kind": "short_lived" })),
            "kind short_lived under typ apikey+jwt",
        ),
        (
            "apikey+jwt",
            with(&key, json!({ "company_id": null })),
            "an API key without a company",
        ),
        (
            "apikey+jwt",
            with(&key, json!({ "kind": "admin" })),
            "an unknown kind",
        ),
    ] {
        t.assert_refused(&t.signed_by_us(header_of(typ), &claims), why)
            .await;
    }
    let mut untyped = header_of("at+jwt");
    untyped.as_object_mut().unwrap().remove("typ");
    t.assert_refused(&t.signed_by_us(untyped, &login), "no typ")
        .await;
}

/// `(exp, nbf)` from the current second and the leeway.
type ExpAndNbf = fn(i64, i64) -> (i64, i64);

#[tokio::test]
async fn exp_and_nbf_hold_to_the_second_with_the_leeway() {
    let t = target().await;
    let (_, login, _) = parts(&t.login);
    let leeway = t.app.settings.tokens.leeway_seconds as i64;
    let at = |exp: i64, nbf: i64| with(&login, json!({ "exp": exp, "nbf": nbf }));
    let sign = |claims: Value| t.signed_by_us(header_of("at+jwt"), &claims);

    // Each edge is one second wide: a case is judged again if the clock's
    // second turned while it was being judged (a slow, busy machine).
    let edges: [(ExpAndNbf, bool, &str); 4] = [
        (
            |now, l| (now - l, now - 60),
            true,
            "expired within the leeway",
        ),
        (
            |now, l| (now - l - 1, now - 60),
            false,
            "expired beyond the leeway",
        ),
        (
            |now, l| (now + 60, now + l),
            true,
            "not yet valid within the leeway",
        ),
        (
            |now, l| (now + 60, now + l + 1),
            false,
            "not yet valid beyond the leeway",
        ),
    ];
    for (exp_and_nbf, accepted, why) in edges {
        for attempt in 1.. {
            let now = t.app.state.clock.unix_seconds();
            let (exp, nbf) = exp_and_nbf(now, leeway);
            let token = sign(at(exp, nbf));
            let me = t.app.me(&token).await.status().as_u16();
            let active = t.app.introspect_ok(&t.client, &token).await["active"] == true;
            let verify = t.app.verify(Some(&token), Some("/anything")).await;
            let verify = verify.status().as_u16();
            if t.app.state.clock.unix_seconds() != now && attempt < 5 {
                continue;
            }
            if accepted {
                assert_eq!((me, active), (200, true), "{why}");
            } else {
                assert_eq!((me, active, verify), (401, false, 401), "{why}");
            }
            break;
        }
    }
    let now = t.app.state.clock.unix_seconds();
    for (changes, why) in [
        (json!({ "exp": (now + 60).to_string() }), "exp as a string"),
        (
            json!({ "exp": (now + 60) as f64 + 0.5 }),
            "exp as a fraction",
        ),
        (json!({ "exp": i64::MAX }), "exp at the end of time"),
        (
            json!({ "exp": now + t.app.settings.tokens.access_ttl_seconds as i64 + leeway + 1 }),
            "a login token living longer than any we issue",
        ),
        (json!({ "exp": null }), "no exp"),
        (json!({ "nbf": null }), "no nbf"),
        (json!({ "nbf": "yesterday" }), "nbf as a string"),
        (json!({ "iss": null }), "no iss"),
        (json!({ "aud": null }), "no aud"),
        (json!({ "iss": "https://evil.example" }), "another issuer"),
        (json!({ "aud": "someone-else" }), "another audience"),
        (
            json!({ "aud": ["someone-else"] }),
            "an audience list without ours",
        ),
        (json!({ "sub": "not-a-uuid" }), "a sub that is no user id"),
        (json!({ "jti": null }), "no jti"),
    ] {
        t.assert_refused(&sign(with(&login, changes)), why).await;
    }

    // The injectable clock moves the same edge: at exp + leeway it holds,
    // one second later it does not. The clock is put at the start of the
    // edge's second, and the case is judged again if that second turned
    // while it was being judged (a slow, busy machine).
    for attempt in 1.. {
        let now_ms = t.app.state.clock.unix_millis();
        let exp = now_ms.div_euclid(1000) + 10;
        let token = sign(at(exp, exp - 70));
        let edge_ms = (exp + leeway) * 1000;
        t.app
            .state
            .clock
            .advance(std::time::Duration::from_millis((edge_ms - now_ms) as u64));
        // The state counts as caught up as of the old time; bring it forward.
        t.app.state.follower.catch_up().await.unwrap();
        let me = t.app.me(&token).await.status().as_u16();
        let active = t.app.introspect_ok(&t.client, &token).await["active"] == true;
        if t.app.state.clock.unix_seconds() != exp + leeway && attempt < 5 {
            continue;
        }
        assert_eq!((me, active), (200, true), "at exp + leeway");
        t.app.state.clock.advance(std::time::Duration::from_secs(1));
        t.assert_refused(&token, "a second past exp + leeway").await;
        break;
    }
}

#[tokio::test]
async fn a_token_of_another_deployment_is_refused() {
    let t = target().await;
    let elsewhere = spawn_app().await;
    let user = elsewhere.create_user("ada@example.com").await;
    let theirs = elsewhere.access_token(&user).await;
    t.assert_refused(&theirs, "a login token of another deployment")
        .await;
    // Even under our kid, their key does not verify.
    let (mut header, claims, signature) = parts(&theirs);
    header["kid"] = parts(&t.login).0["kid"].clone();
    t.assert_refused(
        &assemble(&header, &claims, &signature),
        "their token under our kid",
    )
    .await;
}

#[tokio::test]
async fn junk_of_any_size_or_encoding_is_refused_in_the_documented_shape() {
    let t = target().await;
    for junk in [
        "x".repeat(64 * 1024),
        format!("{}.{}", t.login, "x".repeat(8 * 1024)),
        "a.b.c.d".to_owned(),
        "...".to_owned(),
        "e30.e30.".to_owned(),
        "%00".to_owned(),
    ] {
        let me = t.app.me(&junk).await;
        let status = me.status().as_u16();
        // A header past the server's limit is cut off by the HTTP layer
        // (431) before any handler; everything else gets our 401.
        if status == 431 {
            assert!(junk.len() > 16 * 1024);
            continue;
        }
        assert_invalid_token(me).await;
        if junk.len() < t.app.settings.server.max_body_bytes {
            assert_eq!(t.app.introspect_ok(&t.client, &junk).await, inactive());
        }
    }
    // In an introspection body: past the longest token, inactive; past
    // the body limit, 413 in the documented shape.
    let long = "x".repeat(4097);
    assert_eq!(t.app.introspect_ok(&t.client, &long).await, inactive());
    let huge = "x".repeat(t.app.settings.server.max_body_bytes + 1);
    assert_error(
        t.app.introspect(&t.client, &huge).await,
        413,
        "payload_too_large",
    )
    .await;

    // Bytes that are not UTF-8 in the header.
    let request = [
        b"GET /api/v1/auth/me HTTP/1.1\r\nhost: latchkey\r\nauthorization: Bearer \xff\xfe"
            .as_slice(),
        t.login.as_bytes(),
        b"\r\nconnection: close\r\n\r\n",
    ]
    .concat();
    let port = t.app.port();
    let response = tokio::task::spawn_blocking(move || raw_exchange(port, &request))
        .await
        .unwrap();
    assert_eq!(status_of(&response), 401, "{response}");
    assert!(response.contains("invalid_token"), "{response}");
}

#[tokio::test]
async fn the_authorization_header_is_read_strictly() {
    let t = target().await;
    let me = |value: String| {
        let request = t
            .app
            .client
            .get(t.app.url("/api/v1/auth/me"))
            .header("authorization", value);
        async move { request.send().await.unwrap() }
    };
    // RFC 6750 §2.1 and RFC 7235: the scheme is case-insensitive, and one
    // or more spaces may follow it.
    for accepted in [
        format!("Bearer {}", t.login),
        format!("bearer {}", t.login),
        format!("BEARER {}", t.login),
        format!("Bearer   {}", t.login),
    ] {
        assert_eq!(me(accepted.clone()).await.status(), 200, "{accepted:.12}");
    }
    for refused in [
        format!("Bearer{}", t.login),
        format!("Basic {}", t.login),
        format!("Bearer {} {}", t.login, t.login),
        format!("Bearer {}, Bearer {}", t.login, t.login),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Token {}", t.login),
    ] {
        assert_invalid_token(me(refused).await).await;
    }

    // Two Authorization headers: which one a proxy read is anyone's guess.
    for second in [t.login.as_str(), "junk"] {
        let response = t
            .app
            .client
            .get(t.app.url("/api/v1/auth/me"))
            .header("authorization", format!("Bearer {}", t.login))
            .header("authorization", format!("Bearer {second}"))
            .send()
            .await
            .unwrap();
        assert_invalid_token(response).await;
        let verify = t
            .app
            .client
            .get(t.app.url("/api/v1/auth/verify"))
            .header("authorization", format!("Bearer {}", t.login))
            .header("authorization", format!("Bearer {second}"))
            .header("x-original-uri", "/anything")
            .send()
            .await
            .unwrap();
        assert_eq!(verify.status(), 401);
    }

    // A token in the query string is never read (RFC 6750 §2.3 is not
    // offered: URLs end up in logs).
    let response = t
        .app
        .client
        .get(
            t.app
                .url(&format!("/api/v1/auth/me?access_token={}", t.login)),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "not_authenticated").await;
    let verify = t
        .app
        .client
        .get(
            t.app
                .url(&format!("/api/v1/auth/verify?access_token={}", t.api_key)),
        )
        .header("x-original-uri", "/anything")
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 401);
}
