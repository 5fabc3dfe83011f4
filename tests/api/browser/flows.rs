//! The pages against the real app on port 0, driven in Chromium as a
//! person would: every step is saved as a screenshot, at desktop and phone
//! widths, under `target/ui-screenshots/<test>/`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use latchkey::domain::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Browser, DESKTOP, PHONE};
use crate::helpers::{
    assert_invalid_token, eventually, spawn_app, spawn_app_with, TestApp, PASSWORD,
};

async fn text(browser: &Browser, css: &str) -> String {
    browser.find(css).await.text().await.unwrap()
}

async fn value(browser: &Browser, css: &str) -> String {
    browser
        .find(css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn click(browser: &Browser, css: &str) {
    browser.find(css).await.click().await.unwrap();
}

/// Saves this step at both widths, and comes back to the desktop.
async fn shoot(browser: &mut Browser, name: &str) {
    browser.screenshot(name).await;
    browser.set_width(PHONE).await;
    browser.screenshot(name).await;
    browser.set_width(DESKTOP).await;
}

async fn sign_in(browser: &Browser, app: &TestApp, email: &str, password: &str) {
    browser.goto(&app.url("/")).await;
    let email_field = browser.find("#email").await;
    email_field.clear().await.unwrap();
    email_field.send_keys(email).await.unwrap();
    browser
        .find("#password")
        .await
        .send_keys(password)
        .await
        .unwrap();
    click(browser, ".sign-in-card button[type=submit]").await;
}

/// Opens the create dialog and names the key.
async fn start_creating(browser: &Browser, name: &str) {
    click(browser, "#create-key-button").await;
    browser
        .find("#key-name")
        .await
        .send_keys(name)
        .await
        .unwrap();
}

async fn wait_for_path(browser: &Browser, wanted: &str) {
    browser
        .wait_until(
            &format!("the browser is at {wanted}"),
            &format!("location.pathname === '{wanted}'"),
        )
        .await;
}

async fn no_console_errors(browser: &Browser) {
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "the console shows {errors:#?}");
}

/// The issue's flow, at each width: sign in, create a 30-day key, read the
/// key and the Company ID, call the API with them, find the key no longer
/// shown, delete it through … → Delete → confirm, and see it refused.
#[tokio::test]
async fn create_use_and_delete_a_key_in_the_browser() {
    let Some(mut browser) = Browser::start("flow").await else {
        return;
    };
    for width in [DESKTOP, PHONE] {
        browser.set_width(width).await;
        let app = spawn_app().await;
        let (user, company, _) = app
            .member_of_new_company("ada@example.com", "professional", Role::Owner)
            .await;
        let list = format!("/ui/companies/{company}/api-keys");

        browser.goto(&app.url("/")).await;
        wait_for_path(&browser, "/ui/login").await;
        browser.screenshot("sign-in").await;
        sign_in(&browser, &app, &user.email, PASSWORD).await;
        wait_for_path(&browser, &list).await;
        browser.screenshot_page("empty-list").await;

        start_creating(&browser, "ci deploy").await;
        click(&browser, "label[for=expiry-30]").await;
        browser.screenshot("create-30-days").await;
        click(&browser, "#create-dialog button[type=submit]").await;

        let key = value(&browser, "#revealed-key").await;
        let company_id = value(&browser, "#revealed-company-id").await;
        assert_eq!(company_id, company.to_string());
        assert!(text(&browser, "#reveal-warning")
            .await
            .contains("will not be shown again"));
        click(&browser, "[data-copy=revealed-key]").await;
        // The Clipboard API answers with a promise: the label changes after it.
        browser
            .wait_until(
                "the copy button says what happened",
                "document.querySelector('[data-copy=revealed-key]').textContent.trim() !== 'Copy'",
            )
            .await;
        let copied = text(&browser, "[data-copy=revealed-key]").await;
        assert!(
            copied == "Copied" || copied.starts_with("Press"),
            "{copied}"
        );
        browser.screenshot("reveal").await;

        // The key and the Company ID are all an API call needs.
        let me: Value = app.me(&key).await.json().await.unwrap();
        assert_eq!(me["companies"][0]["id"], company_id);
        let expires = text(&browser, ".cell-expires").await;
        assert!(expires.contains("in 30 days"), "{expires}");

        click(&browser, "#reveal-done").await;
        browser.screenshot("reveal-asks-before-closing").await;
        click(&browser, "#reveal-confirm [data-replace]").await;
        wait_for_path(&browser, &list).await;
        browser.client.refresh().await.unwrap();
        let source = browser.client.source().await.unwrap();
        assert!(!source.contains(&key), "the key is not shown again");
        assert!(source.contains("ci deploy"));
        browser.screenshot_page("after-reload").await;

        let key_id = browser
            .eval("return document.querySelector('.key-row').id.slice(4)")
            .await;
        let key_id = key_id.as_str().unwrap().to_owned();
        click(&browser, &format!("#key-menu-button-{key_id}")).await;
        browser.screenshot("row-menu").await;
        click(&browser, &format!("#key-menu-{key_id} [data-delete-key]")).await;
        let named = text(&browser, "#delete-title").await;
        assert_eq!(named, "Delete “ci deploy”?");
        browser.screenshot("delete-confirm").await;
        click(&browser, "#delete-dialog button[type=submit]").await;
        let notice = text(&browser, "#notice").await;
        assert!(notice.contains("Deleted “ci deploy”"), "{notice}");
        assert!(
            browser
                .client
                .source()
                .await
                .unwrap()
                .contains("You have no API keys yet")
                || browser
                    .client
                    .source()
                    .await
                    .unwrap()
                    .contains("No API keys yet")
        );
        browser.screenshot_page("deleted").await;

        assert_invalid_token(app.me(&key).await).await;
        let audit = app.state.store.recent_audit_events(10).await.unwrap();
        let created = audit
            .iter()
            .find(|row| row.action == "api_key.created")
            .unwrap();
        let agent = created.user_agent.as_deref().unwrap_or_default();
        assert!(
            agent.contains("Chrome"),
            "the browser's user agent is audited: {agent}"
        );
        assert_eq!(created.ip.as_deref(), Some("127.0.0.1"));
        no_console_errors(&browser).await;
    }
    browser.close().await;
}

/// A key limited to reading datasets: ticked in the dialog, carried by the
/// token, and shown in the list.
#[tokio::test]
async fn a_key_limited_to_one_scope_is_made_in_the_browser() {
    let Some(mut browser) = Browser::start("scoped-key").await else {
        return;
    };
    let app = spawn_app().await;
    let (user, company, _) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    sign_in(&browser, &app, &user.email, PASSWORD).await;
    wait_for_path(&browser, &format!("/ui/companies/{company}/api-keys")).await;

    start_creating(&browser, "dashboards").await;
    click(&browser, "input[name='scope.datasets:read']").await;
    shoot(&mut browser, "create-with-one-scope").await;
    click(&browser, "#create-dialog button[type=submit]").await;

    let key = value(&browser, "#revealed-key").await;
    let client = app.create_client().await;
    let answer = app.introspect_ok(&client, &key).await;
    assert_eq!(answer["scope"], "datasets:read", "{answer}");
    click(&browser, "#reveal-done").await;
    click(&browser, "#reveal-confirm [data-replace]").await;
    let listed = text(&browser, ".key-row .cell-name").await;
    assert!(listed.contains("datasets:read"), "{listed}");
    assert!(!listed.contains("datasets:write"), "{listed}");
    shoot(&mut browser, "listed-with-its-scope").await;
    no_console_errors(&browser).await;
    browser.close().await;
}

#[tokio::test]
async fn a_free_plan_company_sees_why_it_has_no_keys() {
    let Some(mut browser) = Browser::start("free-plan").await else {
        return;
    };
    let app = spawn_app().await;
    let (user, _, _) = app
        .member_of_new_company("ada@example.com", "free", Role::Owner)
        .await;
    sign_in(&browser, &app, &user.email, PASSWORD).await;
    let notice = text(&browser, "#plan-notice").await;
    assert!(notice.contains("not included in the Free plan"), "{notice}");
    assert!(
        notice.contains("Professional and Professional Unlimited"),
        "{notice}"
    );
    let buttons = browser
        .eval("return document.querySelectorAll('#create-key-button').length")
        .await;
    assert_eq!(buttons, json!(0));
    shoot(&mut browser, "free-plan").await;
    no_console_errors(&browser).await;
    browser.close().await;
}

#[tokio::test]
async fn a_member_sees_only_their_own_keys() {
    let Some(mut browser) = Browser::start("member").await else {
        return;
    };
    let app = spawn_app().await;
    let (_, company, owner_token) = app
        .member_of_new_company("owner@example.com", "professional", Role::Owner)
        .await;
    let owners = app.create_key_ok(&owner_token, company).await;
    let member = app.create_user("grace@example.com").await;
    app.add_member(&member, company, Role::Member).await;
    let member_token = app.access_token(&member).await;
    let own = app.create_key_ok(&member_token, company).await;

    sign_in(&browser, &app, &member.email, PASSWORD).await;
    // The click may return before the keys page has loaded.
    browser
        .wait_until(
            "the keys page lists a key",
            "document.querySelectorAll('.key-row').length > 0",
        )
        .await;
    let rows = browser
        .eval("return Array.from(document.querySelectorAll('.key-row')).map(r => r.id.slice(4))")
        .await;
    assert_eq!(rows, json!([own["id"]]));
    assert_ne!(rows, json!([owners["id"]]));
    let lede = text(&browser, ".lede").await;
    assert!(lede.starts_with("Your keys in Acme"), "{lede}");
    let columns = text(&browser, "thead").await;
    assert!(!columns.to_lowercase().contains("created by"), "{columns}");
    shoot(&mut browser, "member-own-keys").await;
    no_console_errors(&browser).await;
    browser.close().await;
}

/// A page on another site posts the create form at a signed-in user's
/// latchkey: it is refused, and no key is made.
#[tokio::test]
async fn a_form_posted_from_another_site_is_refused() {
    let Some(mut browser) = Browser::start("cross-site").await else {
        return;
    };
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    sign_in(&browser, &app, &user.email, PASSWORD).await;
    wait_for_path(&browser, &format!("/ui/companies/{company}/api-keys")).await;

    // "localhost" is another site than "127.0.0.1".
    let target = app.url(&format!("/ui/companies/{company}/api-keys"));
    let evil = serve_page(format!(
        r#"<!DOCTYPE html><title>Win a prize</title>
        <form method="post" action="{target}">
        <input name="csrf_token" value="guess"><input name="key_id" value="{}">
        <input name="key_id_tag" value="guess"><input name="name" value="planted">
        <input name="expiry" value="30"><button id="go">Claim</button></form>"#,
        Uuid::now_v7()
    ));
    browser.goto(&evil).await;
    click(&browser, "#go").await;
    wait_for_path(&browser, &format!("/ui/companies/{company}/api-keys")).await;
    assert_eq!(text(&browser, "h1").await, "Request refused");
    shoot(&mut browser, "refused").await;
    let listed: Value = app.list_keys(&token, company).await.json().await.unwrap();
    assert_eq!(listed["count"], 0);
    browser.close().await;
}

/// Serves one page at `http://localhost:<port>/`.
fn serve_page(body: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let body = body.clone();
        App::new().route(
            "/",
            web::get().to(move || {
                let body = body.clone();
                async move { HttpResponse::Ok().content_type("text/html").body(body) }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://localhost:{port}/")
}

/// `user revoke-tokens` from the CLI while the page is open: the next
/// action ends the session, with a word saying so.
#[tokio::test]
async fn a_session_cut_off_by_revoke_tokens_ends_at_once() {
    let Some(mut browser) = Browser::start("cut-off").await else {
        return;
    };
    let app = spawn_app().await;
    let (user, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    sign_in(&browser, &app, &user.email, PASSWORD).await;
    wait_for_path(&browser, &format!("/ui/companies/{company}/api-keys")).await;
    start_creating(&browser, "too late").await;
    browser.screenshot("page-open").await;

    app.ops(&["user", "revoke-tokens", &user.id.to_string()]);
    eventually("the CLI's revocation is applied", || async {
        app.me(&token).await.status() == 401
    })
    .await;
    click(&browser, "#create-dialog button[type=submit]").await;
    wait_for_path(&browser, "/ui/login").await;
    let message = text(&browser, "#sign-in-message").await;
    assert_eq!(message, "Your session has ended. Please sign in again.");
    shoot(&mut browser, "session-ended").await;
    let listed: Value = app
        .list_keys(&app.access_token(&user).await, company)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["count"], 0);
    browser.close().await;
}

/// With every password check busy, a sign-in is throttled, and the page
/// says so plainly.
#[tokio::test]
async fn a_throttled_sign_in_says_so() {
    let Some(mut browser) = Browser::start("throttled").await else {
        return;
    };
    let app = spawn_app_with(|s| {
        s.passwords.max_concurrent_hashes = 1;
        s.passwords.max_queued_hashes = 0;
    })
    .await;
    let user = app.create_user("ada@example.com").await;
    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let storm: Vec<_> = (0..3)
        .map(|_| {
            let (app, stop) = (app.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    app.login("storm@example.com", "wrong").await;
                }
            })
        })
        .collect();
    let mut message = String::new();
    for _ in 0..20 {
        sign_in(&browser, &app, &user.email, "wrong password").await;
        message = text(&browser, "#sign-in-message").await;
        if message.starts_with("Too many attempts") {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for task in storm {
        task.await.unwrap();
    }
    assert!(
        message.starts_with("Too many attempts. Try again in"),
        "{message}"
    );
    shoot(&mut browser, "throttled").await;
    browser.close().await;
}
