//! Builds the application: database, keys, revocation state, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use secrecy::ExposeSecret;

use crate::error::ApiError;
use crate::http;
use crate::passwords::PasswordHasher;
use crate::revocation::{spawn_followers, Follower, FollowerSettings};
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::Store;
use crate::throttle::{spawn_forgetting, Throttle};
use crate::tokens::{
    crypto_provider, KeyRing, MasterKey, TokenIssuer, TokenVerifier, VerifierSettings,
};
use crate::usage::{spawn_flusher, KeyUsage};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Connects, migrates, loads keys and revocation state, and binds
    /// (port 0 picks a free port). The server runs once awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect(&settings.database).await?;
        store.migrate().await?;
        let state = web::Data::new(build_state(settings, store).await?);
        spawn_flusher(
            state.usage.clone(),
            state.store.clone(),
            Duration::from_secs(state.settings.api_keys.last_used_flush_seconds),
        );
        spawn_forgetting(state.throttle.clone());
        spawn_followers(
            state.follower.clone(),
            Duration::from_millis(state.settings.revocation.poll_interval_ms),
            state.settings.database.url.expose_secret(),
        )
        .await;

        let server_settings = &state.settings.server;
        let listener = TcpListener::bind((server_settings.host.as_str(), server_settings.port))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot bind {}:{} (settings server.host, server.port): {e}",
                    server_settings.host,
                    server_settings.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let max_body = server_settings.max_body_bytes;
        let workers = server_settings.workers;
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(http::trailing_slash::trim_trailing_slash))
                .wrap(from_fn(http::content_encoding::refuse_encoded_bodies))
                .wrap(from_fn(http::request_id::request_id))
                .app_data(app_state.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                )
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::Invalid {
                        attr: None,
                        detail: e.to_string(),
                    }
                    .into()
                }))
                .configure(http::routes)
                .default_service(web::to(http::not_found))
        });
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        tracing::info!(address = %format!("{}:{port}", state.settings.server.host), "latchkey listening");
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Everything a request handler needs, loaded from the database.
pub async fn build_state(settings: Settings, store: Store) -> anyhow::Result<AppState> {
    crypto_provider::install();
    let master = MasterKey::load_or_create(&settings.secrets)?;
    let keys = Arc::new(KeyRing::load(&store, master, verify_grace(&settings)).await?);
    let follower_settings = FollowerSettings {
        max_staleness_seconds: settings.revocation.max_staleness_seconds,
        leeway_seconds: settings.tokens.leeway_seconds,
        log_retention: settings.revocation_log_retention(),
    };
    let follower = Arc::new(Follower::load(store.clone(), keys.clone(), follower_settings).await?);
    let issuer = TokenIssuer::new(
        keys.clone(),
        settings.issuer.clone(),
        settings.audience.clone(),
        settings.tokens.access_ttl_seconds,
    );
    let verifier = TokenVerifier::new(
        keys.clone(),
        VerifierSettings {
            issuer: &settings.issuer,
            audience: &settings.audience,
            leeway_seconds: settings.tokens.leeway_seconds,
            cache_capacity: settings.tokens.verified_cache_capacity,
            cache_ttl: Duration::from_secs(settings.tokens.verified_cache_ttl_seconds),
        },
    );
    let passwords = PasswordHasher::new(&settings.passwords)?;
    let throttle = Arc::new(Throttle::new(&settings.throttle));
    Ok(AppState {
        revocation: follower.state(),
        follower,
        settings: Arc::new(settings),
        store,
        keys,
        issuer,
        verifier,
        passwords,
        usage: Arc::new(KeyUsage::default()),
        throttle,
    })
}

/// A retired signing key verifies for as long as any token it signed may live.
pub fn verify_grace(settings: &Settings) -> chrono::Duration {
    let seconds = settings
        .tokens
        .access_ttl_seconds
        .max(settings.longest_key_lifetime_seconds())
        .saturating_add(settings.tokens.leeway_seconds);
    chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 1000))
}
