use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The two kinds of token. The product calls the long-lived one an API key;
/// on the wire (the `kind` claim, introspection, forward-auth headers) it
/// stays `private`, as the contract says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A login token: minutes long, refreshed with a refresh token.
    ShortLived,
    /// An API key of one company, valid until its fixed expiry.
    #[serde(rename = "private")]
    ApiKey,
}

impl TokenKind {
    /// The JOSE `typ` header: distinct per kind so neither passes for the other.
    pub fn typ(self) -> &'static str {
        match self {
            TokenKind::ShortLived => "at+jwt",
            TokenKind::ApiKey => "apikey+jwt",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::ShortLived => "short_lived",
            TokenKind::ApiKey => "private",
        }
    }
}

/// Exactly the claims of the contract; `company_id` only on API keys, and
/// `scope` only on an API key created with scopes.
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
    /// Space-separated (RFC 8693 §4.2); absent means the creator's full rights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl Claims {
    /// `exp` as a time. One beyond chrono's range reads as the end of that
    /// range: a revocation of such a token is then kept, never dropped early.
    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.exp, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Whether the token holds `scope`: an API key created without scopes,
    /// and any login token, hold every scope (the creator's full rights).
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scope
            .as_deref()
            .is_none_or(|granted| granted.split(' ').any(|s| s == scope))
    }

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
