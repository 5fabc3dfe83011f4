//! The dialogs and menus, driven from the keyboard alone: focus moves into
//! each on opening and back to where it was on closing.

use fantoccini::key::Key;
use serde_json::json;

use super::samples::{COMPANY_ID, FIRST_KEY_ID};
use super::serve;
use crate::browser::Browser;

async fn is_true(browser: &Browser, script: &str) -> bool {
    browser.eval(&format!("return {script}")).await == json!(true)
}

async fn focused_text(browser: &Browser) -> String {
    let text = browser
        .eval("return document.activeElement.textContent.trim()")
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn dialogs_and_menus_work_from_the_keyboard() {
    let base = serve();
    let Some(mut browser) = Browser::start("keyboard").await else {
        return;
    };
    let list_path = format!("/ui/companies/{COMPANY_ID}/api-keys");
    browser.goto(&format!("{base}{list_path}")).await;

    // Create: Enter opens the dialog with focus on the name; Escape closes
    // it and focus goes back to the button.
    browser.tab_to("create-key-button").await;
    browser.press(Key::Enter).await;
    assert!(
        is_true(
            &browser,
            "document.getElementById('create-dialog').matches(':modal')"
        )
        .await
    );
    assert_eq!(browser.focused().await, "key-name");
    browser.screenshot("create-opened-by-keyboard").await;
    browser.press(Key::Escape).await;
    assert!(is_true(&browser, "!document.getElementById('create-dialog').open").await);
    assert_eq!(browser.focused().await, "create-key-button");

    // A row's menu: Enter opens it on its first item, the arrows move, and
    // Delete asks for confirmation naming the key, with focus on Cancel.
    let menu_button = format!("key-menu-button-{FIRST_KEY_ID}");
    browser.tab_to(&menu_button).await;
    browser.press(Key::Enter).await;
    assert_eq!(focused_text(&browser).await, "Copy key ID");
    browser.press(Key::Down).await;
    assert_eq!(focused_text(&browser).await, "Delete");
    browser.screenshot("row-menu-by-keyboard").await;
    browser.press(Key::Enter).await;
    assert!(
        is_true(
            &browser,
            "document.getElementById('delete-dialog').matches(':modal')"
        )
        .await
    );
    assert_eq!(focused_text(&browser).await, "Cancel");
    let named = browser
        .eval("return document.querySelector('#delete-dialog [data-key-name]').textContent")
        .await;
    assert_eq!(named, json!("ci deploy"));
    let action = browser
        .eval("return document.querySelector('[data-delete-form]').getAttribute('action')")
        .await;
    assert_eq!(action, json!(format!("{list_path}/{FIRST_KEY_ID}/delete")));
    browser.screenshot("delete-by-keyboard").await;
    browser.press(Key::Escape).await;
    assert!(is_true(&browser, "!document.getElementById('delete-dialog').open").await);
    assert_eq!(browser.focused().await, menu_button);

    // The user menu shows on focus; the arrows walk it; Escape closes it.
    browser.tab_to("user-button").await;
    let expanded = "document.getElementById('user-button').getAttribute('aria-expanded')";
    assert_eq!(
        browser.eval(&format!("return {expanded}")).await,
        json!("true")
    );
    browser.press(Key::Down).await;
    assert_eq!(focused_text(&browser).await, "API Keys");
    browser.press(Key::Down).await;
    assert_eq!(focused_text(&browser).await, "Sign out");
    browser.screenshot("user-menu-by-keyboard").await;
    browser.press(Key::Escape).await;
    assert_eq!(browser.focused().await, "user-button");
    assert_eq!(
        browser.eval(&format!("return {expanded}")).await,
        json!("false")
    );
    assert!(
        is_true(
            &browser,
            "getComputedStyle(document.getElementById('user-menu')).display === 'none'"
        )
        .await
    );

    // The reveal: Escape asks first, Go back keeps the key on screen, and
    // Close leaves the page without a history entry to come back to.
    browser.goto(&format!("{base}/gallery/reveal")).await;
    assert_eq!(browser.focused().await, "revealed-key");
    let history = browser.eval("return history.length").await;
    browser.press(Key::Escape).await;
    let asking = "document.getElementById('reveal-confirm').matches(':popover-open')";
    assert!(is_true(&browser, asking).await);
    assert!(
        is_true(
            &browser,
            "document.getElementById('reveal-dialog').matches(':modal')"
        )
        .await
    );
    assert_eq!(focused_text(&browser).await, "Go back");
    browser.screenshot("reveal-asks-before-closing").await;
    browser.press(Key::Enter).await;
    assert!(!is_true(&browser, asking).await);
    assert!(
        is_true(
            &browser,
            "document.getElementById('reveal-dialog').matches(':modal')"
        )
        .await
    );

    browser.tab_to("reveal-done").await;
    browser.press(Key::Enter).await;
    assert!(is_true(&browser, asking).await);
    browser.press(Key::Tab).await;
    assert_eq!(focused_text(&browser).await, "Close");
    browser.press(Key::Enter).await;
    browser
        .wait_until(
            "the list replaces the reveal",
            &format!("location.pathname === '{list_path}'"),
        )
        .await;
    assert_eq!(browser.eval("return history.length").await, history);
    assert!(is_true(&browser, "document.getElementById('revealed-key') === null").await);
    browser.screenshot("after-reveal").await;

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "the console shows {errors:#?}");
    browser.close().await;
}
