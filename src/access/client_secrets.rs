//! The service clients that may call introspection, by the SHA-256 of their
//! secret, compared in constant time.

use std::collections::HashMap;

#[derive(Default)]
pub(super) struct ClientSecrets(HashMap<String, [u8; 32]>);

impl ClientSecrets {
    /// From (client_id, lower-case hex SHA-256 of the secret) pairs; a
    /// malformed hash is skipped, so that client can never match.
    pub(super) fn new(clients: Vec<(String, String)>) -> Self {
        ClientSecrets(
            clients
                .into_iter()
                .filter_map(|(id, hex)| Some((id, decode_hex32(&hex)?)))
                .collect(),
        )
    }

    pub(super) fn matches(&self, client_id: &str, secret: &str) -> bool {
        let presented = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
        match self.0.get(client_id) {
            Some(stored) => constant_time_eq(stored, presented.as_ref()),
            None => false,
        }
    }
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if hex.len() != 64 {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// Hand-written because `subtle` is BSD-licensed and ring's is deprecated.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::ClientSecrets;
    use crate::tokens::sha256_hex;

    #[test]
    fn only_the_right_secret_of_a_known_client_matches() {
        let clients = ClientSecrets::new(vec![
            ("billing".to_owned(), sha256_hex("s3cret")),
            ("broken".to_owned(), "not hex".to_owned()),
        ]);
        assert!(clients.matches("billing", "s3cret"));
        assert!(!clients.matches("billing", "s3cret "));
        assert!(!clients.matches("billing", ""));
        assert!(!clients.matches("unknown", "s3cret"));
        assert!(!clients.matches("broken", "not hex"));
    }
}
