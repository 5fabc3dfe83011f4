//! The pages over plain HTTP: cookies, headers, CSRF, and the same rules as
//! the API. The browser tests (`browser/flows.rs`) drive the same pages in
//! Chromium.

use latchkey::domain::Role;
use latchkey::web::csrf;
use latchkey::web::CONTENT_SECURITY_POLICY;
use serde_json::Value;

use crate::helpers::{assert_invalid_token, revealed_key, spawn_app, spawn_app_with, PageClient};

const SESSION_COOKIES: [&str; 3] = ["latchkey-access", "latchkey-refresh", "latchkey-browser"];

async fn key_count(app: &crate::helpers::TestApp, token: &str, company: uuid::Uuid) -> u64 {
    let listed: Value = app.list_keys(token, company).await.json().await.unwrap();
    listed["count"].as_u64().unwrap()
}

#[tokio::test]
async fn pages_redirect_to_sign_in_and_carry_strict_headers() {
    let app = spawn_app().await;
    let mut browser = PageClient::new(&app);
    assert_eq!(browser.get("/").await.location(), "/ui/");
    let home = browser.get("/ui/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), "/ui/login");

    let page = browser.get("/ui/login").await;
    assert_eq!(page.status, 200);
    let headers = &page.headers;
    assert_eq!(headers["content-security-policy"], CONTENT_SECURITY_POLICY);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(!page.body.contains("style=") && !page.body.contains("<script>"));
    let [cookie] = page.set_cookies().try_into().unwrap();
    assert!(cookie.starts_with("latchkey-browser="), "{cookie}");
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Path=/ui"),
        "{cookie}"
    );

    let missing = browser.get("/ui/nowhere").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page not found"));
    assert_eq!(missing.headers["content-type"], "text/html; charset=utf-8");
}

#[tokio::test]
async fn signing_in_keeps_the_tokens_in_http_only_strict_cookies() {
    let app = spawn_app().await;
    let (user, company, _) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let mut browser = PageClient::new(&app);
    let answer = browser.sign_in(&user).await;
    assert_eq!(answer.location(), "/ui/");
    for cookie in answer.set_cookies() {
        assert!(
            cookie.ends_with("; HttpOnly; SameSite=Strict; Path=/ui"),
            "{cookie}"
        );
    }
    for name in SESSION_COOKIES {
        assert!(browser.cookie(name).is_some(), "{name} is set");
    }
    // The access cookie is a login token the API accepts too.
    let access = browser.cookie("latchkey-access").unwrap().to_owned();
    assert_eq!(app.me(&access).await.status(), 200);

    let home = browser.get("/ui/").await;
    assert_eq!(home.location(), format!("/ui/companies/{company}/api-keys"));
    let page = browser.get(home.location()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Create new API key"));
    assert!(!page.body.contains(&access), "the token is never in a page");
    // Signed in, the sign-in page leads back to the keys.
    assert_eq!(browser.get("/ui/login").await.location(), "/ui/");

    // Signing out revokes the session through the same logout as the API.
    let sign_out = [("csrf_token", page.field("csrf_token"))];
    let sign_out: Vec<(&str, &str)> = sign_out.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = browser.post("/ui/logout", &sign_out).await;
    assert_eq!(out.location(), "/ui/login");
    for name in SESSION_COOKIES {
        assert!(browser.cookie(name).is_none(), "{name} is cleared");
    }
    assert_invalid_token(app.me(&access).await).await;
    let signed_out = browser.get("/ui/login").await;
    assert!(signed_out.body.contains("You have signed out."));
}

#[tokio::test]
async fn an_https_issuer_gets_secure_host_only_cookies() {
    let app = spawn_app_with(|s| s.issuer = "https://auth.example".into()).await;
    let user = app.create_user("ada@example.com").await;
    let mut browser = PageClient::new(&app);
    let form = browser.get("/ui/login").await;
    let [cookie] = form.set_cookies().try_into().unwrap();
    assert!(cookie.starts_with("__Host-latchkey-browser="), "{cookie}");
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Secure; Path=/"),
        "{cookie}"
    );
    let signed_in = browser.sign_in(&user).await;
    for cookie in signed_in.set_cookies() {
        assert!(cookie.starts_with("__Host-latchkey-"), "{cookie}");
        assert!(cookie.contains("; Secure; Path=/"), "{cookie}");
    }
}

#[tokio::test]
async fn wrong_credentials_read_the_same_whether_the_email_exists_or_not() {
    let app = spawn_app().await;
    let user = app.create_user("ada@example.com").await;
    let mut browser = PageClient::new(&app);
    let mut bodies = Vec::new();
    for email in [user.email.as_str(), "nobody@example.com"] {
        let form = browser.get("/ui/login").await;
        let token = form.field("csrf_token");
        let answer = browser
            .post(
                "/ui/login",
                &[
                    ("csrf_token", &token),
                    ("email", email),
                    ("password", "wrong password"),
                ],
            )
            .await;
        assert_eq!(answer.status, 401);
        assert!(answer.body.contains("Wrong email or password."));
        bodies.push(answer.body.replace(email, "EMAIL"));
    }
    assert_eq!(bodies[0], bodies[1]);

    // A token from another browser is refused.
    let stranger = PageClient::new(&app)
        .get("/ui/login")
        .await
        .field("csrf_token");
    let answer = browser
        .post(
            "/ui/login",
            &[
                ("csrf_token", &stranger),
                ("email", &user.email),
                ("password", crate::helpers::PASSWORD),
            ],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("The sign-in form had expired."));
    assert!(browser.cookie("latchkey-access").is_none());
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_create_nothing() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let mut browser = PageClient::new(&app);
    browser.sign_in(&user).await;
    let path = format!("/ui/companies/{company}/api-keys");
    let page = browser.get(&path).await;
    let (csrf, key_id, tag) = (
        page.field("csrf_token"),
        page.field("key_id"),
        page.field("key_id_tag"),
    );
    let form = [
        ("csrf_token", csrf.as_str()),
        ("key_id", key_id.as_str()),
        ("key_id_tag", tag.as_str()),
        ("name", "planted"),
        ("expiry", "30"),
    ];
    let refused: [&[(&str, &str)]; 4] = [
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.example"),
        ],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://evil.example"),
        ],
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
    ];
    for headers in refused {
        let answer = browser.post_with(&path, &form, headers).await;
        assert_eq!(answer.status, 403, "{headers:?}");
        assert!(answer.body.contains("Request refused"), "{headers:?}");
    }
    // From our own page, but with a token of another session or none.
    let mut forged = form;
    forged[0].1 = "forged";
    assert_eq!(browser.post(&path, &forged).await.status, 403);
    assert_eq!(browser.post(&path, &form[1..]).await.status, 400);
    // A key id the server did not reserve for this session.
    let mut chosen = form;
    let other_id = uuid::Uuid::now_v7().to_string();
    chosen[1].1 = &other_id;
    assert_eq!(browser.post(&path, &chosen).await.status, 403);
    assert_eq!(key_count(&app, &token, company).await, 0);

    // Neither Sec-Fetch-Site nor Origin: not a browser; the token decides.
    let answer = browser.post_with(&path, &form, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(key_count(&app, &token, company).await, 1);
}

#[tokio::test]
async fn a_create_form_sent_twice_makes_one_key_shown_once() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let mut browser = PageClient::new(&app);
    browser.sign_in(&user).await;
    let path = format!("/ui/companies/{company}/api-keys");
    let page = browser.get(&path).await;
    let (csrf, key_id, tag) = (
        page.field("csrf_token"),
        page.field("key_id"),
        page.field("key_id_tag"),
    );
    let form = [
        ("csrf_token", csrf.as_str()),
        ("key_id", key_id.as_str()),
        ("key_id_tag", tag.as_str()),
        ("name", "ci deploy"),
        ("expiry", "30"),
    ];
    let first = browser.post(&path, &form).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.headers["cache-control"], "no-store");
    let key = revealed_key(&first.body);
    assert_eq!(first.body.matches(&key).count(), 1);
    let me: Value = app.me(&key).await.json().await.unwrap();
    assert_eq!(me["companies"][0]["id"], company.to_string());

    let again = browser.post(&path, &form).await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("created already"));
    assert!(!again.body.contains(&key));
    assert_eq!(key_count(&app, &token, company).await, 1);
    let listed: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listed["results"][0]["id"], key_id);
}

#[tokio::test]
async fn form_errors_show_in_the_dialog_in_words() {
    let app =
        spawn_app_with(|s| s.plans.get_mut("professional").unwrap().max_active_keys = 1).await;
    let (user, company, _) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let mut browser = PageClient::new(&app);
    browser.sign_in(&user).await;
    let empty = browser.create_key(company, "   ", "30").await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("The name must not be empty."));
    assert!(empty.body.contains("id=\"create-dialog\" aria-labelledby=\"create-title\" data-modal data-return-focus=\"create-key-button\" open"));
    let no_expiry = browser.create_key(company, "ci", "29").await;
    assert_eq!(no_expiry.status, 422);
    assert!(no_expiry.body.contains("Choose when the key expires."));
    assert!(
        no_expiry.body.contains("value=\"ci\""),
        "what was typed stays"
    );

    assert_eq!(browser.create_key(company, "ci", "30").await.status, 200);
    let full = browser.create_key(company, "second", "30").await;
    assert_eq!(full.status, 403);
    assert!(full
        .body
        .contains("Your plan allows 1 active keys and all are in use."));
}

#[tokio::test]
async fn a_plan_without_keys_shows_why_and_the_server_refuses_anyway() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "free", Role::Owner)
        .await;
    let mut browser = PageClient::new(&app);
    browser.sign_in(&user).await;
    let path = format!("/ui/companies/{company}/api-keys");
    let page = browser.get(&path).await;
    assert!(page.body.contains(
        "API keys are not included in the Free plan. They are available on the Professional and Professional Unlimited plans."
    ));
    assert!(!page.body.contains("Create new API key"));

    // A hand-made post with every token right is still refused.
    let state = &app.state;
    let browser_id = browser.cookie("latchkey-browser").unwrap().to_owned();
    let key_id = uuid::Uuid::now_v7();
    let tag = csrf::key_id_tag(&state.page_mac, &browser_id, user.id, company, key_id);
    let key_id = key_id.to_string();
    let form = [
        ("csrf_token", page.field("csrf_token")),
        ("key_id", key_id),
        ("key_id_tag", tag),
        ("name", "sneaky".to_owned()),
        ("expiry", "30".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = browser.post(&path, &form).await;
    assert_eq!(answer.status, 403);
    assert_eq!(key_count(&app, &token, company).await, 0);
}

#[tokio::test]
async fn an_expired_login_token_is_renewed_and_a_cut_off_session_ends() {
    let app = spawn_app_with(|s| {
        s.tokens.access_ttl_seconds = 1;
        s.tokens.leeway_seconds = 0;
    })
    .await;
    let (user, company, _) = app
        .member_of_new_company("ada@example.com", "professional", Role::Member)
        .await;
    let mut browser = PageClient::new(&app);
    browser.sign_in(&user).await;
    let path = format!("/ui/companies/{company}/api-keys");
    let first_access = browser.cookie("latchkey-access").unwrap().to_owned();
    let first_refresh = browser.cookie("latchkey-refresh").unwrap().to_owned();

    app.state.clock.advance(std::time::Duration::from_secs(2));
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let renewed = browser.cookie("latchkey-access").unwrap().to_owned();
    assert_ne!(renewed, first_access);
    assert_ne!(browser.cookie("latchkey-refresh").unwrap(), first_refresh);
    assert_eq!(app.me(&renewed).await.status(), 200);

    // Cut off from outside: the next page ends the session, and the
    // refresh token is refused too.
    app.state
        .accounts
        .revoke_user_tokens(user.id, "test")
        .await
        .unwrap();
    let ended = browser.get(&path).await;
    assert_eq!(ended.status, 303);
    assert_eq!(ended.location(), "/ui/login");
    for name in SESSION_COOKIES {
        assert!(browser.cookie(name).is_none(), "{name} is cleared");
    }
    let sign_in = browser.get("/ui/login").await;
    assert!(sign_in
        .body
        .contains("Your session has ended. Please sign in again."));

    // A removed membership: that company's page is gone at once.
    browser.sign_in(&user).await;
    assert_eq!(browser.get(&path).await.status, 200);
    app.state
        .accounts
        .remove_member(user.id, company, "test")
        .await
        .unwrap();
    let gone = browser.get(&path).await;
    assert_eq!(gone.location(), "/ui/");
    let home = browser.get("/ui/").await;
    assert_eq!(home.location(), "/ui/login");
    let told = browser.get("/ui/login").await;
    assert!(told.body.contains("does not belong to any company"));
}

#[tokio::test]
async fn members_see_and_delete_only_their_own_keys_and_page_creation_is_audited() {
    let app = spawn_app().await;
    let (owner, company, owner_token) = app
        .member_of_new_company("owner@example.com", "professional", Role::Owner)
        .await;
    let owners_key = app.create_key_ok(&owner_token, company).await;
    let member = app.create_user("member@example.com").await;
    app.add_member(&member, company, Role::Member).await;

    let mut browser = PageClient::new(&app);
    browser.sign_in(&member).await;
    let created = browser.create_key(company, "member key", "7").await;
    assert_eq!(created.status, 200);
    let page = browser
        .get(&format!("/ui/companies/{company}/api-keys"))
        .await;
    assert!(page.body.contains("member key"));
    assert!(!page.body.contains(owners_key["id"].as_str().unwrap()));
    assert!(!page.body.contains("Created by"));
    // The owner's key cannot be deleted from the member's session.
    let delete = format!(
        "/ui/companies/{company}/api-keys/{}/delete",
        owners_key["id"].as_str().unwrap()
    );
    let csrf = page.field("csrf_token");
    let answer = browser.post(&delete, &[("csrf_token", &csrf)]).await;
    assert_eq!(answer.status, 303);
    assert!(browser
        .get(answer.location())
        .await
        .body
        .contains("already deleted"));
    assert_eq!(key_count(&app, &owner_token, company).await, 2);

    let mut owners_browser = PageClient::new(&app);
    owners_browser.sign_in(&owner).await;
    let page = owners_browser
        .get(&format!("/ui/companies/{company}/api-keys"))
        .await;
    assert!(page.body.contains("member key") && page.body.contains("member@example.com"));

    let audit = app.state.store.recent_audit_events(10).await.unwrap();
    let row = audit
        .iter()
        .find(|row| row.action == "api_key.created" && row.actor == member.id.to_string())
        .expect("the page's creation is audited");
    assert_eq!(row.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        row.user_agent.as_deref(),
        Some(crate::helpers::PAGE_CLIENT_AGENT)
    );
}
