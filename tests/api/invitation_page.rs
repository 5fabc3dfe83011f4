//! The page an invitation link opens: the invited user sets a password
//! there, once, and signs in with it.

use crate::helpers::{spawn_app, PageClient, PASSWORD};

#[tokio::test]
async fn an_invited_user_sets_a_password_on_the_page_once_and_signs_in() {
    let app = spawn_app().await;
    let invitation = app.invite("grace@example.com").await;
    let token = invitation["token"].as_str().unwrap();
    let link = invitation["link"].as_str().unwrap();
    // The token is in the fragment, which a browser never sends.
    assert_eq!(
        link,
        format!("{}/ui/invitation#token={token}", app.settings.issuer)
    );

    let mut browser = PageClient::new(&app);
    let page = browser.get("/ui/invitation").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Set your password"));
    let csrf = page.field("csrf_token");

    // A weak password: the form again, the invitation not spent, and the
    // code not written back into the page.
    let weak = browser
        .post(
            "/ui/invitation",
            &[
                ("csrf_token", &csrf),
                ("token", token),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains("at least 8 characters"), "{}", weak.body);
    assert!(!weak.body.contains(token), "the code is never rendered");

    // A made-up code.
    let made_up = browser
        .post(
            "/ui/invitation",
            &[
                ("csrf_token", &csrf),
                ("token", "not-an-invitation"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(made_up.status, 400);
    assert!(made_up.body.contains("unknown, already used or expired"));

    let accepted = browser
        .post(
            "/ui/invitation",
            &[
                ("csrf_token", &csrf),
                ("token", token),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(accepted.status, 303);
    assert_eq!(accepted.location(), "/ui/login");
    let sign_in = browser.get("/ui/login").await;
    assert!(
        sign_in.body.contains("Your password is set"),
        "{}",
        sign_in.body
    );
    assert_eq!(app.login("grace@example.com", PASSWORD).await.status(), 200);

    // Spent: the link works once.
    let csrf = browser.get("/ui/invitation").await.field("csrf_token");
    let again = browser
        .post(
            "/ui/invitation",
            &[
                ("csrf_token", &csrf),
                ("token", token),
                ("password", "another good passphrase"),
            ],
        )
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(app.login("grace@example.com", PASSWORD).await.status(), 200);
    let audited = app.state.store.recent_audit_events(20).await.unwrap();
    assert!(audited
        .iter()
        .any(|e| e.action == "user.invitation_accepted"));
}

#[tokio::test]
async fn the_invitation_form_is_refused_without_this_browsers_form_token() {
    let app = spawn_app().await;
    let invitation = app.invite("grace@example.com").await;
    let token = invitation["token"].as_str().unwrap();
    let mut browser = PageClient::new(&app);
    browser.get("/ui/invitation").await;

    let forged = browser
        .post(
            "/ui/invitation",
            &[
                ("csrf_token", "forged"),
                ("token", token),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("The form had expired"));
    // Nothing was spent.
    let login = app.login("grace@example.com", PASSWORD).await;
    assert_eq!(login.status(), 401);
}
