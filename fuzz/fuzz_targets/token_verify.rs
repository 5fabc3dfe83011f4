//! The server's token verifier (header, `kid`, signature, claims, lifetime)
//! with arbitrary bytes as the token: never a panic, and nothing accepted
//! but what the fixed key signed (the seed corpus holds such tokens).
#![no_main]

use latchkey_fuzz::{assert_signed_by_the_fixed_key, VERIFIER};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A header value reaches the verifier only as a `&str`.
    if let Ok(token) = std::str::from_utf8(data) {
        if VERIFIER.verify(token).is_ok() {
            assert_signed_by_the_fixed_key(token);
        }
    }
});
