//! The client's address in the audit log: the peer's, unless the peer is a
//! trusted proxy (`server.trusted_proxies`); then the forwarded one.

use crate::helpers::{spawn_app, spawn_app_with, TestApp, PASSWORD};

/// Logs in with these forwarding headers; returns the login's audited IP.
async fn audited_login_ip(app: &TestApp, headers: &[(&str, &str)]) -> Option<String> {
    let user = app.create_user("ada@example.com").await;
    let mut request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": user.email, "password": PASSWORD }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    let events = app.state.store.recent_audit_events(10).await.unwrap();
    let login = events
        .iter()
        .find(|e| e.action == "login")
        .expect("the login is audited");
    login.ip.clone()
}

#[tokio::test]
async fn a_spoofed_x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;

    let ip = audited_login_ip(&app, &[("x-forwarded-for", "203.0.113.66")]).await;

    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_trusted_proxy_is_believed_up_to_the_right_most_untrusted_address() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
    })
    .await;

    // The client wrote 6.6.6.6 itself; its first proxy appended its address.
    let ip = audited_login_ip(
        &app,
        &[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.1.1")],
    )
    .await;

    assert_eq!(ip.as_deref(), Some("198.51.100.7"));
}

#[tokio::test]
async fn a_trusted_proxy_may_say_it_with_forwarded() {
    let app =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;

    let ip = audited_login_ip(
        &app,
        &[("forwarded", r#"for="[2001:db8::7]:4711";proto=https"#)],
    )
    .await;

    assert_eq!(ip.as_deref(), Some("2001:db8::7"));
}

#[tokio::test]
async fn a_trusted_proxy_with_no_forwarding_header_is_itself_the_client() {
    let app =
        spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;

    let ip = audited_login_ip(&app, &[]).await;

    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn request_logs_carry_the_client_address_from_trusted_proxies_set_in_the_environment() {
    let latchkey = crate::process::Latchkey::new().await;
    let mut server = latchkey.serve_with(
        "info",
        &[("LATCHKEY_SERVER__TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1")],
    );

    let response = reqwest::Client::new()
        .get(format!("{}/healthz", server.address))
        .header("x-forwarded-for", "6.6.6.6, 198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.terminate();

    let logs = server.logs();
    let completed = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "request completed")
        .unwrap_or_else(|| panic!("no request log: {logs}"));
    assert_eq!(
        completed["span"]["client_ip"], "198.51.100.7",
        "{completed}"
    );
}
