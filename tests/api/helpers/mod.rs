//! `spawn_app()`: the real application on port 0, against a fresh database,
//! and every `TestApp` method the tests use.

mod api_keys;
mod gateways;
mod key_holders;
mod operators;
mod pages;
mod pg_cluster;

pub use api_keys::DAY;
pub use gateways::{raw_exchange, status_of, Gateway};
pub use operators::Caller;
pub use pages::{revealed_key, PageClient, PAGE_CLIENT_AGENT};
pub use pg_cluster::PgCluster;

use std::sync::LazyLock;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use latchkey::domain::{CompanyName, Email, Plan, Role};
use latchkey::settings::Settings;
use latchkey::startup::Application;
use latchkey::state::AppState;
use latchkey::store::audit::Actor;
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";

static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var("TEST_LOG").is_ok() {
        let settings = Settings::defaults().log;
        let _ = latchkey::telemetry::init(&settings, std::io::stdout);
    }
});

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: actix_web::web::Data<AppState>,
    pub settings: Settings,
    pub db: TestDatabase,
    /// How many keys `create_key_ok` has made: names must differ, since an
    /// active key's name is unique in its company.
    pub keys_made: std::sync::atomic::AtomicUsize,
}

/// A database of its own: a SQLite file in a temporary directory, or a new
/// PostgreSQL database when `LATCHKEY_TEST_DATABASE_URL` is set.
pub struct TestDatabase {
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn new() -> TestDatabase {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
            Ok(server) if !server.is_empty() => create_postgres_database(&server).await,
            _ => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("latchkey.db").display()
            ),
        };
        TestDatabase { url, dir }
    }

    /// Another handle on the same database, with a directory of its own:
    /// for a second instance or a CLI run beside the first.
    pub fn same_as(other: &TestDatabase) -> TestDatabase {
        TestDatabase {
            url: other.url.clone(),
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }
}

async fn create_postgres_database(server: &str) -> String {
    let name = format!("latchkey_test_{}", Uuid::new_v4().simple());
    let admin = Database::connect(server)
        .await
        .unwrap_or_else(|e| panic!("LATCHKEY_TEST_DATABASE_URL={server} is unreachable: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("CREATE DATABASE");
    let (base, _) = server
        .rsplit_once('/')
        .expect("a postgres URL with a database name");
    format!("{base}/{name}")
}

pub fn random_master_key() -> String {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).unwrap();
    STANDARD.encode(key)
}

/// Settings for a test: port 0, one worker, the given database, a random master key.
pub fn test_settings(db: &TestDatabase) -> Settings {
    let mut settings = Settings::defaults();
    settings.server.port = 0;
    settings.server.workers = 1;
    settings.database.url = SecretString::from(db.url.clone());
    settings.database.max_connections = 5;
    settings.secrets.master_key = SecretString::from(random_master_key());
    settings.secrets.master_key_file = db.dir.path().join("master.key");
    settings.revocation.poll_interval_ms = 100;
    // Two hashing threads per app, not one per core of a big CI runner.
    settings.passwords.max_concurrent_hashes = 2;
    // Every test talks from 127.0.0.1: the per-client limits are for the
    // tests that test them.
    let plenty = std::num::NonZeroU32::new(100_000).unwrap();
    settings.throttle.logins_per_ip_per_minute = plenty;
    settings.throttle.refreshes_per_ip_per_minute = plenty;
    settings.throttle.revocations_per_ip_per_minute = plenty;
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::new().await;
    let mut settings = test_settings(&db);
    customize(&mut settings);
    spawn_on(db, settings).await
}

/// Starts an application with exactly these settings on this database.
pub async fn spawn_on(db: TestDatabase, settings: Settings) -> TestApp {
    LazyLock::force(&TRACING);
    let app = Application::build(settings.clone())
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        // Idle connections are dropped before the server's keep-alive
        // (5 s) closes them: a request sent on a connection the server is
        // closing at that moment is reset, and would fail the test.
        client: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap(),
        state,
        settings,
        db,
        keys_made: Default::default(),
    }
}

pub struct TestUser {
    pub id: Uuid,
    pub email: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn create_user(&self, email: &str) -> TestUser {
        let password = SecretString::from(PASSWORD.to_owned());
        let hash = latchkey::passwords::hash_blocking(&password).unwrap();
        let email = Email::parse(email).unwrap();
        let user = self
            .state
            .store
            .create_user(&email, hash, false, |u| {
                latchkey::store::audit::Actor::named("test").entry("user.created", None, u.id)
            })
            .await
            .unwrap();
        TestUser {
            id: user.id,
            email: user.email,
        }
    }

    pub async fn create_company(&self, plan: &str) -> Uuid {
        let name = CompanyName::parse("Acme").unwrap();
        let plan = Plan::parse(plan, &self.settings).unwrap();
        self.state
            .store
            .create_company(&name, &plan)
            .await
            .unwrap()
            .id
    }

    /// In force here before it returns, as through the API.
    pub async fn add_member(&self, user: &TestUser, company_id: Uuid, role: Role) {
        self.state
            .accounts
            .add_member(user.id, company_id, role, &Actor::named("test"))
            .await
            .unwrap();
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Logs in and returns the token pair.
    pub async fn login_ok(&self, user: &TestUser) -> Value {
        let response = self.login(&user.email, PASSWORD).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn access_token(&self, user: &TestUser) -> String {
        self.login_ok(user).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// A POST whose body is sent as-is, labelled JSON: for malformed bodies.
    pub async fn post_raw_json(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/auth/refresh` with this refresh token (a JSON string).
    pub async fn refresh(&self, refresh_token: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/refresh"))
            .json(&json!({ "refresh_token": refresh_token }))
            .send()
            .await
            .unwrap()
    }

    pub async fn jwks(&self) -> Value {
        let response = self
            .client
            .get(self.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.get("/api/v1/auth/me", token).await
    }

    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().unwrap().parse().unwrap()
    }
}

/// The body every expired or invalid token gets, to the letter.
pub fn invalid_token_body() -> Value {
    json!({
        "type": "client_error",
        "errors": [{
            "code": "invalid_token",
            "detail": "The provided token is expired or invalid.",
            "attr": null,
            "extra": null
        }]
    })
}

pub async fn assert_invalid_token(response: reqwest::Response) {
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        challenge,
        r#"Bearer realm="latchkey", error="invalid_token""#
    );
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        invalid_token_body()
    );
}

/// Asserts the documented error shape and returns the first error item.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let body: Value = response.json().await.expect("a JSON error body");
    let expected_type = match status {
        400 => "validation_error",
        500..=599 => "server_error",
        _ => "client_error",
    };
    assert_eq!(body["type"], expected_type, "{body}");
    let errors = body["errors"].as_array().expect("errors is an array");
    assert_eq!(errors.len(), 1, "{body}");
    let item = errors[0].clone();
    assert_eq!(item["code"], code, "{body}");
    assert!(
        item["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(
        item.get("attr").is_some() && item.get("extra").is_some(),
        "{body}"
    );
    item
}

/// A service client that may call introspection.
#[derive(Clone)]
pub struct ServiceClient {
    pub id: String,
    pub secret: String,
}

impl TestApp {
    /// A new service client, already in force here.
    pub async fn create_client(&self) -> ServiceClient {
        let created = self
            .state
            .clients
            .create("test", false, &Actor::named("test"))
            .await
            .unwrap();
        ServiceClient {
            id: created.client_id,
            secret: created.client_secret,
        }
    }

    pub async fn introspect(&self, client: &ServiceClient, token: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/introspect"))
            .basic_auth(&client.id, Some(&client.secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
    }

    /// The introspection answer, which must be 200.
    pub async fn introspect_ok(&self, client: &ServiceClient, token: &str) -> Value {
        let response = self.introspect(client, token).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

pub fn inactive() -> Value {
    json!({ "active": false })
}

impl TestApp {
    /// Rows in the revocation log.
    pub async fn revocation_event_count(&self) -> u64 {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::revocation_events::Entity::find()
            .count(self.state.store.db())
            .await
            .unwrap()
    }

    /// Another instance on this app's database, with the same master key
    /// and revocation settings, started now.
    pub async fn replica(&self) -> TestApp {
        let db = TestDatabase::same_as(&self.db);
        let mut settings = test_settings(&db);
        settings.secrets.master_key = self.settings.secrets.master_key.clone();
        settings.revocation = self.settings.revocation.clone();
        settings.throttle = self.settings.throttle.clone();
        spawn_on(db, settings).await
    }

    /// The latchkey binary, on this app's database, for ops commands.
    pub fn cli(&self) -> crate::process::Latchkey {
        crate::process::Latchkey {
            db: TestDatabase::same_as(&self.db),
            master_key: String::new(),
        }
    }
}

/// Polls until `done` says yes; fails after two seconds. For what another
/// process writes, which the app applies at its next read of the log.
pub async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{what}: not within two seconds"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
