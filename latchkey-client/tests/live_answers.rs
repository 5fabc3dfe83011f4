//! Live checks against a stub introspection endpoint: how long answers and
//! refusals are reused (counted from when the question was sent), and that
//! latchkey's `scope` must be the token's.

mod stub;

use std::time::Duration;

use latchkey_client::{Policy, Rejection};
use serde_json::json;
use stub::{active, start_stub};

#[tokio::test]
async fn an_answers_age_counts_from_when_the_question_was_sent() {
    let stub = start_stub();
    let latchkey = stub.live_client();
    let key = stub.api_key("k1", json!({}));
    stub.introspection.answer(active(None));
    // The answer takes 1.5 s to come: it vouches for the token as of when
    // it was asked, so it has 0.5 s of its 2 s left on arrival.
    stub.introspection.takes(Duration::from_millis(1500));
    latchkey.verify(&key, Policy::Live).await.unwrap();
    assert_eq!(stub.introspection.requests(), 1);

    stub.introspection.takes(Duration::ZERO);
    stub.clock.advance(Duration::from_millis(400));
    latchkey.verify(&key, Policy::Live).await.unwrap();
    assert_eq!(
        stub.introspection.requests(),
        1,
        "still within 2 s of asking"
    );

    stub.clock.advance(Duration::from_millis(200));
    latchkey.verify(&key, Policy::Live).await.unwrap();
    assert_eq!(
        stub.introspection.requests(),
        2,
        "2.1 s after asking, though only 0.6 s after the answer came"
    );
}

#[tokio::test]
async fn a_refusal_is_cached_too_but_for_less_than_an_acceptance() {
    let stub = start_stub();
    let latchkey = stub.live_client();
    let key = stub.api_key("k1", json!({}));
    stub.introspection.answer(json!({"active": false}));

    let refused = latchkey.verify(&key, Policy::Live).await;
    assert_eq!(refused.unwrap_err(), Rejection::InvalidToken);
    stub.clock.advance(Duration::from_millis(900));
    let refused = latchkey.verify(&key, Policy::Live).await;
    assert_eq!(refused.unwrap_err(), Rejection::InvalidToken);
    assert_eq!(stub.introspection.requests(), 1, "the refusal was reused");

    // Past the refusal's 1 s, though an acceptance would still hold (2 s).
    stub.introspection.answer(active(None));
    stub.clock.advance(Duration::from_millis(200));
    latchkey.verify(&key, Policy::Live).await.unwrap();
    assert_eq!(stub.introspection.requests(), 2);
    stub.clock.advance(Duration::from_millis(1500));
    latchkey.verify(&key, Policy::Live).await.unwrap();
    assert_eq!(
        stub.introspection.requests(),
        2,
        "the acceptance was reused"
    );

    // A confirmation policy shorter than the refusal time caps it too.
    let other = stub.api_key("k1", json!({"iat": 1}));
    stub.introspection.answer(json!({"active": false}));
    let every = Policy::Confirmed(Duration::from_millis(300));
    assert!(latchkey.verify(&other, every).await.is_err());
    stub.clock.advance(Duration::from_millis(400));
    stub.introspection.answer(active(None));
    latchkey.verify(&other, every).await.unwrap();
    assert_eq!(stub.introspection.requests(), 4);
}

#[tokio::test]
async fn a_token_whose_scopes_latchkey_does_not_confirm_is_refused() {
    let stub = start_stub();
    let latchkey = stub.live_client();

    // latchkey says the key was created with scopes; the token carries none.
    let bare = stub.api_key("k1", json!({}));
    stub.introspection.answer(active(Some("datasets:read")));
    let refused = latchkey.verify(&bare, Policy::Live).await;
    assert_eq!(refused.unwrap_err(), Rejection::InvalidToken);

    // The same scopes on both sides pass, and the caller carries them.
    let reader = stub.api_key("k1", json!({"scope": "datasets:read"}));
    let caller = latchkey.verify(&reader, Policy::Live).await.unwrap();
    assert_eq!(caller.scopes.iter().collect::<Vec<_>>(), ["datasets:read"]);
    assert_eq!(
        caller.require_scope("datasets:write"),
        Err(Rejection::InsufficientScope {
            scope: "datasets:write".to_owned()
        })
    );

    // Scopes latchkey does not know of are refused as well.
    let writer = stub.api_key("k1", json!({"scope": "datasets:read datasets:write"}));
    let refused = latchkey.verify(&writer, Policy::Live).await;
    assert_eq!(refused.unwrap_err(), Rejection::InvalidToken);
}
