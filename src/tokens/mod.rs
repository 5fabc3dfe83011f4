//! Token formats, signing keys, issuing and verification.

mod claims;
pub mod crypto_provider;
mod issuer;
mod key_ring;
mod master_key;
mod opaque;
mod page_mac;
mod verifier;

pub use claims::{Claims, TokenKind};
pub use issuer::{IssuedToken, TokenIssuer};
pub use key_ring::{signer_among, KeyRing, KeyTiming};
pub use master_key::MasterKey;
pub use opaque::{random_secret, sha256_hex, token_digest};
pub use page_mac::PageMac;
pub use verifier::{KeyVouch, TokenVerifier, VerifierSettings, VerifyError};
