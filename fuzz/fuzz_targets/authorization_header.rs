//! `Authorization` header parsing: `bearer_token` (one or two header values)
//! and HTTP Basic client credentials. Must never panic; a result must be
//! consistent with the value it came from.
#![no_main]

use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::test::TestRequest;
use latchkey::http::extractors::{bearer_token, BasicCredentials};
use latchkey_fuzz::parts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let values: Vec<HeaderValue> = parts(data)
        .take(2)
        .filter_map(|part| HeaderValue::from_bytes(part).ok())
        .collect();
    let mut request = TestRequest::default();
    for value in &values {
        request = request.append_header((AUTHORIZATION, value.clone()));
    }
    let request = request.to_http_request();
    if let Ok(token) = bearer_token(&request) {
        assert_eq!(values.len(), 1, "a token out of two Authorization headers");
        assert!(!token.is_empty() && token.trim() == token);
        let value = values[0].to_str().expect("a bearer token came from text");
        assert!(value.contains(token));
    }
    for value in &values {
        let Ok(text) = value.to_str() else { continue };
        if let Some(credentials) = BasicCredentials::parse(text) {
            // Both parts are slices of one buffer; reading them must not panic.
            let _ = (credentials.client_id().len(), credentials.client_secret().len());
        }
    }
    // The request's credentials are its first header's.
    let first = values
        .first()
        .and_then(|value| value.to_str().ok())
        .and_then(BasicCredentials::parse);
    assert_eq!(
        BasicCredentials::from_request(&request).is_some(),
        first.is_some()
    );
});
