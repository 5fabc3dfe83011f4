//! `GET /metrics`: parsed by Prometheus's own `promtool`, values that move
//! with what happens, a port of its own, and a switch to turn it off.

use std::io::Write;
use std::process::{Command, Stdio};

use latchkey::domain::Role;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

fn promtool() -> Option<&'static str> {
    let found = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if found.is_none() {
        assert!(
            std::env::var("LATCHKEY_REQUIRE_PROMTOOL").is_err(),
            "promtool is required (LATCHKEY_REQUIRE_PROMTOOL) but not installed"
        );
        eprintln!("SKIPPED promtool check: install Debian's prometheus package");
    }
    found
}

/// `promtool check metrics` must accept the text, lint included.
fn assert_promtool_accepts(text: &str) {
    let Some(promtool) = promtool() else { return };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool refused the metrics:\n{}{}\n---\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn scrape_at(app: &TestApp, base: &str) -> String {
    let response = app
        .client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    response.text().await.unwrap()
}

/// The value of the one sample whose name and labels are exactly `series`.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

#[tokio::test]
async fn metrics_parse_with_promtool_and_move_with_what_happens() {
    let app = spawn_app().await;
    let before = scrape_at(&app, &app.address).await;
    assert_promtool_accepts(&before);

    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    assert_eq!(app.login(&user.email, "wrong password").await.status(), 401);
    let key = app.create_key_ok(&token, company).await;
    let client = app.create_client().await;
    let key_token = key["token"].as_str().unwrap();
    app.introspect_ok(&client, key_token).await;
    app.introspect_ok(&client, key_token).await;
    app.introspect_ok(&client, "not-a-token").await;
    let refused = app
        .client
        .get(app.url("/api/v1/auth/verify"))
        .bearer_auth(&token)
        .header(
            "x-original-uri",
            format!("/api/v1/companies/{}/x", uuid::Uuid::new_v4()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    let after = scrape_at(&app, &app.address).await;
    assert_promtool_accepts(&after);
    let logins = |outcome: &str| format!(r#"latchkey_logins_total{{outcome="{outcome}"}}"#);
    assert_eq!(value(&before, &logins("success")), 0.0);
    assert_eq!(value(&after, &logins("success")), 1.0);
    assert_eq!(value(&after, &logins("failure")), 1.0);
    let checks = |endpoint: &str, outcome: &str| {
        format!(r#"latchkey_token_checks_total{{endpoint="{endpoint}",outcome="{outcome}"}}"#)
    };
    assert_eq!(value(&after, &checks("introspection", "active")), 2.0);
    assert_eq!(value(&after, &checks("introspection", "inactive")), 1.0);
    assert_eq!(value(&after, &checks("forward_auth", "denied")), 1.0);
    // The key's second check is answered from the cache of verified tokens.
    assert!(
        value(
            &after,
            r#"latchkey_verified_token_cache_total{result="hit"}"#
        ) >= 1.0
    );
    assert_eq!(
        value(&after, r#"latchkey_api_keys_active{plan="professional"}"#),
        1.0
    );
    assert_eq!(
        value(&after, r#"latchkey_api_keys_active{plan="free"}"#),
        0.0
    );
    assert_eq!(
        value(
            &after,
            r#"latchkey_http_requests_total{route="/api/v1/introspect",status="200"}"#
        ),
        3.0
    );
    assert!(after.contains(r#"latchkey_http_request_duration_seconds_bucket{route="/api/v1/introspect",status="200",le="+Inf"} 3"#), "{after}");
    assert!(value(&after, "latchkey_access_state_age_seconds") >= 0.0);
    assert_eq!(value(&after, "latchkey_revocation_cursor_lag_events"), 0.0);
    assert_eq!(value(&after, "latchkey_password_hash_queue_depth"), 0.0);
    let build = format!(
        r#"latchkey_build_info{{version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&after, &build), 1.0);
}

#[tokio::test]
async fn keys_about_to_expire_and_a_stale_state_show() {
    let app = spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let soon = chrono::Utc::now() + chrono::Duration::days(3);
    let created = app
        .create_key(
            &token,
            company,
            serde_json::json!({"name": "soon", "expires_at": soon.to_rfc3339()}),
        )
        .await;
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    app.create_key_ok(&token, company).await;

    let text = scrape_at(&app, &app.address).await;
    assert_eq!(
        value(
            &text,
            r#"latchkey_api_keys_expiring_7d{plan="professional"}"#
        ),
        1.0
    );
    assert_eq!(
        value(&text, r#"latchkey_api_keys_active{plan="professional"}"#),
        2.0
    );

    app.state.clock.advance(std::time::Duration::from_secs(45));
    let stale = scrape_at(&app, &app.address).await;
    assert!(
        value(&stale, "latchkey_access_state_age_seconds") >= 45.0,
        "{stale}"
    );
}

#[tokio::test]
async fn a_metrics_port_of_its_own_takes_metrics_off_the_main_port() {
    let db = crate::helpers::TestDatabase::new().await;
    let mut settings = crate::helpers::test_settings(&db);
    settings.metrics.port = Some(0);
    let app = latchkey::startup::Application::build(settings)
        .await
        .unwrap();
    let main = format!("http://127.0.0.1:{}", app.port());
    let metrics = format!("http://127.0.0.1:{}", app.metrics_port().unwrap());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();

    let on_main = client.get(format!("{main}/metrics")).send().await.unwrap();
    let on_own = client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    let api_on_own = client
        .get(format!("{metrics}/healthz"))
        .send()
        .await
        .unwrap();

    assert_eq!(on_main.status(), 404);
    assert_eq!(on_own.status(), 200);
    assert!(on_own.text().await.unwrap().contains("latchkey_build_info"));
    assert_eq!(api_on_own.status(), 404);
}

#[tokio::test]
async fn metrics_can_be_turned_off() {
    let app = spawn_app_with(|s| s.metrics.enabled = false).await;

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();

    assert_eq!(response.status(), 404);
}
