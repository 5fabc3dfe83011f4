//! The provisioning API: a billing system holding only client credentials
//! creates companies and users, moves companies between plans, manages
//! memberships; creations are idempotent; a plain client is refused.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, Caller, TestApp, TestUser, PASSWORD};

async fn send(app: &TestApp, request: reqwest::RequestBuilder) -> (u16, Value) {
    let _ = app;
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn a_billing_client_creates_a_company_once_per_idempotency_key_and_moves_its_plan() {
    let app = spawn_app().await;
    let billing = app.provisioning_client().await;
    let create = |name: &str| {
        app.admin_request(
            Method::POST,
            "/api/v1/admin/companies",
            Caller::Client(&billing),
        )
        .header("idempotency-key", "order-42")
        .json(&json!({ "name": name, "plan": "free" }))
    };

    let first = create("Acme").send().await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let retry = create("Acme").send().await.unwrap();
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry["id"], first["id"]);
    assert_eq!(app.state.accounts.companies().await.unwrap().len(), 1);
    let other = create("Other").send().await.unwrap();
    let item = assert_error(other, 400, "invalid").await;
    assert_eq!(item["attr"], "Idempotency-Key");

    let company = first["id"].as_str().unwrap();
    let path = format!("/api/v1/admin/companies/{company}/plan");
    let upgrade = app
        .admin_request(Method::PUT, &path, Caller::Client(&billing))
        .json(&json!({ "plan": "professional" }));
    let (status, body) = send(&app, upgrade).await;
    assert_eq!((status, &body["plan"]), (200, &json!("professional")));
    let unknown = app
        .admin_request(Method::PUT, &path, Caller::Client(&billing))
        .json(&json!({ "plan": "platinum" }));
    let item = assert_error(unknown.send().await.unwrap(), 400, "invalid").await;
    assert_eq!(item["attr"], "plan");

    let (_, admin_token) = app.admin().await;
    let events = app
        .audit_events(&admin_token, &format!("company_id={company}"))
        .await;
    let event = &events["results"][0];
    assert_eq!(event["action"], "company.plan_changed", "{events}");
    assert_eq!(event["actor"], format!("client:{}", billing.id));
    assert_eq!(
        event["details"],
        json!({ "from": "free", "to": "professional" })
    );
    assert_eq!(event["ip"], "127.0.0.1");
    assert_eq!(events["results"][1]["action"], "company.created");
}

#[tokio::test]
async fn a_user_created_with_a_password_signs_in_and_is_made_a_member() {
    let app = spawn_app().await;
    let billing = app.provisioning_client().await;
    let company = app.create_company("professional").await;
    let create = app
        .admin_request(
            Method::POST,
            "/api/v1/admin/users",
            Caller::Client(&billing),
        )
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }));
    let (status, user) = send(&app, create).await;
    assert_eq!(status, 201, "{user}");
    assert!(user.get("invitation").is_none(), "{user}");
    let user = TestUser {
        id: user["id"].as_str().unwrap().parse().unwrap(),
        email: "ada@example.com".to_owned(),
    };
    let taken = app
        .admin_request(
            Method::POST,
            "/api/v1/admin/users",
            Caller::Client(&billing),
        )
        .json(&json!({ "email": "ADA@example.com", "password": PASSWORD }));
    let item = assert_error(taken.send().await.unwrap(), 400, "invalid").await;
    assert_eq!(item["attr"], "email");

    let member = format!("/api/v1/admin/companies/{company}/members/{}", user.id);
    for role in ["member", "admin"] {
        let put = app
            .admin_request(Method::PUT, &member, Caller::Client(&billing))
            .json(&json!({ "role": role }));
        let (status, body) = send(&app, put).await;
        assert_eq!((status, &body["role"]), (200, &json!(role)));
    }
    let token = app.access_token(&user).await;
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["companies"][0]["role"], "admin", "{me}");
    let bad_role = app
        .admin_request(Method::PUT, &member, Caller::Client(&billing))
        .json(&json!({ "role": "emperor" }));
    assert_error(bad_role.send().await.unwrap(), 400, "invalid").await;

    let remove = || {
        app.admin_request(Method::DELETE, &member, Caller::Client(&billing))
            .send()
    };
    assert_eq!(remove().await.unwrap().status(), 204);
    let me: Value = app.me(&token).await.json().await.unwrap();
    assert_eq!(me["companies"], json!([]));
    assert_error(remove().await.unwrap(), 404, "not_found").await;

    let disable = app.admin_request(
        Method::POST,
        &format!("/api/v1/admin/users/{}/disable", user.id),
        Caller::Client(&billing),
    );
    assert_eq!(disable.send().await.unwrap().status(), 204);
    assert_error(
        app.login(&user.email, PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn accept(app: &TestApp, token: &Value, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/invitation"))
        .json(&json!({ "token": token, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_user_created_without_a_password_sets_it_once_through_the_invitation() {
    let app = spawn_app().await;
    let billing = app.provisioning_client().await;
    let create = || {
        app.admin_request(
            Method::POST,
            "/api/v1/admin/users",
            Caller::Client(&billing),
        )
        .header("idempotency-key", "signup-7")
        .json(&json!({ "email": "grace@example.com" }))
    };
    let (status, first) = send(&app, create()).await;
    assert_eq!(status, 201, "{first}");
    let invitation = &first["invitation"];
    assert!(invitation["accept_url"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/auth/invitation"));
    for password in ["", PASSWORD] {
        let login = app.login("grace@example.com", password).await;
        assert_error(login, 401, "invalid_credentials").await;
    }
    // A retry makes no second user; the first invitation gives way to a new one.
    let (status, retry) = send(&app, create()).await;
    assert_eq!((status, &retry["id"]), (201, &first["id"]));
    let stale = accept(&app, &invitation["token"], PASSWORD).await;
    assert_error(stale, 400, "invalid").await;

    let token = &retry["invitation"]["token"];
    assert_eq!(accept(&app, token, PASSWORD).await.status(), 204);
    assert_eq!(app.login("grace@example.com", PASSWORD).await.status(), 200);
    let again = accept(&app, token, "another good passphrase").await;
    assert_error(again, 400, "invalid").await;
    assert_eq!(app.login("grace@example.com", PASSWORD).await.status(), 200);
    // Once the password is set, a retry of the creation shows no invitation.
    let (_, replay) = send(&app, create()).await;
    assert!(replay.get("invitation").is_none(), "{replay}");
}

#[tokio::test]
async fn of_ten_parallel_accepts_of_one_invitation_exactly_one_sets_the_password() {
    let app = spawn_app().await;
    let invitation = app.invite("grace@example.com").await;
    let passwords: Vec<String> = (0..10).map(|i| format!("{PASSWORD} {i}")).collect();
    let accepts = passwords
        .iter()
        .map(|password| accept(&app, &invitation["token"], password));
    let statuses: Vec<u16> = futures::future::join_all(accepts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let won: Vec<usize> = (0..10).filter(|i| statuses[*i] == 204).collect();
    assert_eq!(won.len(), 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 204 || *s == 400),
        "{statuses:?}"
    );
    let winner = app.login("grace@example.com", &passwords[won[0]]).await;
    assert_eq!(winner.status(), 200);
    // A few of the losers (not all: failed logins are throttled).
    for i in (0..10).filter(|i| *i != won[0]).take(3) {
        let login = app.login("grace@example.com", &passwords[i]).await;
        assert_eq!(login.status(), 401, "password {i}");
    }
}

#[tokio::test]
async fn a_plain_introspection_client_and_a_wrong_secret_are_refused() {
    let app = spawn_app().await;
    let plain = app.create_client().await;
    let mut wrong = app.provisioning_client().await;
    wrong.secret.push('x');
    let body = json!({ "name": "Acme", "plan": "free" });
    let as_plain = app
        .admin_request(
            Method::POST,
            "/api/v1/admin/companies",
            Caller::Client(&plain),
        )
        .json(&body);
    assert_error(as_plain.send().await.unwrap(), 403, "permission_denied").await;
    let as_wrong = app
        .admin_request(
            Method::POST,
            "/api/v1/admin/companies",
            Caller::Client(&wrong),
        )
        .json(&body);
    assert_error(as_wrong.send().await.unwrap(), 401, "invalid_client").await;
    let user = app.create_user("ada@example.com").await;
    let token = app.access_token(&user).await;
    let as_user = app
        .admin_request(
            Method::POST,
            "/api/v1/admin/companies",
            Caller::Bearer(&token),
        )
        .json(&body);
    assert_error(as_user.send().await.unwrap(), 403, "permission_denied").await;
    assert!(app.state.accounts.companies().await.unwrap().is_empty());
    // The plain client and the user are audited as refused; the client
    // with a wrong secret, who proved nothing, is not.
    let audited = app.state.store.recent_audit_events(50).await.unwrap();
    let denied: Vec<&str> = audited
        .iter()
        .filter(|e| e.action == "operator_api.denied")
        .map(|e| e.actor.as_str())
        .collect();
    assert_eq!(
        denied,
        [user.id.to_string(), format!("client:{}", plain.id)],
        "newest first"
    );

    let (_, admin_token) = app.admin().await;
    let as_admin = app
        .admin_request(
            Method::POST,
            "/api/v1/admin/companies",
            Caller::Bearer(&admin_token),
        )
        .json(&body);
    assert_eq!(as_admin.send().await.unwrap().status(), 201);
}
