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
        Ok(Application {
            port,
            server,
            state,
            tasks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
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
        let served = self.server.await;
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
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(http::trailing_slash::trim_trailing_slash))
            .wrap(from_fn(http::content_encoding::refuse_encoded_bodies))
            .wrap(from_fn(http::request_id::request_id))
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
            .configure(crate::web::routes)
            .default_service(web::to(http::not_found))
    })
    .disable_signals();
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok((server.listen(listener)?.run(), port))
}
