//! The database goes away mid-run and comes back. Each test starts a
//! throwaway PostgreSQL cluster of its own (`helpers::PgCluster`) and kills
//! it with `pg_ctl stop -m immediate`. They need the PostgreSQL server
//! binaries, not the shared server, so they run in both passes of the suite.

use std::future::Future;
use std::time::{Duration, Instant};

use latchkey::domain::Role;
use serde_json::json;

use crate::helpers::{
    assert_error, inactive, spawn_on, test_settings, PgCluster, TestApp, TestDatabase, DAY,
    PASSWORD,
};

/// Short enough that a test can wait out a connection attempt.
const ACQUIRE_TIMEOUT_SECONDS: u64 = 2;
const MAX_STALENESS_SECONDS: u64 = 10;

async fn app_on(cluster: &PgCluster) -> TestApp {
    let db = TestDatabase {
        url: cluster.url(),
        dir: tempfile::tempdir().expect("a temporary directory"),
    };
    let mut settings = test_settings(&db);
    settings.database.acquire_timeout_seconds = ACQUIRE_TIMEOUT_SECONDS;
    settings.revocation.max_staleness_seconds = MAX_STALENESS_SECONDS;
    spawn_on(db, settings).await
}

/// The answer and how long it took.
async fn timed(request: impl Future<Output = reqwest::Response>) -> (reqwest::Response, Duration) {
    let started = Instant::now();
    let response = request.await;
    (response, started.elapsed())
}

/// A write during the outage: 503 `service_unavailable`, well before the
/// pool would give up waiting for a connection.
async fn assert_unavailable_quickly(what: &str, (response, took): (reqwest::Response, Duration)) {
    assert!(
        took < Duration::from_millis(500),
        "{what} took {took:?} during the outage"
    );
    assert_error(response, 503, "service_unavailable").await;
}

/// Waits (ten seconds at most) until the app has read the log again.
async fn until_recovered(app: &TestApp) {
    let started = Instant::now();
    while app.state.follower.catch_up().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the app did not reach the restarted database within ten seconds"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_database_outage_fails_closed_and_recovers_without_a_restart() {
    let cluster = PgCluster::start();
    let app = app_on(&cluster).await;
    let other = app.replica().await;
    let client = app.create_client().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let key = app.create_key_ok(&token, company).await;
    let key_id = key["id"].as_str().unwrap().to_owned();
    let key_token = key["token"].as_str().unwrap().to_owned();
    let pair = app.login_ok(&user).await;
    let revoked_before_the_stop = app.access_token(&user).await;
    // Committed through the other replica just before the plug is pulled:
    // this app may not have read it yet.
    assert_eq!(other.revoke(&revoked_before_the_stop).await.status(), 200);

    cluster.stop();
    // The log poller finds out within a poll and a connection timeout.
    let stopped = Instant::now();
    while !app.state.store.is_unreachable() {
        assert!(
            stopped.elapsed() < Duration::from_secs(ACQUIRE_TIMEOUT_SECONDS + 3),
            "the app did not notice the database was gone"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Reads answer from memory while the state is young enough.
    assert_eq!(app.introspect_ok(&client, &token).await["active"], true);
    assert_eq!(app.introspect_ok(&client, &key_token).await["active"], true);
    let datasets = format!("/api/v1/companies/{company}/datasets/");
    assert_eq!(
        app.verify(Some(&key_token), Some(&datasets)).await.status(),
        200
    );
    // What needs the database is refused at once, in the documented shape.
    assert_unavailable_quickly("/me", timed(app.me(&token)).await).await;
    let new_key = json!({ "name": "during the outage", "expires_in": DAY });
    assert_unavailable_quickly(
        "creating a key",
        timed(app.create_key(&token, company, new_key.clone())).await,
    )
    .await;
    assert_unavailable_quickly("a login", timed(app.login(&user.email, PASSWORD)).await).await;
    assert_unavailable_quickly(
        "a refresh",
        timed(app.refresh(&pair["refresh_token"])).await,
    )
    .await;
    assert_unavailable_quickly("a revocation", timed(app.revoke(&token)).await).await;
    assert_unavailable_quickly(
        "deleting a key",
        timed(app.delete_key(&token, company, &key_id)).await,
    )
    .await;
    let readyz = async { app.client.get(app.url("/readyz")).send().await.unwrap() };
    assert_unavailable_quickly("/readyz", timed(readyz).await).await;
    let healthz = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(healthz.status(), 200);

    // Past max_staleness the state is too old to vouch for anything.
    app.state
        .clock
        .advance(Duration::from_secs(MAX_STALENESS_SECONDS + 1));
    for candidate in [&token, &key_token, &revoked_before_the_stop] {
        assert_error(
            app.introspect(&client, candidate).await,
            503,
            "service_unavailable",
        )
        .await;
        assert_error(
            app.verify(Some(candidate), Some(&datasets)).await,
            503,
            "service_unavailable",
        )
        .await;
    }

    cluster.resume();
    until_recovered(&app).await;
    // The other replica finds the database again by itself too (its poller
    // probes); this waits for it instead of racing it.
    until_recovered(&other).await;
    // Revoked elsewhere once the database is back: read from the log.
    assert_eq!(other.revoke(&token).await.status(), 200);
    app.state.follower.catch_up().await.unwrap();

    assert_eq!(app.introspect_ok(&client, &token).await, inactive());
    assert_eq!(
        app.introspect_ok(&client, &revoked_before_the_stop).await,
        inactive()
    );
    assert_eq!(app.introspect_ok(&client, &key_token).await["active"], true);
    let fresh_token = app.access_token(&user).await;
    assert_eq!(
        app.create_key(&fresh_token, company, new_key)
            .await
            .status(),
        201
    );
    assert_eq!(
        app.delete_key(&fresh_token, company, &key_id)
            .await
            .status(),
        204
    );
    assert_eq!(app.introspect_ok(&client, &key_token).await, inactive());
    let readyz = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), 200);
}
