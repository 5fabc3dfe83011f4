//! The company in the path: a key reaches its own company only, and a path
//! that could be read as another company is refused.

use serde_json::Value;

use crate::helpers::{
    assert_error, spawn_datasets, spawn_latchkey, TestDatasets, DEFAULT_POLICIES,
};

#[tokio::test]
async fn another_companys_key_is_refused_with_403() {
    let latchkey = spawn_latchkey().await;
    let ours = latchkey.member().await;
    let theirs = latchkey.member().await;
    let (_, their_key) = latchkey.api_key(&theirs).await;
    let datasets = spawn_datasets(&latchkey, DEFAULT_POLICIES).await;

    let body = assert_error(
        datasets.list(ours.company_id, &their_key).await,
        403,
        "permission_denied",
    )
    .await;
    assert_eq!(
        body["errors"][0]["detail"],
        "This token may not reach that company."
    );
    assert_error(
        datasets.create(ours.company_id, &their_key).await,
        403,
        "permission_denied",
    )
    .await;
    assert_eq!(
        datasets.list(theirs.company_id, &their_key).await.status(),
        200
    );
}

#[tokio::test]
async fn ambiguous_paths_are_refused_even_for_the_right_company() {
    let latchkey = spawn_latchkey().await;
    let ours = latchkey.member().await;
    let theirs = latchkey.member().await;
    let (_, key) = latchkey.api_key(&theirs).await;
    let datasets = spawn_datasets(&latchkey, DEFAULT_POLICIES).await;
    let (us, them) = (ours.company_id, theirs.company_id);

    // Each reaches the route (its company segment is one segment to the
    // router) but could be read as another company behind it.
    for path in [
        format!("/api/v1/companies/{them}%2F..%2F{us}/datasets/"),
        format!("/api/v1/companies/{them}%2f..%2f{us}/datasets/"),
        format!("/api/v1/companies/{them}%5C..%5C{us}/datasets/"),
        format!("/api/v1/companies/{them};x=1/datasets/"),
        format!("/api/v1/companies/{them}%3B{us}/datasets/"),
    ] {
        let response = datasets.get(&path, &key).await;
        let body: Value = assert_error(response, 403, "permission_denied").await;
        assert_eq!(
            body["errors"][0]["detail"], "The request path is ambiguous.",
            "{path}"
        );
    }
    let with_query = format!("{}?companies={us}", TestDatasets::datasets_path(them));
    assert_eq!(datasets.get(&with_query, &key).await.status(), 200);
}

#[tokio::test]
async fn a_login_token_reaches_the_companies_of_its_user_only() {
    let latchkey = spawn_latchkey().await;
    let member = latchkey.member().await;
    let stranger = latchkey.member().await;
    let datasets = spawn_datasets(&latchkey, DEFAULT_POLICIES).await;

    let own = datasets.list(member.company_id, &member.login_token).await;
    assert_eq!(own.status(), 200);
    let other = datasets
        .list(stranger.company_id, &member.login_token)
        .await;
    assert_error(other, 403, "permission_denied").await;
    let path = "/api/v1/companies/not-a-uuid/datasets/";
    let not_a_company = datasets.get(path, &member.login_token).await;
    assert_error(not_a_company, 403, "permission_denied").await;

    // Without latchkey, a user's companies cannot be known: fail closed.
    latchkey.proxy.cut();
    datasets.clock.advance(std::time::Duration::from_secs(11));
    let unknown = datasets.list(member.company_id, &member.login_token).await;
    assert_error(unknown, 503, "service_unavailable").await;
}
