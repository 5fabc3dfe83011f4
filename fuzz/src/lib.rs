//! What the fuzz targets share: a verifier keyed with a fixed key ring, the
//! issuer of that ring (for seeds), and a way to cut one input in parts.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use latchkey::clock::Clock;
use latchkey::monitoring::{CacheCounters, PathCounters};
use latchkey::tokens::{
    crypto_provider, KeyRing, MasterKey, TokenIssuer, TokenVerifier, VerifierSettings,
};

pub const ISSUER: &str = "http://127.0.0.1:8080";
pub const AUDIENCE: &str = "latchkey";
/// The fixed signing key's id, as the seed tokens carry it.
pub const KID: &str = "0193a1b2c3d47000800000000000f022";

/// An Ed25519 PKCS#8 (v1) document for a fixed seed: never a real key.
fn fixed_pkcs8() -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[7u8; 32]);
    der
}

pub static KEYS: LazyLock<Arc<KeyRing>> = LazyLock::new(|| {
    crypto_provider::install();
    let master = MasterKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .expect("a 32-byte master key");
    Arc::new(KeyRing::in_memory(master, KID, &fixed_pkcs8()).expect("the fixed key"))
});

/// The server's verifier over the fixed key ring. Its cache is off, so
/// every input is parsed and checked.
pub static VERIFIER: LazyLock<TokenVerifier> = LazyLock::new(|| {
    let counters = CacheCounters {
        hits: metrics::Counter::noop(),
        misses: metrics::Counter::noop(),
    };
    TokenVerifier::new(
        KEYS.clone(),
        Clock::system(),
        VerifierSettings {
            issuer: ISSUER,
            audience: AUDIENCE,
            leeway: chrono::Duration::seconds(30),
            access_ttl: chrono::Duration::seconds(900),
            cache_capacity: 0,
            cache_ttl: Duration::from_secs(1),
            cache_counters: counters,
            max_token_bytes: 4096,
            path_counters: PathCounters {
                digest: metrics::Counter::noop(),
                refused: metrics::Counter::noop(),
                signature: metrics::Counter::noop(),
            },
        },
    )
});

/// Signs tokens with the fixed key: the seed corpus is made with it.
pub fn issuer() -> TokenIssuer {
    TokenIssuer::new(
        KEYS.clone(),
        Clock::system(),
        ISSUER.to_owned(),
        AUDIENCE.to_owned(),
        chrono::Duration::seconds(900),
    )
}

/// `data` cut at each `0xff` byte (which no header value or URI may hold
/// as UTF-8), so that one input carries several values.
pub fn parts(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|b| *b == 0xff)
}

/// What a token the verifier accepted must be: one the fixed key signed,
/// byte for byte, with its signature in canonical base64url. The seed
/// corpus holds such tokens (until they expire); the fuzzer cannot sign,
/// so an accepted token that is not one means a forgery or a malleable
/// encoding got through.
pub fn assert_signed_by_the_fixed_key(token: &str) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

    let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("the signature is base64url");
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&signature_bytes),
        signature,
        "an accepted signature must be canonical base64url"
    );
    let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&fixed_pkcs8()).expect("the fixed key");
    UnparsedPublicKey::new(&ED25519, pair.public_key().as_ref())
        .verify(signing_input.as_bytes(), &signature_bytes)
        .expect("an accepted token is signed by the fixed key over its exact bytes");
}
