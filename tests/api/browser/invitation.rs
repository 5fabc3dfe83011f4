//! The invitation link in Chromium: the page reads the code from the link's
//! fragment, the person chooses a password, and signs in with it.

use super::{Browser, DESKTOP, PHONE};
use crate::helpers::{spawn_app, TestApp, PASSWORD};

/// The page at the link's address: the app's own, with the link's fragment.
fn link_here(app: &TestApp, invitation: &serde_json::Value) -> String {
    let link = invitation["link"].as_str().unwrap();
    let fragment = link.split_once('#').unwrap().1;
    app.url(&format!("/ui/invitation#{fragment}"))
}

#[tokio::test]
async fn an_invitation_link_opens_a_page_that_sets_the_password() {
    let Some(mut browser) = Browser::start("invitation").await else {
        return;
    };
    let app = spawn_app().await;
    for width in [DESKTOP, PHONE] {
        browser.set_width(width).await;
        let email = format!("grace{width}@example.com");
        let invitation = app.invite(&email).await;
        let token = invitation["token"].as_str().unwrap().to_owned();
        let link = link_here(&app, &invitation);

        browser.goto(&link).await;
        let code = browser
            .eval("return document.getElementById('invitation-token').value")
            .await;
        assert_eq!(
            code,
            serde_json::json!(token),
            "the script copies the code from the link"
        );
        let hidden = browser
            .eval("return document.querySelector('.invitation-code').offsetParent === null")
            .await;
        assert_eq!(
            hidden,
            serde_json::json!(true),
            "the code is not asked again"
        );
        browser
            .find("#new-password")
            .await
            .send_keys(PASSWORD)
            .await
            .unwrap();
        browser.screenshot("invitation-filled").await;
        browser
            .find("button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        browser
            .wait_until("the sign-in page", "location.pathname === '/ui/login'")
            .await;
        let message = browser.find("#sign-in-message").await.text().await.unwrap();
        assert!(message.contains("Your password is set"), "{message}");
        browser.screenshot("invitation-accepted").await;
        assert_eq!(app.login(&email, PASSWORD).await.status(), 200);

        // The same link again: spent. The answer keeps the link's fragment,
        // so the code stays filled in and the message says what happened.
        browser.goto(&link).await;
        browser
            .find("#new-password")
            .await
            .send_keys(PASSWORD)
            .await
            .unwrap();
        browser
            .find("button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        browser
            .wait_until(
                "the refusal",
                "document.getElementById('invitation-message') !== null",
            )
            .await;
        let message = browser
            .find("#invitation-message")
            .await
            .text()
            .await
            .unwrap();
        assert!(message.contains("already used or expired"), "{message}");
        browser.screenshot("invitation-spent").await;
    }
    browser.close().await;
}
