//! With no script at all, every flow still works as links and forms: the
//! dialogs arrive rendered open, and the menus and the reveal's confirmation
//! are the browser's own popovers.

use fantoccini::Locator;

use super::samples::{COMPANY_ID, FIRST_KEY_ID};
use super::serve;
use crate::browser::{Browser, DESKTOP, PHONE};

async fn path(browser: &Browser) -> String {
    browser
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .to_owned()
}

async fn shown(browser: &Browser, css: &str) -> bool {
    browser.find(css).await.is_displayed().await.unwrap()
}

#[tokio::test]
async fn every_flow_works_without_script() {
    let base = serve();
    let Some(mut browser) = Browser::start_without_script("no-script").await else {
        return;
    };
    let list_path = format!("/ui/companies/{COMPANY_ID}/api-keys");
    for width in [DESKTOP, PHONE] {
        browser.set_width(width).await;
        browser.goto(&format!("{base}{list_path}")).await;
        assert!(
            !shown(&browser, "[data-copy-text]").await,
            "a script-only control is hidden"
        );

        browser
            .find("#create-key-button")
            .await
            .click()
            .await
            .unwrap();
        assert_eq!(path(&browser).await, format!("{list_path}/new"));
        assert!(shown(&browser, "#create-dialog").await);
        browser.screenshot("create").await;

        browser
            .find("#create-dialog [data-close-dialog]")
            .await
            .click()
            .await
            .unwrap();
        assert_eq!(path(&browser).await, list_path);
        browser
            .find(&format!("#key-menu-button-{FIRST_KEY_ID}"))
            .await
            .click()
            .await
            .unwrap();
        browser.screenshot("row-menu").await;
        browser
            .find(&format!("#key-menu-{FIRST_KEY_ID} [data-delete-key]"))
            .await
            .click()
            .await
            .unwrap();
        assert_eq!(
            path(&browser).await,
            format!("{list_path}/{FIRST_KEY_ID}/delete")
        );
        let dialog = browser.find("#delete-dialog").await;
        assert!(dialog.is_displayed().await.unwrap());
        assert!(dialog.text().await.unwrap().contains("Delete “ci deploy”?"));
        let form = dialog.find(Locator::Css("form")).await.unwrap();
        assert_eq!(
            form.attr("action").await.unwrap().unwrap(),
            format!("{list_path}/{FIRST_KEY_ID}/delete")
        );
        browser.screenshot("delete").await;

        browser.goto(&format!("{base}/gallery/reveal")).await;
        assert!(shown(&browser, "#reveal-dialog").await);
        browser.find("#reveal-done").await.click().await.unwrap();
        assert!(shown(&browser, "#reveal-confirm").await);
        browser.screenshot("reveal-confirm").await;
        browser
            .find("#reveal-confirm [data-replace]")
            .await
            .click()
            .await
            .unwrap();
        assert_eq!(path(&browser).await, list_path);
    }
    browser.close().await;
}
