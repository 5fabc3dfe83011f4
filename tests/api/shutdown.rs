//! A real `latchkey serve` stopped by SIGTERM: it finishes, writes what it
//! had buffered, and exits 0.

use serde_json::{json, Value};

use crate::process::Latchkey;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn sigterm_right_after_a_key_is_used_loses_no_last_used_at_and_exits_0() {
    let latchkey = Latchkey::new().await;
    let (company_id, _) =
        latchkey.owner_of_new_company("professional", "ada@example.com", PASSWORD);
    let company_id = company_id.as_str();
    // The default flush interval is a minute: only the shutdown writes it.
    let mut server = latchkey.serve("info");
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address);
    let login: Value = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key: Value = client
        .post(url(&format!("/api/v1/companies/{company_id}/api-keys")))
        .bearer_auth(login["access_token"].as_str().unwrap())
        .json(&json!({ "name": "ci", "expires_in": 86_400 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let used = client
        .get(url("/api/v1/auth/me"))
        .bearer_auth(key["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(used.status(), 200);

    let status = server.terminate();

    assert!(status.success(), "exit status {status}: {}", server.logs());
    let listed = latchkey.run_json(&["api-key", "list", "--json"], "");
    assert_eq!(listed[0]["id"], key["id"]);
    assert!(
        listed[0]["last_used_at"].is_string(),
        "last_used_at was lost: {listed}"
    );
    assert!(server.logs().contains("latchkey stopped"));
}
