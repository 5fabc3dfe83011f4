//! A real latchkey, reached through a switchable proxy, and the datasets
//! service in front of it with a clock the test moves.

use std::net::TcpListener;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use datasets::Policies;
use latchkey::domain::{CompanyName, Email, Plan, Role};
use latchkey::settings::Settings;
use latchkey::startup::Application;
use latchkey::state::AppState;
use latchkey_client::{Latchkey, Policy, TestClock};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::outage::Proxy;

const PASSWORD: &str = "correct horse battery staple";

/// How long the datasets service reuses a live answer in these tests.
pub const INTROSPECTION_TTL: Duration = Duration::from_secs(2);

pub struct TestLatchkey {
    /// Where latchkey-client reaches latchkey: through the proxy.
    pub proxy: Proxy,
    direct: String,
    pub http: reqwest::Client,
    pub state: actix_web::web::Data<AppState>,
    pub settings: Settings,
    _dir: tempfile::TempDir,
}

pub async fn spawn_latchkey() -> TestLatchkey {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("LATCHKEY_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => create_postgres_database(&server).await,
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("latchkey.db").display()
        ),
    };
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).unwrap();
    let mut settings = Settings::defaults();
    settings.server.port = 0;
    settings.server.workers = 1;
    settings.database.url = SecretString::from(url);
    settings.database.max_connections = 5;
    settings.secrets.master_key = SecretString::from(STANDARD.encode(key));
    settings.revocation.poll_interval_ms = 100;
    let app = Application::build(settings.clone()).await.unwrap();
    let direct = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestLatchkey {
        proxy: Proxy::start(app_port(&direct)).await,
        direct,
        http: reqwest::Client::new(),
        state,
        settings,
        _dir: dir,
    }
}

fn app_port(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

async fn create_postgres_database(server: &str) -> String {
    // The prefix CI sweeps after a run.
    let name = format!("latchkey_test_datasets_{}", Uuid::new_v4().simple());
    let admin = Database::connect(server).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A member of a company on a plan with API keys, logged in.
pub struct Member {
    pub company_id: Uuid,
    pub login_token: String,
}

impl TestLatchkey {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.direct)
    }

    /// A new company with its owner, logged in.
    pub async fn member(&self) -> Member {
        let store = &self.state.store;
        let email = format!("{}@example.com", Uuid::new_v4().simple());
        let hash = latchkey::passwords::hash_blocking(&SecretString::from(PASSWORD)).unwrap();
        let user = store
            .create_user(&Email::parse(&email).unwrap(), hash, false, |u| {
                latchkey::store::audit::Actor::named("test").entry("user.created", None, u.id)
            })
            .await
            .unwrap();
        let plan = Plan::parse("professional", &self.settings).unwrap();
        let company = store
            .create_company(&CompanyName::parse("Acme").unwrap(), &plan)
            .await
            .unwrap();
        store
            .add_member(
                user.id,
                company.id,
                Role::Owner,
                &latchkey::store::audit::Actor::named("datasets"),
            )
            .await
            .unwrap();
        self.state.follower.catch_up().await.unwrap();
        let login: Value = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Member {
            company_id: company.id,
            login_token: login["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates an API key of `member`'s company: the creation answer.
    pub async fn create_key(&self, member: &Member, body: Value) -> Value {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/companies/{}/api-keys", member.company_id)))
            .bearer_auth(&member.login_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// An API key of `member`'s company, valid for an hour: (id, token).
    /// Each gets a name of its own, as a company's active keys must.
    pub async fn api_key(&self, member: &Member) -> (String, String) {
        let key = self
            .create_key(
                member,
                json!({ "name": unique_key_name(), "expires_in": 3600 }),
            )
            .await;
        (
            key["id"].as_str().unwrap().to_owned(),
            key["token"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn delete_key(&self, member: &Member, key_id: &str) {
        let response = self
            .http
            .delete(self.url(&format!(
                "/api/v1/companies/{}/api-keys/{key_id}",
                member.company_id
            )))
            .bearer_auth(&member.login_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }

    /// A service client for introspection: (client_id, client_secret).
    pub async fn service_client(&self) -> (String, String) {
        let client_id = Uuid::now_v7().to_string();
        let secret = latchkey::tokens::random_secret();
        let hash = latchkey::tokens::sha256_hex(&secret);
        self.state
            .store
            .create_service_client(
                client_id.clone(),
                hash,
                "datasets".to_owned(),
                false,
                &latchkey::store::audit::Actor::named("datasets"),
            )
            .await
            .unwrap();
        self.state.follower.catch_up().await.unwrap();
        (client_id, secret)
    }
}

/// The datasets service, checking tokens with a clock the test moves.
pub struct TestDatasets {
    pub address: String,
    pub clock: TestClock,
    pub http: reqwest::Client,
}

/// Reads offline, writes live: the example's defaults.
pub const DEFAULT_POLICIES: Policies = Policies {
    read: Policy::Offline,
    write: Policy::Live,
};

pub async fn spawn_datasets(latchkey: &TestLatchkey, policies: Policies) -> TestDatasets {
    let (client_id, client_secret) = latchkey.service_client().await;
    let clock = TestClock::new();
    let client = Latchkey::builder(latchkey.proxy.url())
        .issuer(&latchkey.settings.issuer)
        .audience(&latchkey.settings.audience)
        .client_credentials(client_id, client_secret)
        .introspection_ttl(INTROSPECTION_TTL, Duration::from_secs(1))
        .clock(clock.clone())
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(datasets::serve(listener, client, policies).unwrap());
    TestDatasets {
        address,
        clock,
        http: reqwest::Client::new(),
    }
}

impl TestDatasets {
    pub fn datasets_path(company_id: Uuid) -> String {
        format!("/api/v1/companies/{company_id}/datasets/")
    }

    pub async fn list(&self, company_id: Uuid, token: &str) -> reqwest::Response {
        self.get(&Self::datasets_path(company_id), token).await
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn create(&self, company_id: Uuid, token: &str) -> reqwest::Response {
        self.http
            .post(format!(
                "{}{}",
                self.address,
                Self::datasets_path(company_id)
            ))
            .bearer_auth(token)
            .json(&json!({ "name": "sales" }))
            .send()
            .await
            .unwrap()
    }
}

/// Asserts latchkey's documented error shape, status and code.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let expected_type = if status >= 500 {
        "server_error"
    } else {
        "client_error"
    };
    assert_eq!(body["type"], expected_type, "{body}");
    assert_eq!(body["errors"][0]["code"], code, "{body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
    body
}

/// Exactly the 401 the product docs promise for an expired or invalid token.
pub async fn assert_invalid_token(response: reqwest::Response) {
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer realm="latchkey", error="invalid_token""#
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"type": "client_error", "errors": [{
            "code": "invalid_token",
            "detail": "The provided token is expired or invalid.",
            "attr": null, "extra": null
        }]})
    );
}

/// latchkey, a company with an API key, and the datasets service in front.
pub struct Scene {
    pub latchkey: TestLatchkey,
    pub member: Member,
    pub key_id: String,
    pub key: String,
    pub datasets: TestDatasets,
}

pub async fn scene(policies: Policies) -> Scene {
    let latchkey = spawn_latchkey().await;
    let member = latchkey.member().await;
    let (key_id, key) = latchkey.api_key(&member).await;
    let datasets = spawn_datasets(&latchkey, policies).await;
    Scene {
        latchkey,
        member,
        key_id,
        key,
        datasets,
    }
}

impl Scene {
    /// `GET` the datasets of the scene's company.
    pub async fn list(&self, token: &str) -> reqwest::Response {
        self.datasets.list(self.member.company_id, token).await
    }

    /// `POST` a dataset to the scene's company.
    pub async fn create(&self, token: &str) -> reqwest::Response {
        self.datasets.create(self.member.company_id, token).await
    }
}

/// "datasets 1", "datasets 2"…: an active key's name is unique in its company.
fn unique_key_name() -> String {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    format!("datasets {n}")
}
