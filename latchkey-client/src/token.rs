//! A bearer token as the client's caches know it: its signed part, and a
//! keyed hash of its signature.
//!
//! The caches never hold a token. The verified cache keeps the signed part
//! (header and claims), which is no credential without the signature, and
//! the key, which does not give the signature back.
//!
//! Hashing the 86-character signature, rather than a SHA-256 of the whole
//! token, took most of the offline policy's cost off a request (callgrind:
//! `benches/datasets-instructions`). A hit needs the signed part to match
//! byte for byte, so a token's claims are always its own; its signature is
//! matched by this key. Finding another signature with the same key means a
//! 2^128 search against a secret SipHash key drawn from the system's random
//! source when the `Latchkey` is built. The live and membership caches also
//! compare the token's id.
//!
//! A token is kept as the bytes sent: on a cache hit they equal a token that
//! was verified (signed part byte for byte, signature by its key), so they
//! are read as text only when it must be parsed or sent on.

use std::hash::{BuildHasher, Hash, Hasher};

use ring::rand::{SecureRandom, SystemRandom};
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::rejection::Rejection;

/// The characters of an Ed25519 signature in base64url without padding.
const SIGNATURE_CHARS: usize = 86;

/// What the caches know a token by.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenKey(u128);

impl TokenKey {
    /// 64 of its bits, for picking a bucket or slot.
    pub fn bits(self) -> u64 {
        self.0 as u64
    }
}

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a secret-keyed hash: half of it is as good a bucket as any.
        state.write_u64(self.bits());
    }
}

/// The caches' `BuildHasher`: a `TokenKey` needs no hashing again (moka's
/// default, SipHash-1-3 over it, cost more than the rest of a lookup).
#[derive(Clone, Copy, Default)]
pub(crate) struct TokenKeyHasher;

impl BuildHasher for TokenKeyHasher {
    type Hasher = KeyBits;

    fn build_hasher(&self) -> KeyBits {
        KeyBits(0)
    }
}

/// The `Hasher` of [`TokenKeyHasher`]: the 64 bits `TokenKey` writes.
pub(crate) struct KeyBits(u64);

impl Hasher for KeyBits {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, bits: u64) {
        self.0 ^= bits;
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `TokenKey` is hashed here, through `write_u64`; anything else
        // is still folded in, not dropped.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
}

/// Makes `TokenKey`s with one secret SipHash key.
pub(crate) struct TokenKeys {
    k0: u64,
    k1: u64,
}

impl TokenKeys {
    /// Fails only if the system's random source does.
    pub fn new() -> Result<Self, ring::error::Unspecified> {
        let mut secret = [0u8; 16];
        SystemRandom::new().fill(&mut secret)?;
        let secret = u128::from_le_bytes(secret);
        Ok(TokenKeys {
            k0: secret as u64,
            k1: (secret >> 64) as u64,
        })
    }

    /// Splits `token` once and keys it by its signature.
    pub fn token<'a>(&self, token: &'a [u8]) -> Token<'a> {
        let (signed, signature) = split_signature(token);
        let mut hasher = SipHasher13::new_with_keys(self.k0, self.k1);
        hasher.write(signature);
        Token {
            bytes: token,
            signed,
            key: TokenKey(hasher.finish128().as_u128()),
        }
    }
}

/// A token, split and keyed; not yet verified.
pub(crate) struct Token<'a> {
    bytes: &'a [u8],
    signed: &'a [u8],
    key: TokenKey,
}

impl<'a> Token<'a> {
    pub fn key(&self) -> TokenKey {
        self.key
    }

    /// The header and payload: what the signature signs.
    pub fn signed(&self) -> &'a [u8] {
        self.signed
    }

    /// The token as text, to parse or send on; not UTF-8 is not a token.
    pub fn text(&self) -> Result<&'a str, Rejection> {
        std::str::from_utf8(self.bytes).map_err(|_| Rejection::InvalidToken)
    }
}

/// The signed part and the signature of a compact JWS. latchkey's
/// signatures are 86 characters, so the dot is looked for there first;
/// otherwise after the last dot (such a token never verifies), and a token
/// with no dot is all signature.
fn split_signature(token: &[u8]) -> (&[u8], &[u8]) {
    let dot = match token.len().checked_sub(SIGNATURE_CHARS + 1) {
        Some(at) if token[at] == b'.' => Some(at),
        _ => token.iter().rposition(|&b| b == b'.'),
    };
    match dot {
        Some(at) => (&token[..at], &token[at + 1..]),
        None => (b"", token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_known_by_its_signature_and_checked_by_its_signed_part() {
        let keys = TokenKeys::new().unwrap();
        let key = |token: &str| keys.token(token.as_bytes()).key();
        assert!(key("h.p.sig") == key("other.claims.sig"));
        assert!(key("h.p.sig") != key("h.p.sig2"));
        assert_eq!(keys.token(b"h.p.sig").signed(), b"h.p");
        assert_eq!(split_signature(b"h.p.sig"), (&b"h.p"[..], &b"sig"[..]));
        assert_eq!(split_signature(b"nodots"), (&b""[..], &b"nodots"[..]));
    }

    #[test]
    fn an_86_character_signature_is_split_where_rsplit_would() {
        let signature = "s".repeat(SIGNATURE_CHARS);
        let token = format!("header.payload.{signature}");
        let (signed, found) = split_signature(token.as_bytes());
        assert_eq!(
            (signed, found),
            (&b"header.payload"[..], signature.as_bytes())
        );
        // One character short: the last dot still splits it.
        let short = &token[..token.len() - 1];
        assert_eq!(split_signature(short.as_bytes()).0, b"header.payload");
    }

    #[test]
    fn each_handle_draws_its_own_secret() {
        let token = b"h.p.signature";
        assert!(
            TokenKeys::new().unwrap().token(token).key()
                != TokenKeys::new().unwrap().token(token).key()
        );
    }

    #[test]
    fn the_cache_hasher_keeps_a_keys_bits() {
        let bits = |key: TokenKey| TokenKeyHasher.hash_one(key);
        assert_eq!(bits(TokenKey(5 | 7 << 64)), 5);
        assert_ne!(bits(TokenKey(1)), bits(TokenKey(2)));
    }

    #[test]
    fn text_is_refused_when_not_utf8() {
        let keys = TokenKeys::new().unwrap();
        assert!(keys.token(b"a.b.c").text().is_ok());
        assert_eq!(keys.token(b"a.\xff.c").text(), Err(Rejection::InvalidToken));
    }
}
