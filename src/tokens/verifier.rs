//! Signature and claim checks. Revocation is checked apart, against memory.

use std::sync::Arc;

use jsonwebtoken::{Algorithm, Validation};

use super::{Claims, KeyRing, TokenKind};

/// Longer than any token we issue; anything bigger is junk and is not parsed.
const MAX_TOKEN_BYTES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token")]
    Malformed,
    #[error("forbidden header")]
    ForbiddenHeader,
    #[error("unknown signing key")]
    UnknownKey,
    #[error("bad signature or claims")]
    Rejected,
    #[error("token type does not match its kind")]
    KindMismatch,
}

pub struct TokenVerifier {
    keys: Arc<KeyRing>,
    validation: Validation,
}

impl TokenVerifier {
    pub fn new(keys: Arc<KeyRing>, issuer: &str, audience: &str, leeway_seconds: u64) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["iss", "aud", "exp", "nbf", "sub", "iat", "jti"]);
        TokenVerifier { keys, validation }
    }

    /// Checks header, signature and claims. Only EdDSA, only our own keys (by `kid`,
    /// in memory), no key or certificate named by the token itself.
    pub fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| VerifyError::Malformed)?;
        if header.alg != Algorithm::EdDSA
            || header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(VerifyError::ForbiddenHeader);
        }
        let kind = match header.typ.as_deref() {
            Some(t) if t == TokenKind::ShortLived.typ() => TokenKind::ShortLived,
            Some(t) if t == TokenKind::Private.typ() => TokenKind::Private,
            _ => return Err(VerifyError::ForbiddenHeader),
        };
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let keys = self.keys.current();
        let key = keys.decoding_key(&kid).ok_or(VerifyError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|_| VerifyError::Rejected)?
            .claims;
        let kind_matches = claims.kind == kind
            && match kind {
                TokenKind::ShortLived => claims.company_id.is_none(),
                TokenKind::Private => claims.company_id.is_some(),
            };
        if !kind_matches {
            return Err(VerifyError::KindMismatch);
        }
        Ok(claims)
    }
}
