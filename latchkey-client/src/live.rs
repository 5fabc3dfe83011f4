//! Live confirmation by introspection (RFC 7662) with service-client
//! credentials, behind a short cache: an answer is reused for at most a few
//! seconds, a refusal for less. An answer's age counts from when the question
//! was sent, not when the answer came: latchkey vouched for the token as of
//! then. Anything but a clear answer from latchkey is `Unavailable`: a live
//! route fails closed.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use moka::sync::Cache;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;
use uuid::Uuid;

use crate::caller::{Caller, Scopes};
use crate::clock::Clock;
use crate::fetch::Http;
use crate::halt::{answered, Halt};
use crate::rejection::Rejection;
use crate::token::{Token, TokenKey, TokenKeyHasher};

/// A service client of latchkey (`latchkey client create`).
#[derive(Clone)]
pub(crate) struct Credentials {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Clone)]
struct Answer {
    /// The token asked about: a hit for another token is a miss.
    token_id: Uuid,
    active: bool,
    checked_at: SystemTime,
    /// How long the cache may hold it at all: the longest any policy reuses it.
    keep_for: Duration,
}

struct KeepFor;

impl moka::Expiry<TokenKey, Answer> for KeepFor {
    fn expire_after_create(&self, _: &TokenKey, answer: &Answer, _: Instant) -> Option<Duration> {
        Some(answer.keep_for)
    }

    fn expire_after_update(
        &self,
        _: &TokenKey,
        answer: &Answer,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(answer.keep_for)
    }
}

#[derive(Deserialize)]
struct Introspection {
    active: bool,
    sub: Option<Uuid>,
    jti: Option<Uuid>,
    company_id: Option<Uuid>,
    scope: Option<String>,
}

pub(crate) struct Introspector {
    http: Http,
    url: String,
    credentials: Credentials,
    clock: Arc<dyn Clock>,
    refusal_ttl: Duration,
    answers: Cache<TokenKey, Answer, TokenKeyHasher>,
}

impl Introspector {
    pub fn new(
        http: Http,
        url: String,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
        refusal_ttl: Duration,
        cache_capacity: u64,
    ) -> Self {
        Introspector {
            http,
            url,
            credentials,
            clock,
            refusal_ttl,
            answers: Cache::builder()
                .max_capacity(cache_capacity)
                .expire_after(KeepFor)
                .build_with_hasher(TokenKeyHasher),
        }
    }

    /// The cached answer on this (offline-verified) token, if one at most
    /// `max_age` old (a refusal: less) is held; else `Halt::Wait`.
    pub fn confirm_now(
        &self,
        key: TokenKey,
        caller: &Caller,
        max_age: Duration,
    ) -> Result<(), Halt> {
        let answer = self
            .answers
            .get(&key)
            .filter(|answer| answer.token_id == caller.token_id)
            .ok_or(Halt::Wait)?;
        let age = self
            .clock
            .now()
            .duration_since(answer.checked_at)
            .unwrap_or_default();
        match answer.active {
            true if age <= max_age => Ok(()),
            false if age <= self.refusal_ttl.min(max_age) => Err(Rejection::InvalidToken.into()),
            _ => Err(Halt::Wait),
        }
    }

    /// Whether latchkey still vouches for this (offline-verified) token, by
    /// an answer at most `max_age` old: the cached one, or latchkey's own.
    pub async fn confirm(
        &self,
        token: &Token<'_>,
        caller: &Caller,
        max_age: Duration,
    ) -> Result<(), Rejection> {
        let key = token.key();
        if let Some(()) = answered(self.confirm_now(key, caller, max_age))? {
            return Ok(());
        }
        let asked_at = self.clock.now();
        let active = self.ask(token.text()?).await?.is_some_and(|answer| {
            answer.sub == Some(caller.subject)
                && answer.jti == Some(caller.token_id)
                && answer.company_id == caller.company_id
                && same_scopes(answer.scope.as_deref(), &caller.scopes)
        });
        // A refusal is kept for less than an acceptance, so a key created a
        // moment ago on another replica is not refused for long.
        let keep_for = if active {
            max_age
        } else {
            self.refusal_ttl.min(max_age)
        };
        self.answers.insert(
            key,
            Answer {
                token_id: caller.token_id,
                active,
                checked_at: asked_at,
                keep_for,
            },
        );
        if active {
            Ok(())
        } else {
            Err(Rejection::InvalidToken)
        }
    }

    /// latchkey's answer when the token is active, `None` when it is not.
    /// (The clock is read before this is called.)
    async fn ask(&self, token: &str) -> Result<Option<Introspection>, Rejection> {
        // RFC 6749 §2.3.1: each part form-encoded before Basic encoding.
        let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let request = self
            .http
            .client
            .post(&self.url)
            .basic_auth(
                encode(&self.credentials.client_id),
                Some(encode(&self.credentials.client_secret)),
            )
            .form(&[("token", token)]);
        let body = self.http.send(request).await.map_err(|e| {
            tracing::warn!(error = %e, url = %self.url, "introspection failed; refusing with 503");
            Rejection::Unavailable
        })?;
        let answer: Introspection = serde_json::from_slice(&body).map_err(|_| {
            tracing::warn!(url = %self.url, "introspection answer unreadable; refusing with 503");
            Rejection::Unavailable
        })?;
        Ok(answer.active.then_some(answer))
    }
}

/// Whether latchkey's `scope` is the token's: a key created with scopes
/// always carries them, so a token without them that latchkey says has them
/// (or the other way round) is refused rather than given full rights.
fn same_scopes(introspected: Option<&str>, token: &Scopes) -> bool {
    match introspected {
        None => token.is_unrestricted(),
        Some(scope) => Scopes::parse(scope).is_ok_and(|scopes| &scopes == token),
    }
}

#[cfg(test)]
mod tests {
    use super::same_scopes;
    use crate::caller::Scopes;

    #[test]
    fn the_introspected_scope_must_be_the_tokens() {
        let reader = Scopes::parse("datasets:read").unwrap();
        assert!(same_scopes(None, &Scopes::unrestricted()));
        assert!(same_scopes(Some("datasets:read"), &reader));
        assert!(!same_scopes(Some("datasets:read"), &Scopes::unrestricted()));
        assert!(!same_scopes(None, &reader));
        assert!(!same_scopes(Some("datasets:read datasets:write"), &reader));
        assert!(!same_scopes(Some(""), &Scopes::unrestricted()));
    }
}
