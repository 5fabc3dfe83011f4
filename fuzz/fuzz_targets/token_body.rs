//! The body of introspection (RFC 7662) and revocation (RFC 7009): the
//! `token` taken from a form or JSON body. Must never panic; the token it
//! returns is trimmed.
#![no_main]

use actix_web::http::header::CONTENT_TYPE;
use actix_web::test::TestRequest;
use latchkey::http::token_form::token_from_body;
use latchkey_fuzz::{assert_signed_by_the_fixed_key, VERIFIER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the content type; the rest is the body.
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = match selector % 4 {
        0 => None,
        1 => Some("application/x-www-form-urlencoded"),
        2 => Some("application/json"),
        _ => Some(" APPLICATION/JSON; charset=utf-8"),
    };
    let mut request = TestRequest::post();
    if let Some(content_type) = content_type {
        request = request.insert_header((CONTENT_TYPE, content_type));
    }
    let request = request.to_http_request();
    if let Ok(token) = token_from_body(&request, body) {
        assert_eq!(token.trim(), &*token);
        // Then, as introspection does, the verifier judges it.
        if VERIFIER.verify(&token).is_ok() {
            assert_signed_by_the_fixed_key(&token);
        }
    }
});
