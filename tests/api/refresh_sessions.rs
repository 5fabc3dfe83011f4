//! A login's refresh family: one winner among parallel uses, and an end that
//! no rotation can push back.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{assert_invalid_token, spawn_app, spawn_app_with};

const DAY: u64 = 86_400;

#[tokio::test]
async fn twenty_parallel_uses_of_one_refresh_token_give_one_success_and_revoke_the_family() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let pair = app.login_ok(&user).await;

    let uses = (0..20).map(|_| app.refresh(&pair["refresh_token"]));
    let answers = futures::future::join_all(uses).await;

    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "exactly one rotation wins: {statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "the losers are refused, never a server error: {statuses:?}"
    );
    let mut winner = None;
    for answer in answers {
        if answer.status() == 200 {
            winner = Some(answer.json::<Value>().await.unwrap());
        }
    }
    let winner = winner.unwrap();
    // The losers were reuse: the winner's new pair died with its family.
    assert_invalid_token(app.refresh(&winner["refresh_token"]).await).await;
    assert_invalid_token(app.me(winner["access_token"].as_str().unwrap()).await).await;
    assert_invalid_token(app.me(pair["access_token"].as_str().unwrap()).await).await;
}

#[tokio::test]
async fn refreshing_cannot_extend_a_login_past_its_absolute_lifetime() {
    let app = spawn_app_with(|s| {
        s.tokens.refresh_ttl_seconds = 2 * DAY;
        s.tokens.session_max_lifetime_seconds = 3 * DAY;
    })
    .await;
    let user = app.create_user("ada@example.com").await;
    let signed_in_at = std::time::Instant::now();
    let mut pair = app.login_ok(&user).await;

    // Day 1.5 and day 2.5: each refresh is inside its token's two days.
    for step in [DAY * 3 / 2, DAY] {
        app.state.clock.advance(Duration::from_secs(step));
        app.state.follower.catch_up().await.unwrap();
        let rotated = app.refresh(&pair["refresh_token"]).await;
        assert_eq!(rotated.status(), 200);
        pair = rotated.json().await.unwrap();
    }

    // Five minutes before the end of day 3: the access token of this last
    // rotation lives five minutes, not its usual fifteen.
    app.state.clock.advance(Duration::from_secs(DAY / 2 - 300));
    app.state.follower.catch_up().await.unwrap();
    let rotated = app.refresh(&pair["refresh_token"]).await;
    assert_eq!(rotated.status(), 200);
    pair = rotated.json().await.unwrap();
    // 300, less the whole seconds the real clock turned since the login.
    let turned = signed_in_at.elapsed().as_secs() as i64 + 1;
    let expires_in = pair["expires_in"].as_i64().unwrap();
    assert!((300 - turned..=300).contains(&expires_in), "{pair}");
    let last_access = pair["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.me(&last_access).await.status(), 200);

    // Day 3.1: the last refresh token was issued with two days to live,
    // but the login ended at day 3, and its access token with it.
    app.state.clock.advance(Duration::from_secs(DAY / 10 + 300));
    app.state.follower.catch_up().await.unwrap();
    assert_invalid_token(app.refresh(&pair["refresh_token"]).await).await;
    assert_invalid_token(app.me(&last_access).await).await;
    // Signing in again starts a new login.
    assert_eq!(
        app.refresh(&app.login_ok(&user).await["refresh_token"])
            .await
            .status(),
        200
    );
}
