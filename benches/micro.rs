//! Criterion micro-benchmarks: where each microsecond of a token check or a
//! token's issue goes. `cargo bench --bench micro`; not run by CI (clippy
//! only builds it). Figures go into BENCHMARKS.md beside the load figures.

#[allow(dead_code)]
#[path = "load/seed.rs"]
mod seed;

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use latchkey::clock::Clock;
use latchkey::domain::AccessEvent;
use latchkey::settings::Settings;
use latchkey::state::AppState;
use latchkey::store::Store;
use latchkey::tokens::token_digest;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use secrecy::SecretString;
use uuid::Uuid;

struct Fixture {
    seeded: seed::Seeded,
    /// The same database and keys, with the verified cache off.
    uncached: AppState,
    _dir: tempfile::TempDir,
}

fn fixture(runtime: &tokio::runtime::Runtime) -> Fixture {
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("micro.db").display()
        );
        let seeded = seed::base(&url).await.unwrap();
        let mut settings = Settings::defaults();
        settings.database.url = SecretString::from(url);
        settings.secrets.master_key = SecretString::from(seeded.master_key.clone());
        settings.tokens.verified_cache_capacity = 0;
        let store = Store::connect(&settings.database, Clock::system())
            .await
            .unwrap();
        let uncached = AppState::build(settings, store).await.unwrap();
        Fixture {
            seeded,
            uncached,
            _dir: dir,
        }
    })
}

/// An API key in the allow-list with its digest, as a creation leaves it.
fn api_key(fixture: &Fixture) -> String {
    let seeded = &fixture.seeded;
    let expires_at = Utc::now() + Duration::days(30);
    let id = Uuid::now_v7();
    let issued = seeded
        .state
        .issuer
        .api_key(id, seeded.user_id, seeded.company_id, expires_at, None)
        .unwrap();
    seeded.state.access.apply([AccessEvent::KeyCreated {
        key_id: id,
        company_id: seeded.company_id,
        user_id: seeded.user_id,
        expires_at,
        digest: Some(token_digest(&issued.token)),
        scopes: None,
    }]);
    issued.token
}

fn token_checks(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fixture = fixture(&runtime);
    let state = &fixture.seeded.state;
    let key = api_key(&fixture);
    let short = state
        .issuer
        .short_lived(fixture.seeded.user_id, Uuid::now_v7())
        .unwrap()
        .token;
    assert!(state.authenticator.authenticate(&key).is_ok());
    assert!(state.authenticator.authenticate(&short).is_ok());
    assert!(fixture.uncached.authenticator.authenticate(&short).is_ok());

    c.bench_function("SHA-256 of an API key's token", |b| {
        b.iter(|| token_digest(black_box(&key)))
    });
    c.bench_function("api key, by its digest (authenticate)", |b| {
        b.iter(|| state.authenticator.authenticate(black_box(&key)).unwrap())
    });
    c.bench_function("short-lived, verified-cache hit (authenticate)", |b| {
        b.iter(|| state.authenticator.authenticate(black_box(&short)).unwrap())
    });
    c.bench_function("short-lived, cache off: Ed25519 (authenticate)", |b| {
        b.iter(|| {
            fixture
                .uncached
                .authenticator
                .authenticate(black_box(&short))
                .unwrap()
        })
    });
    let forged = forged_key(&key);
    c.bench_function("forged api key, refused unsigned (authenticate)", |b| {
        b.iter(|| {
            state
                .authenticator
                .authenticate(black_box(&forged))
                .unwrap_err()
        })
    });

    let pair = Ed25519KeyPair::from_pkcs8(
        Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .unwrap()
            .as_ref(),
    )
    .unwrap();
    let message = [7u8; 300];
    let signature = pair.sign(&message);
    let public = UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref().to_vec());
    c.bench_function("Ed25519 verify alone (ring, 300 bytes)", |b| {
        b.iter(|| {
            public
                .verify(black_box(&message), signature.as_ref())
                .unwrap()
        })
    });
}

fn issuing(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fixture = fixture(&runtime);
    let seeded = &fixture.seeded;
    let expires_at = Utc::now() + Duration::days(30);
    c.bench_function("issue a short-lived token", |b| {
        b.iter(|| {
            seeded
                .state
                .issuer
                .short_lived(seeded.user_id, Uuid::now_v7())
                .unwrap()
        })
    });
    c.bench_function("issue an API key (sign + digest)", |b| {
        b.iter(|| {
            let issued = seeded
                .state
                .issuer
                .api_key(
                    Uuid::now_v7(),
                    seeded.user_id,
                    seeded.company_id,
                    expires_at,
                    Some("datasets:read".to_owned()),
                )
                .unwrap();
            token_digest(&issued.token)
        })
    });
}

/// The key's token naming another, inactive key id: what a forgery flood sends.
fn forged_key(token: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut parts = token.split('.');
    let (header, payload, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["jti"] = serde_json::json!(Uuid::now_v7());
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    format!("{header}.{payload}.{signature}")
}

/// A few seconds per benchmark: eight of them, and the machine is shared.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .sample_size(50)
}

/// What `metrics.enabled` costs a request (issue #10): counting it and
/// timing it under its route and status, the work `false` leaves out.
fn metrics(c: &mut Criterion) {
    let metrics = latchkey::monitoring::Metrics::new(["free", "professional"]);
    let latency = std::time::Duration::from_micros(800);
    metrics.record_request("/api/v1/introspect".to_owned(), 200, latency);
    // The samples are folded into buckets now and then, as the server's
    // upkeep task does every few seconds (here its share is counted in).
    let recorded = std::cell::Cell::new(0u32);
    c.bench_function(
        "record one request's metrics (route, status, latency)",
        |b| {
            b.iter(|| {
                metrics.record_request(
                    black_box("/api/v1/introspect").to_owned(),
                    black_box(200),
                    black_box(latency),
                );
                recorded.set(recorded.get().wrapping_add(1));
                if recorded.get().is_multiple_of(65_536) {
                    metrics.run_upkeep();
                }
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = config();
    targets = token_checks, issuing, metrics
}
criterion_main!(benches);
