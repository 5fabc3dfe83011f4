//! `Latchkey`: one handle per service, cheap to clone, that checks a request's
//! bearer token by the route's policy, then its company path and scope.

use std::fmt;
use std::sync::Arc;
#[cfg(feature = "live")]
use std::time::Duration;

use crate::builder::LatchkeyBuilder;
use crate::caller::{Caller, TokenKind};
#[cfg(feature = "live")]
use crate::live::Introspector;
use crate::memberships::Memberships;
use crate::offline::{OfflineVerifier, TokenKey, TokenKeys};
use crate::path::CompanyPath;
use crate::rejection::Rejection;

/// How a route checks tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Signature and claims against the cached JWKS; no round trip. A deleted
    /// API key keeps working here until it expires.
    Offline,
    /// Offline first, then introspection, its answer reused for at most the
    /// `introspection_ttl` (a few seconds): a deleted key is refused within it.
    #[cfg(feature = "live")]
    Live,
    /// Offline, with a live confirmation of each token at most this often.
    #[cfg(feature = "live")]
    Confirmed(Duration),
}

/// A handle on one latchkey: share it (it is an `Arc`) across workers.
#[derive(Clone)]
pub struct Latchkey {
    inner: Arc<Inner>,
}

/// Everything a `Latchkey` shares; built by `LatchkeyBuilder::build`.
pub(crate) struct Inner {
    pub token_keys: TokenKeys,
    pub offline: OfflineVerifier,
    pub memberships: Memberships,
    #[cfg(feature = "live")]
    pub live: Option<Introspector>,
    #[cfg(feature = "live")]
    pub introspection_ttl: Duration,
    pub default_policy: Policy,
}

impl fmt::Debug for Latchkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latchkey")
            .field("default_policy", &self.inner.default_policy)
            .finish_non_exhaustive()
    }
}

impl Latchkey {
    /// Starts configuring a handle on the latchkey at `base_url`
    /// (e.g. `http://latchkey:8080`).
    pub fn builder(base_url: impl Into<String>) -> LatchkeyBuilder {
        LatchkeyBuilder::new(base_url.into())
    }

    pub(crate) fn new(inner: Inner) -> Latchkey {
        Latchkey {
            inner: Arc::new(inner),
        }
    }

    /// The policy of the bare [`Caller`] extractor, for routes without
    /// [`Latchkey::protect`].
    pub fn default_policy(&self) -> Policy {
        self.inner.default_policy
    }

    /// Fetches the JWKS now, rather than on the first request.
    pub async fn fetch_keys(&self) -> Result<(), Rejection> {
        self.inner.offline.jwks().fetch_now().await.map_err(|e| {
            tracing::warn!(error = %e, "cannot fetch latchkey's JWKS");
            Rejection::Unavailable
        })
    }

    /// Checks a bearer token by `policy`.
    ///
    /// ```no_run
    /// # async fn run(token: &str) -> Result<(), latchkey_client::Rejection> {
    /// use latchkey_client::{Latchkey, Policy};
    ///
    /// let latchkey = Latchkey::builder("http://127.0.0.1:8080").build().unwrap();
    /// let caller = latchkey.verify(token, Policy::Offline).await?;
    /// println!("{} of company {:?}", caller.subject, caller.company_id);
    /// # Ok(()) }
    /// ```
    pub async fn verify(&self, token: &str, policy: Policy) -> Result<Caller, Rejection> {
        self.verify_token(token, policy)
            .await
            .map(|(caller, _)| caller)
    }

    async fn verify_token(
        &self,
        token: &str,
        policy: Policy,
    ) -> Result<(Caller, TokenKey), Rejection> {
        if token.is_empty() || token.len() > crate::jws::MAX_TOKEN_BYTES {
            return Err(Rejection::InvalidToken);
        }
        let key = self.inner.token_keys.key(token);
        let verified = self.inner.offline.verify(token, key).await?;
        let caller = verified.caller.clone();
        #[cfg(feature = "live")]
        if let Some(max_age) = self.live_max_age(policy) {
            let Some(live) = &self.inner.live else {
                tracing::error!(
                    "a live policy needs client credentials: LatchkeyBuilder::client_credentials"
                );
                return Err(Rejection::Unavailable);
            };
            live.confirm(token, key, &caller, max_age).await?;
        }
        #[cfg(not(feature = "live"))]
        let Policy::Offline = policy;
        Ok((caller, key))
    }

    /// Checks a whole request: its `Authorization` header (as bytes; `None`
    /// when absent) by `policy`, then the company path rule on its target
    /// (path and query as sent), then `scope` if the route needs one. For any
    /// framework; [`Latchkey::protect`] does this for actix-web.
    pub async fn check_request(
        &self,
        authorization: Option<&[u8]>,
        target: &str,
        policy: Policy,
        scope: Option<&str>,
    ) -> Result<Caller, Rejection> {
        let authorization = authorization.ok_or(Rejection::NotAuthenticated)?;
        let token = bearer_token(authorization).ok_or(Rejection::InvalidToken)?;
        let (caller, key) = self.verify_token(token, policy).await?;
        let path = CompanyPath::parse(target).map_err(|reason| {
            tracing::debug!(%reason, "ambiguous path refused");
            Rejection::AMBIGUOUS_PATH
        })?;
        let reachable = match caller.kind {
            TokenKind::ApiKey => path.all_reachable(|company| caller.may_reach(company)),
            // A login token names no company: ask which its user belongs to,
            // unless no company could pass anyway.
            TokenKind::ShortLived if path.companies().is_empty() => true,
            TokenKind::ShortLived if !path.all_reachable(|_| true) => false,
            TokenKind::ShortLived => {
                let companies = self
                    .inner
                    .memberships
                    .companies(token, key, &caller)
                    .await?;
                path.all_reachable(|company| companies.contains(&company))
            }
        };
        if !reachable {
            return Err(Rejection::OTHER_COMPANY);
        }
        if let Some(scope) = scope {
            caller.require_scope(scope)?;
        }
        Ok(caller)
    }

    /// Panics, at set-up, on a policy this handle cannot honour.
    #[cfg(feature = "actix")]
    pub(crate) fn assert_supports(&self, policy: Policy) {
        #[cfg(feature = "live")]
        assert!(
            self.live_max_age(policy).is_none() || self.inner.live.is_some(),
            "latchkey-client: {policy:?} needs LatchkeyBuilder::client_credentials"
        );
        #[cfg(not(feature = "live"))]
        let Policy::Offline = policy;
    }

    #[cfg(feature = "live")]
    fn live_max_age(&self, policy: Policy) -> Option<Duration> {
        match policy {
            Policy::Offline => None,
            Policy::Live => Some(self.inner.introspection_ttl),
            Policy::Confirmed(every) => Some(every),
        }
    }
}

/// The token of an `Authorization: Bearer …` header, as latchkey reads it.
fn bearer_token(header: &[u8]) -> Option<&str> {
    // Every byte a tab or printable ASCII. A fold without early exit, and
    // `&`/`|` rather than `&&`/`||`, so the compiler checks 32 bytes at a
    // time: a token is hundreds of bytes, and this runs on every request.
    let printable = header.iter().fold(true, |ok, &b| {
        ok & ((b == b'\t') | (0x20..0x7f).contains(&b))
    });
    if !printable {
        return None;
    }
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_tokens_are_read_as_latchkey_reads_them() {
        assert_eq!(bearer_token(b"Bearer abc"), Some("abc"));
        assert_eq!(bearer_token(b"bearer  abc "), Some("abc"));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bearer "), None);
        assert_eq!(bearer_token(b"Bearer"), None);
        assert_eq!(bearer_token(b"Bearer a\xffb"), None);
    }
}
