//! Crash consistency: a real `latchkey serve` creating and deleting keys in
//! a loop is SIGKILLed at a random moment, then started again on the same
//! database. Every key whose 201 was received works, every key whose 204
//! was received is dead, and nothing is half-made: each key row, its audit
//! rows and its access events exist together or not at all.
//!
//! `LATCHKEY_CRASH_ITERATIONS` sets how many crashes (default 3, for CI's
//! time); run it 20 times with `LATCHKEY_CRASH_ITERATIONS=20 cargo test
//! --test api crash`, on PostgreSQL too with `LATCHKEY_TEST_DATABASE_URL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{Database, EntityTrait};
use serde_json::{json, Value};

use crate::process::{Latchkey, Server};

const PASSWORD: &str = "correct horse battery staple";
const WORKERS: usize = 3;

/// What the clients were told before the crash.
#[derive(Default)]
struct Outcomes {
    /// Created (201) and not known to be deleted: id → token.
    alive: HashMap<String, String>,
    /// Deleted (204): id → token.
    dead: HashMap<String, String>,
}

struct Fixture {
    latchkey: Latchkey,
    company_id: String,
    client: (String, String),
}

fn iterations() -> usize {
    std::env::var("LATCHKEY_CRASH_ITERATIONS")
        .ok()
        .map(|n| n.parse().expect("LATCHKEY_CRASH_ITERATIONS is a number"))
        .unwrap_or(3)
}

async fn fixture() -> Fixture {
    let latchkey = Latchkey::new().await;
    let (company_id, _) =
        latchkey.owner_of_new_company("professional_unlimited", "ada@example.com", PASSWORD);
    let client = latchkey.run_json(&["client", "create", "--name", "checker", "--json"], "");
    Fixture {
        latchkey,
        company_id,
        client: (
            client["client_id"].as_str().unwrap().to_owned(),
            client["client_secret"].as_str().unwrap().to_owned(),
        ),
    }
}

fn serve(latchkey: &Latchkey) -> Server {
    latchkey.serve_with(
        "info",
        &[
            ("LATCHKEY_THROTTLE__KEY_CREATIONS_PER_MINUTE", "1000000"),
            ("LATCHKEY_THROTTLE__KEY_CREATION_BURST", "1000000"),
        ],
    )
}

fn random_below(bound: u64) -> u64 {
    let mut bytes = [0u8; 8];
    SystemRandom::new().fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes) % bound
}

async fn login(address: &str) -> String {
    let response: Value = reqwest::Client::new()
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["access_token"].as_str().unwrap().to_owned()
}

/// Creates keys and deletes every other one until the server is gone,
/// noting each answer received.
async fn churn(keys_url: String, token: String, name: String, outcomes: Arc<Mutex<Outcomes>>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    for n in 0.. {
        let created = client
            .post(&keys_url)
            .bearer_auth(&token)
            .json(&json!({ "name": format!("{name} {n}"), "expires_in": 86_400 }))
            .send()
            .await;
        let Ok(created) = created else { return };
        assert_eq!(created.status(), 201, "creating a key");
        let Ok(key) = created.json::<Value>().await else {
            return;
        };
        let id = key["id"].as_str().unwrap().to_owned();
        let key_token = key["token"].as_str().unwrap().to_owned();
        outcomes
            .lock()
            .unwrap()
            .alive
            .insert(id.clone(), key_token.clone());
        if n % 2 == 1 {
            continue;
        }
        let deleted = client
            .delete(format!("{keys_url}/{id}"))
            .bearer_auth(&token)
            .send()
            .await;
        let mut outcomes = outcomes.lock().unwrap();
        // Sent but unanswered: it may or may not have happened.
        outcomes.alive.remove(&id);
        let Ok(deleted) = deleted else { return };
        assert_eq!(deleted.status(), 204, "deleting a key");
        outcomes.dead.insert(id, key_token);
    }
}

async fn introspect(address: &str, client: &(String, String), token: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{address}/api/v1/introspect"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Each key row has its creation's audit row and event, and, once deleted,
/// its deletion's; no audit row or event names a key that is not so.
async fn assert_nothing_half_made(url: &str) {
    let db = Database::connect(url).await.unwrap();
    let keys = entity::api_keys::Entity::find().all(&db).await.unwrap();
    let audit = entity::audit_events::Entity::find().all(&db).await.unwrap();
    let events = entity::revocation_events::Entity::find()
        .all(&db)
        .await
        .unwrap();
    let mut expected: HashMap<(String, &str), usize> = HashMap::new();
    for key in &keys {
        *expected.entry((key.id.to_string(), "created")).or_default() += 1;
        if key.deleted_at.is_some() {
            *expected.entry((key.id.to_string(), "deleted")).or_default() += 1;
        }
    }
    let mut audited: HashMap<(String, &str), usize> = HashMap::new();
    for row in &audit {
        let what = match row.action.as_str() {
            "api_key.created" => "created",
            "api_key.deleted" => "deleted",
            _ => continue,
        };
        *audited
            .entry((row.target.clone().unwrap_or_default(), what))
            .or_default() += 1;
    }
    let mut logged: HashMap<(String, &str), usize> = HashMap::new();
    for row in &events {
        let what = match row.kind.as_str() {
            "key_created" => "created",
            "key_deleted" => "deleted",
            _ => continue,
        };
        *logged.entry((row.subject.clone(), what)).or_default() += 1;
    }
    assert_eq!(audited, expected, "audit rows against key rows");
    assert_eq!(logged, expected, "access events against key rows");
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_server_killed_mid_write_keeps_every_answer_it_gave_and_nothing_half_made() {
    let fixture = fixture().await;
    let mut told = Outcomes::default();
    let mut crashes = 0;
    for iteration in 0..iterations() {
        let mut server = serve(&fixture.latchkey);
        let token = login(&server.address).await;
        let keys_url = format!(
            "{}/api/v1/companies/{}/api-keys",
            server.address, fixture.company_id
        );
        let outcomes = Arc::new(Mutex::new(Outcomes::default()));
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                tokio::spawn(churn(
                    keys_url.clone(),
                    token.clone(),
                    format!("crash {iteration} worker {w}"),
                    outcomes.clone(),
                ))
            })
            .collect();
        // A random moment within the churn (each iteration's writes keep
        // going until the kill); at most 200 ms, as every sleep in the suite.
        tokio::time::sleep(Duration::from_millis(20 + random_below(180))).await;
        server.kill();
        for worker in workers {
            worker.await.unwrap();
        }
        let outcomes = Arc::into_inner(outcomes).unwrap().into_inner().unwrap();
        crashes += 1;
        told.alive.extend(outcomes.alive);
        told.dead.extend(outcomes.dead);

        let server = serve(&fixture.latchkey);
        for (id, token) in &told.alive {
            let answer = introspect(&server.address, &fixture.client, token).await;
            assert_eq!(
                answer["active"], true,
                "key {id} was created (201), crash {iteration}"
            );
        }
        for (id, token) in &told.dead {
            let answer = introspect(&server.address, &fixture.client, token).await;
            assert_eq!(
                answer,
                json!({ "active": false }),
                "key {id} was deleted (204)"
            );
        }
        drop(server);
        assert_nothing_half_made(&fixture.latchkey.db.url).await;
    }
    assert_eq!(crashes, iterations());
    assert!(
        !told.alive.is_empty() && !told.dead.is_empty(),
        "the loop made and deleted keys before the crashes"
    );
}
