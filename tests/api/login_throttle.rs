//! Login throttling: per account in the database (shared by replicas), per
//! client IP in memory, and per IP for refresh and revocation.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with, TestApp, PASSWORD};

const WINDOW_SECONDS: u32 = 600;

fn n(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap()
}

async fn app_with_account_limit(limit: u32) -> TestApp {
    spawn_app_with(|s| {
        s.throttle.login_failures_per_account = n(limit);
        s.throttle.login_failure_window_seconds = n(WINDOW_SECONDS);
    })
    .await
}

/// An HTTP client whose connections come from `ip` (any 127/8 address
/// reaches the server on 127.0.0.1): a client of its own to the throttle.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_from(
    client: &reqwest::Client,
    app: &TestApp,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Statuses of `responses`, counted: (401s, 429s); anything else fails.
async fn tally(responses: Vec<reqwest::Response>) -> (usize, usize) {
    let (mut refused, mut throttled) = (0, 0);
    for response in responses {
        match response.status().as_u16() {
            401 => refused += 1,
            429 => {
                let retry_after: u64 = response.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=u64::from(WINDOW_SECONDS)).contains(&retry_after));
                assert_error(response, 429, "throttled").await;
                throttled += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    (refused, throttled)
}

#[tokio::test]
async fn fifty_parallel_guesses_over_two_replicas_get_exactly_the_limit() {
    let app = app_with_account_limit(5).await;
    let replica = app.replica().await;
    let user = app.create_user("ada@example.com").await;

    let guesses = (0..50).map(|i| {
        let target = if i % 2 == 0 { &app } else { &replica };
        target.login(&user.email, "wrong password")
    });
    let (refused, throttled) = tally(futures::future::join_all(guesses).await).await;

    assert_eq!((refused, throttled), (5, 45));
    // The right password does not get through until the window is over…
    assert_error(app.login(&user.email, PASSWORD).await, 429, "throttled").await;
    assert_error(replica.login(&user.email, PASSWORD).await, 429, "throttled").await;
    // …and then it works, on either replica.
    let window = Duration::from_secs(u64::from(WINDOW_SECONDS));
    app.state.clock.advance(window);
    replica.state.clock.advance(window);
    assert_eq!(app.login(&user.email, PASSWORD).await.status(), 200);
    assert_eq!(replica.login(&user.email, PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_account_limit() {
    let app = app_with_account_limit(2).await;
    let user = app.create_user("ada@example.com").await;
    for _ in 0..5 {
        assert_eq!(app.login(&user.email, PASSWORD).await.status(), 200);
    }
    assert_eq!(app.login(&user.email, "wrong").await.status(), 401);
    assert_eq!(app.login(&user.email, PASSWORD).await.status(), 200);
    assert_eq!(app.login(&user.email, "wrong").await.status(), 401);
    assert_error(app.login(&user.email, "wrong").await, 429, "throttled").await;
}

#[tokio::test]
async fn an_unknown_email_is_throttled_exactly_like_a_known_one() {
    let app = app_with_account_limit(3).await;
    let user = app.create_user("ada@example.com").await;
    let mut answers = Vec::new();
    for email in [user.email.as_str(), "nobody@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(app.login(email, "wrong").await.status().as_u16());
        }
        answers.push(statuses);
    }
    assert_eq!(answers[0], vec![401, 401, 401, 429, 429]);
    assert_eq!(answers[0], answers[1]);
    // The same account whatever the case or spaces of the email.
    assert_error(
        app.login(" ADA@example.com ", PASSWORD).await,
        429,
        "throttled",
    )
    .await;
    // Another account is not affected.
    let bob = app.create_user("bob@example.com").await;
    assert_eq!(app.login(&bob.email, PASSWORD).await.status(), 200);

    let throttled_rows = {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        entity::audit_events::Entity::find()
            .filter(entity::audit_events::Column::Action.eq("login"))
            .filter(entity::audit_events::Column::Outcome.eq("throttled"))
            .filter(entity::audit_events::Column::Actor.eq(user.id.to_string()))
            .count(app.state.store.db())
            .await
            .unwrap()
    };
    assert_eq!(
        throttled_rows, 3,
        "each refusal is audited against the account"
    );
}

#[tokio::test]
async fn one_client_flooding_login_does_not_lock_out_other_clients() {
    let app = spawn_app_with(|s| s.throttle.logins_per_ip_per_minute = n(5)).await;
    let victim = app.create_user("ada@example.com").await;
    let flooder = client_from("127.0.0.2");

    let flood = (0..30).map(|i| {
        let email = format!("guess{i}@example.com");
        let flooder = &flooder;
        let app = &app;
        async move { login_from(flooder, app, &email, "wrong").await }
    });
    let (refused, throttled) = tally(futures::future::join_all(flood).await).await;
    assert_eq!((refused, throttled), (5, 25));

    let response = login_from(&client_from("127.0.0.3"), &app, &victim.email, PASSWORD).await;
    assert_eq!(response.status(), 200, "another client logs in at once");
    let again = login_from(&flooder, &app, &victim.email, PASSWORD).await;
    assert_error(again, 429, "throttled").await;
}

#[tokio::test]
async fn refresh_and_revocation_are_limited_per_client() {
    let app = spawn_app_with(|s| {
        s.throttle.refreshes_per_ip_per_minute = n(2);
        s.throttle.revocations_per_ip_per_minute = n(2);
    })
    .await;
    let user = app.create_user("ada@example.com").await;
    let pair = app.login_ok(&user).await;
    let client = client_from("127.0.0.4");
    let refresh = |token: serde_json::Value| {
        client
            .post(app.url("/api/v1/auth/refresh"))
            .json(&json!({ "refresh_token": token }))
            .send()
    };
    let first: serde_json::Value = refresh(pair["refresh_token"].clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = refresh(first["refresh_token"].clone()).await.unwrap();
    assert_eq!(second.status(), 200);
    let second: serde_json::Value = second.json().await.unwrap();
    assert_error(
        refresh(second["refresh_token"].clone()).await.unwrap(),
        429,
        "throttled",
    )
    .await;
    // Another client is not affected.
    assert_eq!(app.refresh(&second["refresh_token"]).await.status(), 200);

    let revoke = || {
        client
            .post(app.url("/api/v1/revoke"))
            .form(&[("token", "not-a-token")])
            .send()
    };
    assert_eq!(revoke().await.unwrap().status(), 200);
    assert_eq!(revoke().await.unwrap().status(), 200);
    assert_error(revoke().await.unwrap(), 429, "throttled").await;
}
