//! Compact JWS, EdDSA only, verified with ring directly.
//!
//! Not through jsonwebtoken: since version 10 it sends every signature
//! through one process-wide `CryptoProvider`, which the host application may
//! have chosen (or must choose) for its own reasons. A library installing its
//! own would fight the host; relying on the host's would make our checks
//! depend on it. A compact JWS with one algorithm is a few lines of parsing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{UnparsedPublicKey, ED25519};
use serde::de::IgnoredAny;
use serde::Deserialize;
use uuid::Uuid;

use crate::caller::TokenKind;

/// Longer than any token latchkey issues; anything bigger is not parsed.
pub(crate) const MAX_TOKEN_BYTES: usize = 4096;

/// Why a token was refused; the caller only ever learns "invalid".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Invalid {
    Malformed,
    ForbiddenHeader,
    BadSignature,
    Claims,
    KindMismatch,
}

#[derive(Deserialize)]
struct WireHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    // Keys and certificates named by the token itself are never followed.
    jku: Option<IgnoredAny>,
    x5u: Option<IgnoredAny>,
    x5c: Option<IgnoredAny>,
    jwk: Option<IgnoredAny>,
    crit: Option<IgnoredAny>,
}

/// A token split and its header checked; the signature not yet.
pub(crate) struct Compact<'a> {
    pub kind: TokenKind,
    pub kid: String,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    /// Only `EdDSA`, a `typ` naming a latchkey kind, a `kid`, and none of
    /// `jku`, `x5u`, `x5c`, `jwk`, `crit`.
    pub fn parse(token: &'a str) -> Result<Compact<'a>, Invalid> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(Invalid::Malformed);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(Invalid::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(Invalid::Malformed)?;
        if payload.contains('.') {
            return Err(Invalid::Malformed);
        }
        let header: WireHeader = decode_json(header)?;
        if header.alg != "EdDSA"
            || header.jku.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.jwk.is_some()
            || header.crit.is_some()
        {
            return Err(Invalid::ForbiddenHeader);
        }
        let kind = header
            .typ
            .as_deref()
            .and_then(TokenKind::from_typ)
            .ok_or(Invalid::ForbiddenHeader)?;
        let kid = header.kid.ok_or(Invalid::ForbiddenHeader)?;
        Ok(Compact {
            kind,
            kid,
            signing_input,
            payload,
            signature,
        })
    }

    /// Checks the signature with this Ed25519 public key, then reads the claims.
    pub fn verify(&self, public_key: &[u8]) -> Result<WireClaims, Invalid> {
        let signature = URL_SAFE_NO_PAD
            .decode(self.signature)
            .map_err(|_| Invalid::Malformed)?;
        UnparsedPublicKey::new(&ED25519, public_key)
            .verify(self.signing_input.as_bytes(), &signature)
            .map_err(|_| Invalid::BadSignature)?;
        let claims: WireClaims = decode_json(self.payload).map_err(|_| Invalid::Claims)?;
        let kind = TokenKind::from_claim(&claims.kind).ok_or(Invalid::Claims)?;
        let matches = kind == self.kind
            && match kind {
                TokenKind::ShortLived => claims.company_id.is_none() && claims.scope.is_none(),
                TokenKind::ApiKey => claims.company_id.is_some(),
            };
        if !matches {
            return Err(Invalid::KindMismatch);
        }
        Ok(claims)
    }
}

/// The claims latchkey signs. All but `company_id` and `scope` are required.
#[derive(Debug, Deserialize)]
pub(crate) struct WireClaims {
    pub iss: String,
    pub sub: Uuid,
    pub aud: String,
    #[allow(dead_code)] // required, as latchkey requires it, but never read
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    pub kind: String,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub scope: Option<String>,
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, Invalid> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Invalid::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Invalid::Malformed)
}

#[cfg(test)]
pub(crate) mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ring::rand::SystemRandom;
    use ring::signature::{Ed25519KeyPair, KeyPair};
    use serde_json::{json, Value};

    use super::{Compact, Invalid};
    use crate::caller::TokenKind;

    pub fn key_pair() -> Ed25519KeyPair {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    pub fn sign(key: &Ed25519KeyPair, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()));
        format!("{input}.{signature}")
    }

    pub fn api_key_claims() -> Value {
        json!({
            "iss": "http://latchkey", "aud": "latchkey", "sub": uuid::Uuid::nil(),
            "iat": 1, "nbf": 1, "exp": 2, "jti": uuid::Uuid::nil(), "kind": "private",
            "company_id": uuid::Uuid::nil(),
        })
    }

    fn api_key_header() -> Value {
        json!({"alg": "EdDSA", "typ": "apikey+jwt", "kid": "k1"})
    }

    #[test]
    fn a_well_formed_token_verifies_with_its_key_only() {
        let key = key_pair();
        let token = sign(&key, &api_key_header(), &api_key_claims());
        let compact = Compact::parse(&token).unwrap();
        assert_eq!(
            (compact.kind, compact.kid.as_str()),
            (TokenKind::ApiKey, "k1")
        );
        assert!(compact.verify(key.public_key().as_ref()).is_ok());
        let other = key_pair();
        assert_eq!(
            compact.verify(other.public_key().as_ref()).unwrap_err(),
            Invalid::BadSignature
        );
    }

    #[test]
    fn headers_latchkey_never_writes_are_refused() {
        let key = key_pair();
        let mut headers = Vec::new();
        for forbidden in ["jku", "x5u", "x5c", "jwk", "crit"] {
            let mut header = api_key_header();
            header[forbidden] = json!("x");
            headers.push(header);
        }
        for (field, value) in [
            ("alg", json!("none")),
            ("alg", json!("HS256")),
            ("alg", json!("ES256")),
            ("typ", json!("JWT")),
            ("typ", json!("AT+JWT")),
            ("typ", Value::Null),
            ("kid", Value::Null),
        ] {
            let mut header = api_key_header();
            header[field] = value;
            headers.push(header);
        }
        for header in headers {
            let token = sign(&key, &header, &api_key_claims());
            assert_eq!(
                Compact::parse(&token).err(),
                Some(Invalid::ForbiddenHeader),
                "{header}"
            );
        }
    }

    #[test]
    fn the_kind_claim_must_match_typ_and_company() {
        let key = key_pair();
        let public = key.public_key().as_ref().to_vec();
        let login_header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "k1"});
        let mut login = api_key_claims();
        login["kind"] = json!("short_lived");
        login.as_object_mut().unwrap().remove("company_id");
        assert!(Compact::parse(&sign(&key, &login_header, &login))
            .unwrap()
            .verify(&public)
            .is_ok());
        let mismatched = [
            (api_key_header(), login.clone()),
            (login_header.clone(), api_key_claims()),
            (login_header.clone(), {
                let mut c = login.clone();
                c["scope"] = json!("datasets:read");
                c
            }),
            (api_key_header(), {
                let mut c = api_key_claims();
                c.as_object_mut().unwrap().remove("company_id");
                c
            }),
        ];
        for (header, claims) in mismatched {
            let token = sign(&key, &header, &claims);
            assert_eq!(
                Compact::parse(&token).unwrap().verify(&public).unwrap_err(),
                Invalid::KindMismatch,
                "{header} {claims}"
            );
        }
    }

    #[test]
    fn missing_or_mistyped_claims_are_refused() {
        let key = key_pair();
        let public = key.public_key().as_ref().to_vec();
        for claim in ["iss", "sub", "aud", "iat", "nbf", "exp", "jti", "kind"] {
            let mut claims = api_key_claims();
            claims.as_object_mut().unwrap().remove(claim);
            let token = sign(&key, &api_key_header(), &claims);
            assert_eq!(
                Compact::parse(&token).unwrap().verify(&public).unwrap_err(),
                Invalid::Claims,
                "without {claim}"
            );
        }
        for (claim, value) in [
            ("aud", json!(["latchkey"])),
            ("exp", json!(2.5)),
            ("sub", json!("not-a-uuid")),
            ("kind", json!("admin")),
        ] {
            let mut claims = api_key_claims();
            claims[claim] = value;
            let token = sign(&key, &api_key_header(), &claims);
            assert_eq!(
                Compact::parse(&token).unwrap().verify(&public).unwrap_err(),
                Invalid::Claims,
                "{claims}"
            );
        }
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_key_is_needed() {
        let key = key_pair();
        let token = sign(&key, &api_key_header(), &api_key_claims());
        let padded = {
            let (head, rest) = token.split_once('.').unwrap();
            format!("{head}=.{rest}")
        };
        for bad in [
            String::new(),
            "a.b".to_owned(),
            format!("{token}.x"),
            padded,
            "x".repeat(super::MAX_TOKEN_BYTES + 1),
        ] {
            assert!(Compact::parse(&bad).is_err(), "{bad:.40}");
        }
    }
}
