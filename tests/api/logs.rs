use serde_json::{json, Value};

use crate::helpers::{revealed_key, PageClient};
use crate::process::Latchkey;

const PASSWORD: &str = "a-very-distinctive-passphrase-9431";

#[tokio::test]
async fn no_password_or_token_ever_reaches_the_logs() {
    let latchkey = Latchkey::new().await;
    latchkey.run_json(
        &["--json", "user", "create", "--email", "ada@example.com"],
        PASSWORD,
    );
    let mut server = latchkey.serve("trace");
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address);

    let pair: Value = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = pair["access_token"]
        .as_str()
        .expect("login succeeded")
        .to_owned();
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let me = client
        .get(url("/api/v1/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let rotated: Value = client
        .post(url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access2 = rotated["access_token"]
        .as_str()
        .expect("refresh succeeded")
        .to_owned();
    let refresh2 = rotated["refresh_token"].as_str().unwrap().to_owned();
    client
        .get(url("/api/v1/auth/me?access_token=leaky"))
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap();
    client
        .post(url("/api/v1/auth/login"))
        .json(&json!({ "email": "ada@example.com", "password": "wrong-but-secret-77" }))
        .send()
        .await
        .unwrap();
    // A graceful stop finishes the requests and ends the logs.
    assert!(server.terminate().success());

    let logs = server.logs();
    assert!(
        logs.contains("request completed"),
        "the server logged no requests: {logs}"
    );
    // Every line is one JSON object with the stock keys; a request's line
    // carries its span's request id.
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let parsed: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
        for key in ["timestamp", "level", "target"] {
            assert!(parsed.get(key).is_some(), "no {key} in {line}");
        }
        if parsed["message"] == "request completed" {
            assert!(parsed["span"]["request_id"].is_string(), "{line}");
        }
    }
    for secret in [
        PASSWORD,
        "wrong-but-secret-77",
        &access,
        &refresh,
        &access2,
        &refresh2,
        "leaky",
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    // Nor any recognisable piece of a token (its signature part).
    for token in [&access, &access2] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !logs.contains(signature),
            "a token signature reached the logs"
        );
    }
}

/// The pages' flow against the real binary at `trace`: neither the new key
/// nor the session's tokens reach the logs, a URL, or any later page.
#[tokio::test]
async fn no_key_or_session_token_reaches_the_logs_or_a_later_page() {
    let latchkey = Latchkey::new().await;
    let (company, _) = latchkey.owner_of_new_company("professional", "ada@example.com", PASSWORD);
    let mut server = latchkey.serve("trace");
    let mut browser = PageClient::at(&server.address);
    browser.sign_in_as("ada@example.com", PASSWORD).await;
    let access = browser.cookie("latchkey-access").unwrap().to_owned();
    let refresh = browser.cookie("latchkey-refresh").unwrap().to_owned();
    let company: uuid::Uuid = company.parse().unwrap();
    let created = browser.create_key(company, "ci deploy", "30").await;
    assert_eq!(created.status, 200);
    let key = revealed_key(&created.body);

    let list = format!("/ui/companies/{company}/api-keys");
    let mut later = vec![browser.get(&list).await];
    let key_id = later[0]
        .body
        .split("id=\"key-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let delete = format!("{list}/{key_id}/delete");
    later.push(browser.get(&format!("{list}/new")).await);
    later.push(browser.get(&delete).await);
    let csrf = later[0].field("csrf_token");
    let deleted = browser.post(&delete, &[("csrf_token", &csrf)]).await;
    assert!(!deleted.location().contains(&key));
    later.push(browser.get(deleted.location()).await);
    assert!(later[3].body.contains("Deleted “ci deploy”"));
    assert!(server.terminate().success());

    let logs = server.logs();
    assert!(
        logs.contains("request completed"),
        "no requests logged: {logs}"
    );
    let signature = |token: &str| token.rsplit('.').next().unwrap().to_owned();
    for secret in [
        &key,
        &access,
        &refresh,
        &signature(&key),
        &signature(&access),
    ] {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
        for page in &later {
            assert!(
                !page.body.contains(secret.as_str()),
                "a secret is in a later page"
            );
            for (_, value) in page.headers.iter() {
                assert!(!value.to_str().unwrap_or_default().contains(secret.as_str()));
            }
        }
    }
    assert!(!logs.contains(PASSWORD));
}
