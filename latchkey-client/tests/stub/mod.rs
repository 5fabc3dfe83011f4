//! A stub of latchkey: a JWKS of our own key and an introspection endpoint
//! whose answer the test sets, counting the requests each gets.

#![allow(dead_code)] // each test file uses its own part

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::{web, App, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use latchkey_client::{Clock, Latchkey, TestClock};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};

pub const ISSUER: &str = "https://auth.example";
pub const COMPANY: &str = "0193a1b2-0000-7000-8000-000000000001";
pub const SUBJECT: &str = "0193a1b2-0000-7000-8000-00000000000a";
pub const KEY_ID: &str = "0193a1b2-0000-7000-8000-00000000000b";

/// What introspection answers, and how long it "takes" on the test clock.
#[derive(Clone)]
pub struct Introspection {
    pub answer: Arc<Mutex<Value>>,
    pub requests: Arc<AtomicUsize>,
    /// The test clock moves this much while each answer is prepared.
    pub takes: Arc<Mutex<Duration>>,
}

impl Introspection {
    pub fn answer(&self, answer: Value) {
        *self.answer.lock().unwrap() = answer;
    }

    pub fn takes(&self, duration: Duration) {
        *self.takes.lock().unwrap() = duration;
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// The answer latchkey gives an active API key of `stub.api_key`.
pub fn active(scope: Option<&str>) -> Value {
    let mut answer = json!({
        "active": true, "token_type": "Bearer", "kind": "private",
        "sub": SUBJECT, "jti": KEY_ID, "company_id": COMPANY,
    });
    if let Some(scope) = scope {
        answer["scope"] = json!(scope);
    }
    answer
}

pub struct Stub {
    pub url: String,
    pub key: Ed25519KeyPair,
    pub fetches: Arc<AtomicUsize>,
    pub introspection: Introspection,
    pub clock: TestClock,
}

pub fn start_stub() -> Stub {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let jwks = json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "k1",
        "x": URL_SAFE_NO_PAD.encode(key.public_key().as_ref()),
    }]})
    .to_string();
    let fetches = Arc::new(AtomicUsize::new(0));
    let introspection = Introspection {
        answer: Arc::new(Mutex::new(json!({"active": false}))),
        requests: Arc::new(AtomicUsize::new(0)),
        takes: Arc::new(Mutex::new(Duration::ZERO)),
    };
    let clock = TestClock::new();
    let (counter, introspect, stub_clock) = (fetches.clone(), introspection.clone(), clock.clone());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = actix_web::HttpServer::new(move || {
        let (jwks, counter) = (jwks.clone(), counter.clone());
        let (introspect, clock) = (introspect.clone(), stub_clock.clone());
        App::new()
            .route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let jwks = jwks.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(jwks)
                    }
                }),
            )
            .route(
                "/api/v1/introspect",
                web::post().to(move || {
                    introspect.requests.fetch_add(1, Ordering::SeqCst);
                    clock.advance(*introspect.takes.lock().unwrap());
                    let answer = introspect.answer.lock().unwrap().clone();
                    async move { HttpResponse::Ok().json(answer) }
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Stub {
        url,
        key,
        fetches,
        introspection,
        clock,
    }
}

impl Stub {
    /// An offline-only client on `clock`.
    pub fn client(&self, clock: &TestClock) -> Latchkey {
        Latchkey::builder(&self.url)
            .issuer(ISSUER)
            .clock(clock.clone())
            .build()
            .unwrap()
    }

    /// A client that may introspect, on the stub's own clock (which moves
    /// while the stub answers): answers reused 2 s, refusals 1 s.
    pub fn live_client(&self) -> Latchkey {
        Latchkey::builder(&self.url)
            .issuer(ISSUER)
            .clock(self.clock.clone())
            .client_credentials("datasets", "secret")
            .introspection_ttl(Duration::from_secs(2), Duration::from_secs(1))
            .build()
            .unwrap()
    }

    /// An API key of COMPANY signed with the stub's key, with these extra
    /// claims, valid for an hour from the stub clock's now.
    pub fn api_key(&self, kid: &str, extra: Value) -> String {
        let now = self.clock.unix_seconds().max(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64,
        );
        let mut claims = json!({
            "iss": ISSUER, "aud": "latchkey", "sub": SUBJECT,
            "iat": now, "nbf": now, "exp": now + 3600,
            "jti": KEY_ID,
            "kind": "private", "company_id": COMPANY,
        });
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let header = json!({"alg": "EdDSA", "typ": "apikey+jwt", "kid": kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = URL_SAFE_NO_PAD.encode(self.key.sign(input.as_bytes()));
        format!("{input}.{signature}")
    }
}

pub fn datasets_path() -> String {
    format!("/api/v1/companies/{COMPANY}/datasets/")
}
