use crate::process::Latchkey;

#[tokio::test]
async fn ops_commands_print_the_documented_json() {
    let latchkey = Latchkey::new().await;

    let company = latchkey.run_json(
        &[
            "company",
            "create",
            "--name",
            "Acme",
            "--plan",
            "professional",
            "--json",
        ],
        "",
    );
    let user = latchkey.run_json(
        &["user", "create", "--email", "Ada@Example.com", "--json"],
        "a fine long password\n",
    );
    let company_id = company["id"].as_str().unwrap();
    let user_id = user["id"].as_str().unwrap();
    latchkey.run_json(
        &[
            "member",
            "add",
            "--company",
            company_id,
            "--user",
            user_id,
            "--role",
            "owner",
            "--json",
        ],
        "",
    );
    let plan = latchkey.run_json(&["company", "set-plan", company_id, "free", "--json"], "");
    let disabled = latchkey.run_json(&["user", "disable", user_id, "--json"], "");

    assert_eq!(company.as_object().unwrap().len(), 3);
    assert_eq!(company["name"], "Acme");
    assert_eq!(company["plan"], "professional");
    assert_eq!(user.as_object().unwrap().len(), 2);
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(plan["plan"], "free");
    assert_eq!(disabled["disabled"], true);
}

#[tokio::test]
async fn a_common_password_is_refused_at_user_create() {
    let latchkey = Latchkey::new().await;

    let output = latchkey.run(
        &["user", "create", "--email", "ada@example.com"],
        "baseball\n",
    );

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("too common"), "{stderr}");
}

#[tokio::test]
async fn an_unknown_plan_is_refused_with_the_known_ones() {
    let latchkey = Latchkey::new().await;

    let output = latchkey.run(
        &["company", "create", "--name", "Acme", "--plan", "gold"],
        "",
    );

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("professional_unlimited"), "{stderr}");
}

#[tokio::test]
async fn a_bad_setting_stops_start_up_naming_the_setting() {
    let latchkey = Latchkey::new().await;

    let output = latchkey
        .command(&["migrate"])
        .env("LATCHKEY_SERVER__PORT", "not-a-port")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.port"), "{stderr}");
}

#[tokio::test]
async fn api_key_revoke_from_the_cli_reaches_the_running_server() {
    use latchkey::domain::Role;

    let app = crate::helpers::spawn_app().await;
    let (_, company, token) = app
        .member_of_new_company("ada@example.com", "professional", Role::Owner)
        .await;
    let created = app.create_key_ok(&token, company).await;
    let key = created["token"].as_str().unwrap();
    let key_id = created["id"].as_str().unwrap();
    let cli = app.cli();

    let listed = cli.run_json(
        &[
            "api-key",
            "list",
            "--company",
            &company.to_string(),
            "--json",
        ],
        "",
    );
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], key_id);
    assert_eq!(listed[0]["status"], "active");
    let revoked = cli.run_json(&["api-key", "revoke", key_id, "--json"], "");
    assert_eq!(revoked["revoked"], true);

    // The server follows the revocation log (polled every 100 ms in tests).
    crate::helpers::eventually("the revocation reaching the server", || async {
        app.me(key).await.status() == 401
    })
    .await;
    crate::helpers::assert_invalid_token(app.me(key).await).await;
    let again = cli.run(&["api-key", "revoke", key_id], "");
    assert!(!again.status.success());
}

#[tokio::test]
async fn a_service_client_is_created_listed_and_revoked() {
    let latchkey = Latchkey::new().await;

    let created = latchkey.run_json(&["client", "create", "--name", "billing", "--json"], "");
    let client_id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let listed = latchkey.run_json(&["client", "list", "--json"], "");
    let revoked = latchkey.run_json(&["client", "revoke", client_id, "--json"], "");

    assert_eq!(created.as_object().unwrap().len(), 2);
    assert_eq!(secret.len(), 43, "256 random bits, base64url");
    assert_eq!(listed[0]["client_id"], client_id);
    assert_eq!(listed[0]["name"], "billing");
    assert!(listed[0].get("client_secret").is_none() && !listed.to_string().contains(secret));
    assert_eq!(revoked["revoked"], true);
    let listed = latchkey.run_json(&["client", "list", "--json"], "");
    assert!(listed[0]["revoked_at"].is_string());
}

#[tokio::test]
async fn member_remove_takes_the_user_out_of_the_company() {
    let latchkey = Latchkey::new().await;
    let company = latchkey.run_json(
        &[
            "company", "create", "--name", "Acme", "--plan", "free", "--json",
        ],
        "",
    );
    let user = latchkey.run_json(
        &["user", "create", "--email", "ada@example.com", "--json"],
        "a fine long password\n",
    );
    let (company, user) = (
        company["id"].as_str().unwrap(),
        user["id"].as_str().unwrap(),
    );
    latchkey.run_json(
        &[
            "member",
            "add",
            "--company",
            company,
            "--user",
            user,
            "--role",
            "member",
            "--json",
        ],
        "",
    );

    let removed = latchkey.run_json(
        &[
            "member",
            "remove",
            "--company",
            company,
            "--user",
            user,
            "--json",
        ],
        "",
    );
    let again = latchkey.run(
        &["member", "remove", "--company", company, "--user", user],
        "",
    );

    assert_eq!(removed["removed"], true);
    assert!(!again.status.success());
}

#[tokio::test]
async fn a_client_created_before_the_server_starts_may_introspect() {
    let latchkey = Latchkey::new().await;
    let created = latchkey.run_json(&["client", "create", "--name", "billing", "--json"], "");
    let server = latchkey.serve("info");

    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/introspect", server.address))
        .basic_auth(
            created["client_id"].as_str().unwrap(),
            created["client_secret"].as_str(),
        )
        .form(&[("token", "junk")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({ "active": false })
    );
}
