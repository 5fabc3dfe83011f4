//! Which company a token may reach. The rule "an API key reaches only its
//! own company" is `api_key_allows`, used by forward auth, `/me` and the
//! API-key routes alike.

use std::sync::Arc;

use latchkey_client::path::CompanyPath;
use uuid::Uuid;

use super::authenticate::TokenAuthenticator;
use crate::access::AccessState;
use crate::domain::{is_scope_token, Role};
use crate::error::ApiError;
use crate::monitoring::Outcomes;
use crate::store::Store;
use crate::tokens::{Claims, TokenKind};

/// An API key speaks for its own company only; a login token is not
/// confined by this rule (its user's memberships decide).
pub fn api_key_allows(claims: &Claims, company_id: Uuid) -> bool {
    claims.company_id.is_none_or(|own| own == company_id)
}

/// The caller's role in a company, read from the database, for routes that
/// act on the company. A company the caller cannot reach is not found,
/// exactly like one that does not exist.
pub async fn role_in_company(
    store: &Store,
    caller: &Claims,
    company_id: Uuid,
) -> Result<Role, ApiError> {
    if !api_key_allows(caller, company_id) {
        return Err(ApiError::NotFound);
    }
    // A key with scopes holds what they name, and none of them is managing
    // API keys: only an unscoped key acts with its creator's role here.
    if caller.kind == TokenKind::ApiKey && caller.scope.is_some() {
        return Err(ApiError::PermissionDenied(
            "A key with scopes cannot manage API keys.",
        ));
    }
    store
        .role_in_company(caller.sub, company_id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Forward auth for gateways: a valid token, and every company its original
/// path names within its reach. Memory only.
#[derive(Clone)]
pub struct ForwardAuth {
    authenticator: TokenAuthenticator,
    access: Arc<AccessState>,
    outcomes: Outcomes,
}

impl ForwardAuth {
    pub fn new(
        authenticator: TokenAuthenticator,
        access: Arc<AccessState>,
        outcomes: Outcomes,
    ) -> Self {
        ForwardAuth {
            authenticator,
            access,
            outcomes,
        }
    }

    /// Checks the token, then each original URI as the bytes that were
    /// sent (an ambiguous one is refused outright, see
    /// `latchkey_client::path`), then every scope the gateway requires.
    pub fn authorize<'a>(
        &self,
        token: &str,
        original_uris: impl IntoIterator<Item = &'a [u8]>,
        required_scopes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Arc<Claims>, ApiError> {
        let outcome = self.check(token, original_uris, required_scopes);
        let counter = match &outcome {
            Ok(_) => &self.outcomes.active,
            Err(ApiError::PermissionDenied(_) | ApiError::InsufficientScope { .. }) => {
                &self.outcomes.denied
            }
            Err(ApiError::ServiceUnavailable(_)) => &self.outcomes.stale,
            Err(_) => &self.outcomes.inactive,
        };
        counter.increment(1);
        outcome
    }

    fn check<'a>(
        &self,
        token: &str,
        original_uris: impl IntoIterator<Item = &'a [u8]>,
        required_scopes: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Arc<Claims>, ApiError> {
        let claims = self.authenticator.authenticate(token)?;
        judge_original_request(&claims, original_uris, required_scopes, |company| {
            self.may_reach(&claims, company)
        })?;
        Ok(claims)
    }

    /// An API key reaches its own company (its membership was checked with
    /// the token); a login token, its user's companies.
    fn may_reach(&self, claims: &Claims, company_id: Uuid) -> bool {
        api_key_allows(claims, company_id)
            && (claims.kind == TokenKind::ApiKey
                || self.access.role_in(claims.sub, company_id).is_some())
    }
}

/// The gateway's part of forward auth, once the token is known good: each
/// original URI as the bytes that were sent (an ambiguous one is refused
/// outright), each company it names within `may_reach`, then every scope
/// the gateway requires. Pure: the fuzz target `forward_auth` drives it.
pub fn judge_original_request<'a>(
    claims: &Claims,
    original_uris: impl IntoIterator<Item = &'a [u8]>,
    required_scopes: impl IntoIterator<Item = &'a [u8]>,
    mut may_reach: impl FnMut(Uuid) -> bool,
) -> Result<(), ApiError> {
    for original in original_uris {
        let path = CompanyPath::parse_original_uri(original).map_err(|reason| {
            tracing::debug!(%reason, "ambiguous original URI refused");
            ApiError::PermissionDenied("The original path is ambiguous.")
        })?;
        if !path.all_reachable(&mut may_reach) {
            return Err(ApiError::PermissionDenied(
                "This token may not reach that company.",
            ));
        }
    }
    for required in required_scopes {
        require_scopes(claims, required)?;
    }
    Ok(())
}

/// A gateway's `X-Auth-Required-Scopes` value: space-separated scopes, each
/// of which the token must hold. A value that is not a list of scopes is a
/// gateway misconfiguration and refuses every token, never none.
fn require_scopes(claims: &Claims, required: &[u8]) -> Result<(), ApiError> {
    let malformed = || ApiError::PermissionDenied("The gateway's required scope is malformed.");
    let required = std::str::from_utf8(required).map_err(|_| malformed())?;
    let mut scopes = required.split(' ').filter(|s| !s.is_empty()).peekable();
    if scopes.peek().is_none() {
        return Err(malformed());
    }
    for scope in scopes {
        if !is_scope_token(scope) {
            return Err(malformed());
        }
        if !claims.allows_scope(scope) {
            return Err(ApiError::InsufficientScope {
                scope: scope.to_owned(),
            });
        }
    }
    Ok(())
}
