//! The server's token verifier (header, `kid`, signature, claims, lifetime)
//! with arbitrary bytes as the token: it must refuse, never panic.
#![no_main]

use latchkey_fuzz::VERIFIER;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A header value reaches the verifier only as a `&str`.
    if let Ok(token) = std::str::from_utf8(data) {
        if let Ok(claims) = VERIFIER.verify(token) {
            // Only a token the fixed key signed can pass, and the fuzzer
            // cannot sign: a pass means the checks let a forgery through.
            panic!("a token was accepted: {claims:?}");
        }
    }
});
