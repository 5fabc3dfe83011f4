use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    ShortLived,
    Private,
}

impl TokenKind {
    /// The JOSE `typ` header: distinct per kind so neither passes for the other.
    pub fn typ(self) -> &'static str {
        match self {
            TokenKind::ShortLived => "at+jwt",
            TokenKind::Private => "apikey+jwt",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::ShortLived => "short_lived",
            TokenKind::Private => "private",
        }
    }
}

/// Exactly the claims DESIGN lists; `company_id` only on private tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: Uuid,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    pub kind: TokenKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<Uuid>,
}

impl Claims {
    /// When the token was issued, to the millisecond where its v7 `jti`
    /// tells, so a cut-off made within the same second as a login is exact.
    pub fn issued_at_ms(&self) -> i64 {
        self.jti
            .get_timestamp()
            .map(|ts| {
                let (secs, nanos) = ts.to_unix();
                i64::try_from(secs).unwrap_or(i64::MAX) * 1000 + i64::from(nanos / 1_000_000)
            })
            .filter(|ms| ms / 1000 == self.iat || ms / 1000 + 1 == self.iat)
            .unwrap_or(self.iat * 1000)
    }
}
