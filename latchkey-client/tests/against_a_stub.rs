//! The crate against a stub of latchkey that serves a JWKS of our own key
//! and counts its fetches: scope enforcement on tokens latchkey would never
//! sign (an empty `scope`), and the refresh rules, which latchkey cannot
//! drive cheaply (junk `kid`s). The black-box tests against a real latchkey
//! are in `examples/datasets/tests`.

mod stub;

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::test::{call_service, init_service, read_body_json, TestRequest};
use actix_web::{web, App, HttpResponse};
use latchkey_client::{Caller, Latchkey, Policy, TestClock};
use serde_json::{json, Value};
use stub::{datasets_path, start_stub, COMPANY};

async fn show_caller(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "subject": caller.subject,
        "company_id": caller.company_id,
        "token_id": caller.token_id,
        "scopes": caller.scopes.iter().collect::<Vec<_>>(),
        "unrestricted": caller.scopes.is_unrestricted(),
    }))
}

const DATASETS_ROUTE: &str = "/api/v1/companies/{company_id}/datasets/";

/// `GET` of the datasets route, protected offline, answering with the caller.
fn offline_get(latchkey: &Latchkey) -> actix_web::Route {
    web::get()
        .to(show_caller)
        .wrap(latchkey.protect(Policy::Offline))
}

#[actix_web::test]
async fn a_route_needing_a_scope_refuses_keys_without_it_with_403_insufficient_scope() {
    let stub = start_stub();
    let latchkey = stub.client(&TestClock::new());
    let app = init_service(
        App::new().route(
            "/api/v1/companies/{company_id}/datasets/",
            web::post().to(show_caller).wrap(
                latchkey
                    .protect(Policy::Offline)
                    .require_scope("datasets:write"),
            ),
        ),
    )
    .await;
    let call = |token: String| {
        TestRequest::post()
            .uri(&datasets_path())
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_request()
    };

    let reader = stub.api_key("k1", json!({"scope": "datasets:read"}));
    let response = call_service(&app, call(reader)).await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers().get("www-authenticate").unwrap(),
        r#"Bearer realm="latchkey", error="insufficient_scope", scope="datasets:write""#
    );
    let body: Value = read_body_json(response).await;
    assert_eq!(
        body,
        json!({"type": "client_error", "errors": [{
            "code": "insufficient_scope",
            "detail": "This token lacks the scope this action needs.",
            "attr": null, "extra": {"scope": "datasets:write"},
        }]})
    );

    let writer = stub.api_key("k1", json!({"scope": "datasets:read datasets:write"}));
    let response = call_service(&app, call(writer)).await;
    assert_eq!(response.status(), 200);
    let caller: Value = read_body_json(response).await;
    assert_eq!(caller["scopes"], json!(["datasets:read", "datasets:write"]));
    assert_eq!(caller["company_id"], COMPANY);

    let unrestricted = stub.api_key("k1", json!({}));
    let response = call_service(&app, call(unrestricted)).await;
    assert_eq!(response.status(), 200);
    let caller: Value = read_body_json(response).await;
    assert_eq!(caller["unrestricted"], true);

    let malformed_scope = stub.api_key("k1", json!({"scope": ""}));
    assert_eq!(
        call_service(&app, call(malformed_scope)).await.status(),
        401
    );
}

/// latchkey refuses a request with two `Authorization` headers (a proxy in
/// front may have judged the other one); so does the client.
#[actix_web::test]
async fn two_authorization_headers_are_refused_even_if_one_is_good() {
    let stub = start_stub();
    let latchkey = stub.client(&TestClock::new());
    let app = init_service(App::new().route(DATASETS_ROUTE, offline_get(&latchkey))).await;
    let good = stub.api_key("k1", json!({}));
    let once = TestRequest::get()
        .uri(&datasets_path())
        .insert_header(("authorization", format!("Bearer {good}")))
        .to_request();
    assert_eq!(call_service(&app, once).await.status(), 200);
    for (first, second) in [
        (format!("Bearer {good}"), "Bearer junk".to_owned()),
        ("Bearer junk".to_owned(), format!("Bearer {good}")),
        (format!("Bearer {good}"), format!("Bearer {good}")),
    ] {
        let twice = TestRequest::get()
            .uri(&datasets_path())
            .append_header(("authorization", first))
            .append_header(("authorization", second))
            .to_request();
        assert_eq!(call_service(&app, twice).await.status(), 401);
    }
}

/// The verified cache knows a token by its signature. A verified token's
/// signature under other claims (a scoped key's signature on an unscoped
/// key's payload) is a forgery, not a hit; and trying one leaves the cached
/// token working.
#[actix_web::test]
async fn a_cached_signature_does_not_vouch_for_other_claims() {
    let stub = start_stub();
    let latchkey = stub.client(&TestClock::new());
    let app = init_service(App::new().route(DATASETS_ROUTE, offline_get(&latchkey))).await;
    let call = |token: &str| {
        TestRequest::get()
            .uri(&datasets_path())
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_request()
    };
    let reader = stub.api_key("k1", json!({"scope": "datasets:read"}));
    let unscoped = stub.api_key("k1", json!({}));
    assert_eq!(call_service(&app, call(&reader)).await.status(), 200);

    let (_, reader_signature) = reader.rsplit_once('.').unwrap();
    let (unscoped_signed, _) = unscoped.rsplit_once('.').unwrap();
    let grafted = format!("{unscoped_signed}.{reader_signature}");
    for _ in 0..2 {
        assert_eq!(call_service(&app, call(&grafted)).await.status(), 401);
    }

    let response = call_service(&app, call(&reader)).await;
    assert_eq!(response.status(), 200);
    let body: Value = read_body_json(response).await;
    assert_eq!(body["scopes"], json!(["datasets:read"]));
    let response = call_service(&app, call(&unscoped)).await;
    assert_eq!(response.status(), 200);
    let body: Value = read_body_json(response).await;
    assert_eq!(body["unrestricted"], json!(true));
}

#[actix_web::test]
async fn the_bare_extractor_checks_by_the_default_policy() {
    let stub = start_stub();
    let latchkey = stub.client(&TestClock::new());
    let app = init_service(App::new().app_data(latchkey.clone()).route(
        "/api/v1/companies/{company_id}/datasets/",
        web::get().to(show_caller),
    ))
    .await;
    let get = |path: String, token: Option<String>| {
        let mut request = TestRequest::get().uri(&path);
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
        request.to_request()
    };

    let key = stub.api_key("k1", json!({}));
    assert_eq!(
        call_service(&app, get(datasets_path(), Some(key.clone())))
            .await
            .status(),
        200
    );
    assert_eq!(
        call_service(&app, get(datasets_path(), None))
            .await
            .status(),
        401
    );
    let other = "/api/v1/companies/0193a1b2-0000-7000-8000-000000000002/datasets/".to_owned();
    assert_eq!(
        call_service(&app, get(other, Some(key))).await.status(),
        403
    );
}

#[actix_web::test]
async fn junk_kids_cannot_make_the_client_hammer_latchkey() {
    let stub = start_stub();
    let clock = TestClock::new();
    let latchkey = stub.client(&clock);
    latchkey.fetch_keys().await.unwrap();
    assert_eq!(stub.fetches.load(Ordering::SeqCst), 1);

    // Right after a fetch, no unknown kid causes another.
    for i in 0..50 {
        let junk = stub.api_key(&format!("junk-{i}"), json!({}));
        assert!(latchkey.verify(&junk, Policy::Offline).await.is_err());
    }
    assert_eq!(stub.fetches.load(Ordering::SeqCst), 1);

    // Once the minimum interval has passed, one unknown kid may cause one.
    clock.advance(Duration::from_secs(5));
    for i in 0..50 {
        let junk = stub.api_key(&format!("junk-{i}"), json!({}));
        assert!(latchkey.verify(&junk, Policy::Offline).await.is_err());
    }
    assert_eq!(stub.fetches.load(Ordering::SeqCst), 2);

    // Known keys keep verifying, and the cached JWKS is reused within its age.
    let key = stub.api_key("k1", json!({}));
    assert!(latchkey.verify(&key, Policy::Offline).await.is_ok());
    assert_eq!(stub.fetches.load(Ordering::SeqCst), 2);
    clock.advance(Duration::from_secs(61));
    assert!(latchkey.verify(&key, Policy::Offline).await.is_ok());
    assert_eq!(
        stub.fetches.load(Ordering::SeqCst),
        3,
        "an old JWKS is fetched again"
    );
}

#[test]
#[should_panic(expected = "needs LatchkeyBuilder::client_credentials")]
fn a_live_route_without_client_credentials_fails_at_set_up() {
    let latchkey = Latchkey::builder("http://127.0.0.1:1").build().unwrap();
    let _ = latchkey.protect(Policy::Live);
}

#[test]
fn settings_that_would_break_the_bounds_are_refused() {
    let long = Latchkey::builder("http://127.0.0.1:1")
        .client_credentials("id", "secret")
        .introspection_ttl(Duration::from_secs(60), Duration::from_secs(1))
        .build();
    assert!(long.is_err());
    let inverted = Latchkey::builder("http://127.0.0.1:1")
        .client_credentials("id", "secret")
        .introspection_ttl(Duration::from_secs(1), Duration::from_secs(2))
        .build();
    assert!(inverted.is_err());
    assert!(Latchkey::builder("127.0.0.1:8080").build().is_err());
    assert!(Latchkey::builder("http://127.0.0.1:1")
        .default_policy(Policy::Live)
        .build()
        .is_err());
}
