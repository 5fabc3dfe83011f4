//! Who is calling: what a verified token says, in types.

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use crate::rejection::Rejection;

/// The two kinds of latchkey token. Neither is ever accepted as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A login token: minutes long, no company, no scope.
    ShortLived,
    /// An API key ("private token"): bound to one company, maybe to scopes.
    ApiKey,
}

impl TokenKind {
    /// The JOSE `typ` header latchkey gives this kind.
    pub fn typ(self) -> &'static str {
        match self {
            TokenKind::ShortLived => "at+jwt",
            TokenKind::ApiKey => "apikey+jwt",
        }
    }

    /// The `kind` claim: `short_lived` or `private`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::ShortLived => "short_lived",
            TokenKind::ApiKey => "private",
        }
    }

    /// Reads a `kind` claim.
    pub fn from_claim(kind: &str) -> Option<TokenKind> {
        match kind {
            "short_lived" => Some(TokenKind::ShortLived),
            "private" => Some(TokenKind::ApiKey),
            _ => None,
        }
    }

    /// Reads a `typ` header, exactly as latchkey writes it.
    pub fn from_typ(typ: &str) -> Option<TokenKind> {
        [TokenKind::ShortLived, TokenKind::ApiKey]
            .into_iter()
            .find(|kind| kind.typ() == typ)
    }
}

/// What a token may do. No `scope` claim means unrestricted: the key may do
/// whatever its creator may. Login tokens are always unrestricted.
/// Shared, not copied, when a cached caller is handed to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Option<Arc<[String]>>);

/// A `scope` claim that is empty or holds a character RFC 6749 §3.3 forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidScope;

impl fmt::Display for InvalidScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid scope claim")
    }
}

impl std::error::Error for InvalidScope {}

impl Scopes {
    pub fn unrestricted() -> Scopes {
        Scopes(None)
    }

    /// Reads a space-separated `scope` claim (RFC 9068, RFC 7662). An empty
    /// claim is refused: latchkey leaves the claim out instead.
    ///
    /// ```
    /// use latchkey_client::Scopes;
    ///
    /// let scopes = Scopes::parse("datasets:read datasets:write").unwrap();
    /// assert!(scopes.allows("datasets:write"));
    /// assert!(!scopes.allows("billing:read"));
    /// assert!(Scopes::unrestricted().allows("anything"));
    /// assert!(Scopes::parse("").is_err());
    /// ```
    pub fn parse(claim: &str) -> Result<Scopes, InvalidScope> {
        let scopes: Vec<String> = claim.split(' ').map(str::to_owned).collect();
        let valid = |s: &String| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| matches!(b, 0x21 | 0x23..=0x5b | 0x5d..=0x7e))
        };
        if !scopes.iter().all(valid) {
            return Err(InvalidScope);
        }
        Ok(Scopes(Some(scopes.into())))
    }

    /// Whether a route needing `scope` may be called.
    pub fn allows(&self, scope: &str) -> bool {
        match &self.0 {
            None => true,
            Some(granted) => granted.iter().any(|s| s == scope),
        }
    }

    pub fn is_unrestricted(&self) -> bool {
        self.0.is_none()
    }

    /// The granted scopes; empty when unrestricted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().flat_map(|s| s.iter().map(String::as_str))
    }
}

/// The caller of a request, from a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caller {
    /// The user the token was issued to (`sub`).
    pub subject: Uuid,
    pub kind: TokenKind,
    /// The company of an API key; `None` for a login token.
    pub company_id: Option<Uuid>,
    pub scopes: Scopes,
    /// The token's `jti`: for an API key, the key's id.
    pub token_id: Uuid,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl Caller {
    /// Whether this API key belongs to `company_id`. Always false for a login
    /// token, which carries no company: `Latchkey::check_request` asks
    /// latchkey which companies its user belongs to.
    pub fn may_reach(&self, company_id: Uuid) -> bool {
        self.company_id == Some(company_id)
    }

    /// `Ok` when the caller's scopes allow `scope`, else 403 `insufficient_scope`.
    pub fn require_scope(&self, scope: &str) -> Result<(), Rejection> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(Rejection::InsufficientScope {
                scope: scope.to_owned(),
            })
        }
    }
}
