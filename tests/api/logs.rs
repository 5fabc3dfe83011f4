use serde_json::{json, Value};

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
