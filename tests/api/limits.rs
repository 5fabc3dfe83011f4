//! The request head's limits and the connection timeouts: each a setting,
//! each answered in the documented shape or by closing the connection,
//! never by a 500 or a hang.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{assert_error, assert_invalid_token, spawn_app, spawn_app_with};

fn with_headers(
    request: reqwest::RequestBuilder,
    count: usize,
    value: &str,
) -> reqwest::RequestBuilder {
    (0..count).fold(request, |request, i| {
        request.header(format!("x-filler-{i}"), value)
    })
}

#[tokio::test]
async fn more_header_lines_than_the_setting_get_431_in_the_documented_shape() {
    let app = spawn_app_with(|s| s.server.max_headers = 20).await;
    let healthz = format!("{}/healthz", app.address);

    // reqwest adds a few headers of its own, well under 20 with these 10.
    let within = with_headers(app.client.get(&healthz), 10, "x")
        .send()
        .await
        .unwrap();
    assert_eq!(within.status(), 200);
    let over = with_headers(app.client.get(&healthz), 21, "x")
        .send()
        .await
        .unwrap();
    assert_error(over, 431, "headers_too_large").await;
}

#[tokio::test]
async fn more_header_bytes_than_the_setting_get_431() {
    let app = spawn_app_with(|s| s.server.max_header_bytes = 4096).await;
    let introspect = format!("{}/api/v1/introspect", app.address);

    let big = "y".repeat(5000);
    let over = app
        .client
        .post(&introspect)
        .header("x-big", &big)
        .send()
        .await
        .unwrap();
    assert_error(over, 431, "headers_too_large").await;
    let small = "y".repeat(1000);
    let within = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-big", &small);
    assert_eq!(within.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn past_actix_http_ceilings_the_connection_is_refused_not_a_server_error() {
    let app = spawn_app().await;
    let healthz = format!("{}/healthz", app.address);

    // Over actix-http's own limit of 96 header lines.
    let answer = with_headers(app.client.get(&healthz), 120, "x")
        .send()
        .await;
    if let Ok(response) = answer {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    // A head over 32 KiB.
    let answer = app
        .client
        .get(&healthz)
        .header("x-big", "z".repeat(40_000))
        .send()
        .await;
    if let Ok(response) = answer {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    // And the server is still there for the next caller.
    assert_eq!(app.client.get(&healthz).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn five_hundred_slow_clients_do_not_keep_a_normal_request_waiting() {
    let app = spawn_app_with(|s| s.server.client_request_timeout_ms = 1000).await;
    let addr = app.address.trim_start_matches("http://").to_owned();

    // Slowloris: each connection sends half a request head and stops.
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"POST /api/v1/introspect HTTP/1.1\r\nHost: latchkey\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }

    let answer = tokio::time::timeout(
        Duration::from_secs(3),
        app.client.get(format!("{}/healthz", app.address)).send(),
    )
    .await
    .expect("a normal request is served while 500 slow clients hang on");
    assert_eq!(answer.unwrap().status(), 200);

    // Each slow client is cut off once its time to send the head is up.
    for stream in slow.iter_mut().take(5) {
        let mut buffer = Vec::new();
        // Ok (closed after a 408) or a reset: either way, closed.
        let _closed =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buffer))
                .await
                .expect("the server closes a connection that never finishes its head");
        let text = String::from_utf8_lossy(&buffer);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_timeout() {
    let app = spawn_app_with(|s| s.server.keep_alive_seconds = 1).await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: latchkey\r\n\r\n")
        .await
        .unwrap();

    let mut buffer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buffer))
        .await
        .expect("the idle connection is closed, not held for ever");
    assert!(closed.is_ok());
    assert!(String::from_utf8_lossy(&buffer).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_token_longer_than_the_setting_is_refused_unread() {
    let app = spawn_app_with(|s| s.tokens.max_token_bytes = 256).await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    assert!(token.len() > 256, "a login token is longer than 256 bytes");

    // The token is ours and valid, but longer than this deployment accepts.
    assert_invalid_token(app.me(&token).await).await;
}
