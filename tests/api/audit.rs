//! Security events land in the audit log with actor, IP and target, and
//! never a secret.

use crate::helpers::spawn_app;

#[tokio::test]
async fn logout_and_refresh_token_reuse_are_audited_without_secrets() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let pair = app.login_ok(&user).await;
    assert_eq!(app.refresh(&pair["refresh_token"]).await.status(), 200);
    assert_eq!(app.refresh(&pair["refresh_token"]).await.status(), 401);
    let fresh = app.login_ok(&user).await;
    let token = fresh["access_token"].as_str().unwrap();
    let logout = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);

    let events = app.state.store.recent_audit_events(10).await.unwrap();
    let logout = events
        .iter()
        .find(|e| e.action == "logout")
        .expect("logout");
    assert_eq!(logout.actor, user.id.to_string());
    assert_eq!(logout.ip.as_deref(), Some("127.0.0.1"));
    let reuse = events
        .iter()
        .find(|e| e.action == "refresh_token.reused")
        .expect("reuse");
    assert_eq!(reuse.outcome, "denied");
    assert_eq!(reuse.ip.as_deref(), Some("127.0.0.1"));
    let logged = format!("{events:?}");
    for secret in [
        &pair["refresh_token"],
        &pair["access_token"],
        &fresh["access_token"],
    ] {
        let secret = secret.as_str().unwrap();
        assert!(!logged.contains(secret), "a secret in the audit log");
    }
}
