//! `Latchkey`: one handle per service, cheap to clone, that checks a request's
//! bearer token by the route's policy, then its company path and scope.

use std::fmt;
use std::sync::Arc;
#[cfg(feature = "live")]
use std::time::Duration;

use crate::builder::LatchkeyBuilder;
use crate::caller::{Caller, TokenKind};
use crate::halt::{answered, Halt};
#[cfg(feature = "live")]
use crate::live::Introspector;
use crate::memberships::Memberships;
use crate::offline::OfflineVerifier;
use crate::path::for_each_company;
use crate::rejection::Rejection;
use crate::token::{Token, TokenKeys};
use uuid::Uuid;

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
        let token = self.read_token(token.as_bytes())?;
        let verified = self.inner.offline.verify(&token).await?;
        self.confirm(&token, &verified.caller, policy).await?;
        Ok(verified.caller.clone())
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
        let now = self.check_request_now(authorization, target, policy, scope);
        if let Some(caller) = answered(now)? {
            return Ok(caller);
        }
        // The same steps, each waiting for latchkey where it must.
        let token = self.read_bearer(authorization)?;
        let verified = self.inner.offline.verify(&token).await?;
        let caller = &verified.caller;
        self.confirm(&token, caller, policy).await?;
        let reachable = match reach(caller, target)? {
            Reach::Judged(reachable) => reachable,
            Reach::ByMemberships => {
                let companies = self.inner.memberships.companies(&token, caller).await?;
                reaches_all(target, &companies)
            }
        };
        judge(caller, reachable, scope)
    }

    /// [`Latchkey::check_request`] from what is cached, with no await:
    /// `Halt::Wait` when latchkey must be asked first (keys, introspection or
    /// memberships). The usual request, a token seen before, ends here.
    pub(crate) fn check_request_now(
        &self,
        authorization: Option<&[u8]>,
        target: &str,
        policy: Policy,
        scope: Option<&str>,
    ) -> Result<Caller, Halt> {
        let token = self.read_bearer(authorization)?;
        let verified = self.inner.offline.verify_now(&token)?;
        let caller = &verified.caller;
        #[cfg(feature = "live")]
        if let Some(max_age) = self.live_max_age(policy) {
            self.introspector()?
                .confirm_now(token.key(), caller, max_age)?;
        }
        #[cfg(not(feature = "live"))]
        let Policy::Offline = policy;
        let reachable = match reach(caller, target)? {
            Reach::Judged(reachable) => reachable,
            Reach::ByMemberships => {
                let memberships = &self.inner.memberships;
                let companies = memberships.companies_now(token.key(), caller);
                reaches_all(target, &companies.ok_or(Halt::Wait)?)
            }
        };
        Ok(judge(caller, reachable, scope)?)
    }

    /// The bearer token of an `Authorization` header, split and keyed.
    fn read_bearer<'a>(&self, authorization: Option<&'a [u8]>) -> Result<Token<'a>, Rejection> {
        let authorization = authorization.ok_or(Rejection::NotAuthenticated)?;
        self.read_token(bearer_token(authorization).ok_or(Rejection::InvalidToken)?)
    }

    fn read_token<'a>(&self, token: &'a [u8]) -> Result<Token<'a>, Rejection> {
        if token.is_empty() || token.len() > crate::jws::MAX_TOKEN_BYTES {
            return Err(Rejection::InvalidToken);
        }
        Ok(self.inner.token_keys.token(token))
    }

    /// Confirms an offline-verified token with latchkey if `policy` is live.
    async fn confirm(
        &self,
        token: &Token<'_>,
        caller: &Caller,
        policy: Policy,
    ) -> Result<(), Rejection> {
        #[cfg(feature = "live")]
        if let Some(max_age) = self.live_max_age(policy) {
            self.introspector()?.confirm(token, caller, max_age).await?;
        }
        #[cfg(not(feature = "live"))]
        let (Policy::Offline, _, _) = (policy, token, caller);
        Ok(())
    }

    #[cfg(feature = "live")]
    fn introspector(&self) -> Result<&Introspector, Rejection> {
        self.inner.live.as_ref().ok_or_else(|| {
            tracing::error!(
                "a live policy needs client credentials: LatchkeyBuilder::client_credentials"
            );
            Rejection::Unavailable
        })
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

/// Whether a verified caller reaches every company a request target names.
enum Reach {
    Judged(bool),
    /// A login token on a path naming companies: its user's memberships
    /// decide.
    ByMemberships,
}

fn reach(caller: &Caller, target: &str) -> Result<Reach, Rejection> {
    let ambiguous = |reason| {
        tracing::debug!(%reason, "ambiguous path refused");
        Rejection::AMBIGUOUS_PATH
    };
    let (mut named, mut all_ids, mut all_its_own) = (false, true, true);
    for_each_company(target.as_bytes(), |company| {
        named = true;
        all_ids &= company.is_some();
        all_its_own &= company.is_some_and(|company| caller.may_reach(company));
    })
    .map_err(ambiguous)?;
    Ok(match caller.kind {
        TokenKind::ApiKey => Reach::Judged(all_its_own),
        // A login token names no company: its user's memberships are asked
        // for, unless no company could pass anyway.
        TokenKind::ShortLived if !named => Reach::Judged(true),
        TokenKind::ShortLived if !all_ids => Reach::Judged(false),
        TokenKind::ShortLived => Reach::ByMemberships,
    })
}

/// Whether every company `target` names is among `companies` (a target
/// [`reach`] has read already).
fn reaches_all(target: &str, companies: &[Uuid]) -> bool {
    let mut all = true;
    for_each_company(target.as_bytes(), |company| {
        all &= company.is_some_and(|company| companies.contains(&company));
    })
    .is_ok_and(|()| all)
}

/// The verdict on a verified caller whose reach is known.
fn judge(caller: &Caller, reachable: bool, scope: Option<&str>) -> Result<Caller, Rejection> {
    if !reachable {
        return Err(Rejection::OTHER_COMPANY);
    }
    if let Some(scope) = scope {
        caller.require_scope(scope)?;
    }
    Ok(caller.clone())
}

/// The token of an `Authorization: Bearer …` header, as latchkey reads it:
/// the scheme in any case, one space, the token between spaces or tabs.
/// Its bytes are not judged here: a token seen before must equal one that
/// verified, and a new one is parsed in full.
fn bearer_token(header: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = header.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = trim_blanks(rest.strip_prefix(b" ")?);
    (!token.is_empty()).then_some(token)
}

/// `bytes` without leading and trailing spaces and tabs.
fn trim_blanks(bytes: &[u8]) -> &[u8] {
    let blank = |b: &u8| matches!(b, b' ' | b'\t');
    let start = bytes.iter().position(|b| !blank(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !blank(b))
        .map_or(start, |last| last + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::{bearer_token, trim_blanks};
    use crate::halt::Halt;
    use crate::{Latchkey, Policy, Rejection};

    #[test]
    fn bearer_tokens_are_read_as_latchkey_reads_them() {
        assert_eq!(bearer_token(b"Bearer abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"bearer  abc \t"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"BEARER abc"), Some(&b"abc"[..]));
        assert_eq!(bearer_token(b"Basic abc"), None);
        assert_eq!(bearer_token(b"Bearerx abc"), None);
        assert_eq!(bearer_token(b"Bearer\tabc"), None);
        assert_eq!(bearer_token(b"Bearer "), None);
        assert_eq!(bearer_token(b"Bearer \t "), None);
        assert_eq!(bearer_token(b"Bearer"), None);
        assert_eq!(trim_blanks(b" \ta b\t "), b"a b");
    }

    #[test]
    fn a_token_that_is_not_text_is_refused_without_asking_latchkey() {
        // Nothing listens on port 9: a fetch would answer 503, not 401.
        let latchkey = Latchkey::builder("http://127.0.0.1:9").build().unwrap();
        for header in [
            &b"Bearer a\xffb"[..],
            b"Bearer a\x01.b.c",
            b"Bearer \xc3\xa9.b.c",
        ] {
            let checked = latchkey.check_request_now(Some(header), "/", Policy::Offline, None);
            assert!(
                matches!(checked, Err(Halt::Refused(Rejection::InvalidToken))),
                "{header:?}: {checked:?}"
            );
        }
    }
}
