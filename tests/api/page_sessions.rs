//! Signing in and out of the pages over plain HTTP: the session's cookies,
//! its renewal, and its end when cut off from outside.

use latchkey::domain::Role;

use crate::helpers::{assert_invalid_token, spawn_app, spawn_app_with, PageClient};

const SESSION_COOKIES: [&str; 3] = ["latchkey-access", "latchkey-refresh", "latchkey-browser"];

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
async fn an_expired_login_token_is_renewed_and_a_cut_off_session_ends() {
    let app = spawn_app_with(|s| {
        // Ten seconds: room for a slow machine before the jump.
        s.tokens.access_ttl_seconds = 10;
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

    app.state.clock.advance(std::time::Duration::from_secs(11));
    app.state.follower.catch_up().await.unwrap();
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
        .revoke_user_tokens(user.id, &latchkey::store::audit::Actor::named("test"))
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
        .remove_member(
            user.id,
            company,
            &latchkey::store::audit::Actor::named("test"),
        )
        .await
        .unwrap();
    let gone = browser.get(&path).await;
    assert_eq!(gone.location(), "/ui/");
    let home = browser.get("/ui/").await;
    assert_eq!(home.location(), "/ui/login");
    let told = browser.get("/ui/login").await;
    assert!(told.body.contains("does not belong to any company"));
}
