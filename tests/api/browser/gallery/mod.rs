//! The gallery: every page state rendered from sample view models, served
//! with the real asset handler and the real security headers, looked at in
//! Chromium at desktop and phone widths, and driven from the keyboard.

mod keyboard;
mod no_script;
mod samples;

use std::net::TcpListener;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};
use latchkey::web::{
    assets, paths, render as html_page, security_headers, CONTENT_SECURITY_POLICY,
};
use serde_json::json;

use super::{Browser, DESKTOP, PHONE};
use samples::{Sample, FIRST_KEY_ID, STATES};

fn render(state: &str) -> HttpResponse {
    match samples::page(state) {
        Some(Sample::SignIn(page)) => html_page(StatusCode::OK, &page),
        Some(Sample::Keys(page)) => html_page(StatusCode::OK, &*page),
        // A page that breaks the policy, to prove that violations are seen.
        None if state == "csp-canary" => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(format!(
                r#"<!DOCTYPE html><link rel="icon" href="{}">
                <p style="color:red">inline</p><script>1</script>"#,
                assets::ICON.url()
            )),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn state_page(state: web::Path<String>) -> HttpResponse {
    render(&state)
}

/// The links the pages follow lead back into the gallery.
fn state_at(state: &'static str) -> impl Fn() -> std::future::Ready<HttpResponse> + Clone {
    move || std::future::ready(render(state))
}

/// Serves the gallery on a free port; returns its base URL.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port for the gallery");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(|| {
        App::new()
            .wrap(security_headers())
            .route(
                &format!("{}/{{file}}", paths::ASSETS),
                web::get().to(assets::serve),
            )
            .route("/gallery/{state}", web::get().to(state_page))
            .route("/ui/login", web::get().to(state_at("sign-in")))
            .route(
                "/ui/companies/{company}/api-keys",
                web::get().to(state_at("keys-owner")),
            )
            .route(
                "/ui/companies/{company}/api-keys/new",
                web::get().to(state_at("create")),
            )
            .route(
                "/ui/companies/{company}/api-keys/{key}/delete",
                web::get().to(state_at("delete")),
            )
    })
    .workers(1)
    .listen(listener)
    .expect("the gallery listens")
    .run();
    tokio::spawn(server);
    base
}

/// Checks that the page loaded whole under the policy: script ran, the
/// stylesheet applied, nothing wider than the window, nothing logged.
async fn assert_page_is_sound(browser: &Browser, what: &str) {
    let checks = browser
        .eval(
            "return {
                script: document.documentElement.classList.contains('js'),
                style: getComputedStyle(document.body).backgroundColor,
                overflow: document.documentElement.scrollWidth - window.innerWidth,
            }",
        )
        .await;
    assert_eq!(
        checks["script"],
        json!(true),
        "{what}: the script did not run"
    );
    assert_eq!(
        checks["style"],
        json!("rgb(245, 246, 248)"),
        "{what}: no stylesheet"
    );
    assert_eq!(
        checks["overflow"],
        json!(0),
        "{what}: wider than the window"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "{what}: the console shows {errors:#?}");
}

/// Assets carry their content hash in the name and are cached for a year;
/// any other name is not found, in the API's error shape.
#[tokio::test]
async fn assets_are_served_with_their_type_and_cached_for_good() {
    let base = serve();
    for (asset, content_type) in [
        (&assets::STYLESHEET, "text/css; charset=utf-8"),
        (&assets::SCRIPT, "text/javascript; charset=utf-8"),
        (&assets::ICON, "image/svg+xml"),
    ] {
        let response = reqwest::get(format!("{base}{}", asset.url()))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", asset.url());
        let headers = response.headers();
        assert_eq!(headers["content-type"], content_type);
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(!response.bytes().await.unwrap().is_empty());
    }
    let stale = reqwest::get(format!("{base}/ui/assets/app.000000000000.css"))
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    let body: serde_json::Value = stale.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "not_found");

    let page = reqwest::get(format!("{base}/gallery/keys-owner"))
        .await
        .unwrap();
    let headers = page.headers();
    assert_eq!(headers["content-security-policy"], CONTENT_SECURITY_POLICY);
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
}

#[tokio::test]
async fn the_gallery_renders_every_state_at_both_widths_without_console_errors() {
    let base = serve();
    let Some(mut browser) = Browser::start("gallery").await else {
        return;
    };

    // The console check sees a policy violation when there is one.
    browser.goto(&format!("{base}/gallery/csp-canary")).await;
    let violations = browser.console_errors().await;
    assert!(
        violations
            .iter()
            .any(|e| e.contains("Content Security Policy")),
        "a violation is reported: {violations:#?}"
    );

    for width in [DESKTOP, PHONE] {
        browser.set_width(width).await;
        for state in STATES {
            browser.goto(&format!("{base}/gallery/{state}")).await;
            if browser
                .eval("return document.querySelector('dialog[open]') === null")
                .await
                == json!(true)
            {
                browser.screenshot_page(state).await;
            } else {
                browser.screenshot(state).await;
            }
            assert_page_is_sound(&browser, &format!("{state} at {width} px")).await;
        }

        // The states that need a hand: menus open, a custom date chosen.
        browser.goto(&format!("{base}/gallery/keys-owner")).await;
        browser.find(".user-button").await.click().await.unwrap();
        browser.screenshot("user-menu").await;
        browser.find(".user-button").await.click().await.unwrap();
        browser.find("summary").await.click().await.unwrap();
        browser.screenshot("company-switcher").await;
        browser.find("summary").await.click().await.unwrap();
        browser
            .find(&format!("#key-menu-button-{FIRST_KEY_ID}"))
            .await
            .click()
            .await
            .unwrap();
        browser.screenshot("row-menu").await;

        browser.goto(&format!("{base}/gallery/create")).await;
        browser
            .find("label[for=expiry-custom]")
            .await
            .click()
            .await
            .unwrap();
        browser.screenshot("create-custom-date").await;

        browser.goto(&format!("{base}/gallery/reveal")).await;
        browser.find("#reveal-done").await.click().await.unwrap();
        browser.screenshot("reveal-confirm").await;
        assert_page_is_sound(&browser, &format!("interactions at {width} px")).await;
    }
    browser.close().await;
}
