//! Builds the application (database, keys, access state, services, HTTP
//! server, background tasks) and runs it until it is stopped.

use std::net::TcpListener;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use secrecy::ExposeSecret;

use crate::access::tasks::{spawn_doorbell, spawn_poller, spawn_pruner};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::http;
use crate::lifecycle::{stop_requested, BackgroundTasks};
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::Store;
use crate::throttle::spawn_forgetting;
use crate::usage::spawn_flusher;

pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` on a port of its own, when `metrics.port` is set.
    metrics: Option<(Server, u16)>,
    state: web::Data<AppState>,
    tasks: BackgroundTasks,
}

impl Application {
    /// Connects, migrates, loads keys and the access state, starts the
    /// background tasks, and binds (port 0 picks a free port). The server
    /// runs once awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect(&settings.database, Clock::system()).await?;
        store.migrate().await?;
        let state = web::Data::new(AppState::build(settings, store).await?);
        let tasks = spawn_tasks(&state).await;
        let (server, port) = http_server(state.clone())?;
        tracing::info!(address = %format!("{}:{port}", state.settings.server.host), "latchkey listening");
        let metrics = metrics_server(state.clone())?;
        if let Some((_, metrics_port)) = &metrics {
            tracing::info!(
                metrics_address = %format!("{}:{metrics_port}", state.settings.server.host),
                "metrics listening"
            );
        }
        Ok(Application {
            port,
            server,
            metrics,
            state,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `/metrics` when it has one of its own.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Stops the server gracefully (`stop(true)`): it stops accepting and
    /// finishes the requests in flight.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through `handle()`, then stops the background
    /// tasks and writes the `last_used_at` values still pending.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            (tokio::spawn(server), handle)
        });
        let served = self.server.await;
        if let Some((metrics_server, handle)) = metrics {
            handle.stop(true).await;
            let _ = metrics_server.await;
        }
        self.tasks.stop().await;
        self.state.usage.flush(&self.state.store).await;
        tracing::info!("latchkey stopped");
        served
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down as `run_until_stopped`.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let handle = self.handle();
        tokio::spawn(async move {
            stop_requested().await;
            handle.stop(true).await;
        });
        self.run_until_stopped().await
    }
}

async fn spawn_tasks(state: &web::Data<AppState>) -> BackgroundTasks {
    let settings = &state.settings;
    let mut tasks = BackgroundTasks::default();
    let flush_every = settings.api_keys.last_used_flush_interval();
    let flusher = spawn_flusher(state.usage.clone(), state.store.clone(), flush_every);
    tasks.add("usage flusher", flusher);
    tasks.add(
        "throttle clean-up",
        spawn_forgetting(
            state.throttle.clone(),
            state.store.clone(),
            settings.throttle.login_failure_window_ms(),
        ),
    );
    let poll_every = settings.revocation.poll_interval();
    tasks.add(
        "log poller",
        spawn_poller(state.follower.clone(), poll_every),
    );
    tasks.add("pruner", spawn_pruner(state.follower.clone()));
    tasks.add(
        "metrics upkeep",
        spawn_metrics_upkeep(state.metrics.clone()),
    );
    if let Some(every) = settings.signing_keys.rotation_interval() {
        tasks.add(
            "signing key rotation",
            spawn_key_rotation(state.keys.clone(), state.store.clone(), every),
        );
    }
    let database_url = settings.database.url.expose_secret();
    if let Some(doorbell) = spawn_doorbell(state.follower.clone(), database_url).await {
        tasks.add("doorbell", doorbell);
    }
    tasks
}

/// The HTTP server, bound; signals are ours to handle, not actix's.
fn http_server(state: web::Data<AppState>) -> anyhow::Result<(Server, u16)> {
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
    let request_timeout = server_settings.client_request_timeout();
    let keep_alive = server_settings.keep_alive();
    let metrics = &state.settings.metrics;
    let metrics_here = metrics.enabled && metrics.port.is_none();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(http::middleware::every_request))
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                ApiError::Invalid {
                    attr: None,
                    detail: e.to_string(),
                }
                .into()
            }))
            .configure(http::routes)
            .configure(|cfg| {
                if metrics_here {
                    http::metrics_route(cfg);
                }
            })
            .configure(crate::web::routes)
            .default_service(web::to(http::not_found))
    })
    .client_request_timeout(request_timeout)
    .keep_alive(keep_alive)
    .disable_signals();
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok((server.listen(listener)?.run(), port))
}

/// `/metrics` alone, on `metrics.port`, when it is set and metrics are on.
fn metrics_server(state: web::Data<AppState>) -> anyhow::Result<Option<(Server, u16)>> {
    let settings = &state.settings;
    let Some(port) = settings.metrics.port.filter(|_| settings.metrics.enabled) else {
        return Ok(None);
    };
    let host = settings.server.host.clone();
    let listener = TcpListener::bind((host.as_str(), port)).map_err(|e| {
        anyhow::anyhow!("cannot bind {host}:{port} (settings server.host, metrics.port): {e}")
    })?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(http::security_headers::security_headers))
            .app_data(state.clone())
            .configure(http::metrics_route)
            .default_service(web::to(http::not_found))
    })
    .disable_signals()
    .workers(1)
    .listen(listener)?
    .run();
    Ok(Some((server, port)))
}

/// Folds histogram samples into their buckets now and then, scraped or not.
fn spawn_metrics_upkeep(
    metrics: std::sync::Arc<crate::monitoring::Metrics>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(crate::monitoring::UPKEEP_INTERVAL);
        loop {
            ticker.tick().await;
            metrics.run_upkeep();
        }
    })
}

/// How often the age of the active signing key is looked at.
const ROTATION_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Rotates the signing key once it is `every` old (`signing_keys.rotate_every_days`).
fn spawn_key_rotation(
    keys: std::sync::Arc<crate::tokens::KeyRing>,
    store: Store,
    every: chrono::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(ROTATION_CHECK_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match keys.rotate_if_older_than(&store, every).await {
                Ok(Some(kid)) => tracing::info!(kid = %kid, "signing key rotated on schedule"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot rotate the signing key"),
            }
        }
    })
}
