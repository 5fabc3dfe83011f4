//! HMAC tags that bind a value to a browser session: the CSRF token of each
//! form, and the id a create form reserves for its key. The key is derived
//! from the master key, so every replica makes and accepts the same tags,
//! and nobody without it can make one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;

use super::MasterKey;

#[derive(Clone)]
pub struct PageMac(hmac::Key);

impl PageMac {
    pub fn new(master: &MasterKey) -> Self {
        PageMac(master.derive_hmac_key("latchkey page forms v1"))
    }

    /// The tag of `parts`, base64url. Each part is length-prefixed, so no two
    /// different lists of parts are signed alike.
    pub fn tag(&self, parts: &[&[u8]]) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, &encode(parts)))
    }

    /// Whether `tag` is the tag of `parts`, compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], tag: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(tag)
            .is_ok_and(|tag| hmac::verify(&self.0, &encode(parts), &tag).is_ok())
    }
}

fn encode(parts: &[&[u8]]) -> Vec<u8> {
    let mut message = Vec::new();
    for part in parts {
        message.extend_from_slice(&(part.len() as u64).to_be_bytes());
        message.extend_from_slice(part);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac() -> PageMac {
        let key = MasterKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
        PageMac::new(&key)
    }

    #[test]
    fn tags_bind_every_part_and_their_boundaries() {
        let mac = mac();
        let tag = mac.tag(&[b"session", b"abc", b"user"]);
        assert!(mac.verify(&[b"session", b"abc", b"user"], &tag));
        assert!(!mac.verify(&[b"session", b"abc", b"other"], &tag));
        assert!(!mac.verify(&[b"session", b"ab", b"cuser"], &tag));
        assert!(!mac.verify(&[b"login", b"abc", b"user"], &tag));
        assert!(!mac.verify(&[b"session", b"abc", b"user"], "not base64!"));
        assert!(!mac.verify(&[b"session", b"abc", b"user"], ""));
    }

    #[test]
    fn another_master_key_makes_other_tags() {
        let other = MasterKey::from_base64("HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=").unwrap();
        let tag = mac().tag(&[b"x"]);
        assert!(!PageMac::new(&other).verify(&[b"x"], &tag));
    }
}
