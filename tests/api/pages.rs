//! The pages over plain HTTP: cookies, headers, CSRF, and the same rules as
//! the API. The browser tests (`browser/flows.rs`) drive the same pages in
//! Chromium.

use latchkey::domain::Role;
use latchkey::web::csrf;
use latchkey::web::CONTENT_SECURITY_POLICY;
use serde_json::Value;

use crate::helpers::{revealed_key, spawn_app, spawn_app_with, PageClient};

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
async fn a_key_made_on_the_page_carries_the_scopes_ticked_and_an_unknown_one_is_refused() {
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let mut browser = PageClient::new(&app);
    browser.sign_in(&user).await;
    let path = format!("/ui/companies/{company}/api-keys");
    let page = browser.get(&path).await;
    assert!(
        page.body.contains("name=\"scope.datasets:read\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("name=\"scope.datasets:write\""));
    let fields = |scope_field| [("name", "reader"), ("expiry", "30"), (scope_field, "on")];
    let unknown = browser
        .create_key_with(company, &fields("scope.billing:admin"))
        .await;
    // An unknown scope: its checkbox is not on the page, so it was forged.
    // Refused, in words, and no key is made.
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(
        unknown.body.contains("id=\"scopes-error\""),
        "{}",
        unknown.body
    );
    assert_eq!(key_count(&app, &token, company).await, 0);

    let made = browser
        .create_key_with(company, &fields("scope.datasets:read"))
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let key = revealed_key(&made.body);
    let client = app.create_client().await;
    let answer = app.introspect_ok(&client, &key).await;
    assert_eq!(answer["scope"], "datasets:read", "{answer}");
    let listed: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(
        listed["results"][0]["scopes"],
        serde_json::json!(["datasets:read"])
    );
    assert!(
        made.body.contains("badge-scope"),
        "the listing shows the scope"
    );
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
    let duplicate = browser.create_key(company, " CI ", "30").await;
    assert_eq!(duplicate.status, 422);
    assert!(duplicate
        .body
        .contains("An active key of this company already has this name. Choose another name."));
    let full = browser.create_key(company, "second", "30").await;
    assert_eq!(full.status, 403);
    assert!(full
        .body
        .contains("Your plan allows 1 active key and all are in use."));
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
