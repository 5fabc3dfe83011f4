//! The companies a login token's user belongs to. A login token carries no
//! company, so on a company path latchkey is asked (`GET /api/v1/auth/me`,
//! with the token itself), and the answer is reused for a short while.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use moka::sync::Cache;
use serde::Deserialize;
use uuid::Uuid;

use crate::caller::Caller;
use crate::clock::Clock;
use crate::fetch::{FetchError, Http};
use crate::rejection::Rejection;
use crate::token::{Token, TokenKey, TokenKeyHasher};

#[derive(Deserialize)]
struct Me {
    companies: Vec<Company>,
}

#[derive(Deserialize)]
struct Company {
    id: Uuid,
}

#[derive(Clone)]
struct Answer {
    /// The token asked about: a hit for another token is a miss.
    token_id: Uuid,
    companies: Arc<[Uuid]>,
    checked_at: SystemTime,
}

pub(crate) struct Memberships {
    http: Http,
    url: String,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    answers: Cache<TokenKey, Answer, TokenKeyHasher>,
}

impl Memberships {
    pub fn new(
        http: Http,
        url: String,
        clock: Arc<dyn Clock>,
        ttl: Duration,
        capacity: u64,
    ) -> Self {
        Memberships {
            http,
            url,
            clock,
            ttl,
            answers: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build_with_hasher(TokenKeyHasher),
        }
    }

    /// The cached companies of this login token's user, if fresh.
    pub fn companies_now(&self, key: TokenKey, caller: &Caller) -> Option<Arc<[Uuid]>> {
        let now = self.clock.now();
        self.answers
            .get(&key)
            .filter(|answer| answer.token_id == caller.token_id)
            .filter(|answer| now.duration_since(answer.checked_at).unwrap_or_default() <= self.ttl)
            .map(|answer| answer.companies)
    }

    /// The companies of the user this login token was issued to.
    pub async fn companies(
        &self,
        token: &Token<'_>,
        caller: &Caller,
    ) -> Result<Arc<[Uuid]>, Rejection> {
        let key = token.key();
        if let Some(companies) = self.companies_now(key, caller) {
            return Ok(companies);
        }
        let now = self.clock.now();
        let request = self.http.client.get(&self.url).bearer_auth(token.text()?);
        let body = self.http.send(request).await.map_err(|e| match e {
            // latchkey no longer vouches for the token itself.
            FetchError::Status(401) => Rejection::InvalidToken,
            e => {
                tracing::warn!(error = %e, url = %self.url, "cannot read a user's companies; refusing with 503");
                Rejection::Unavailable
            }
        })?;
        let me: Me = serde_json::from_slice(&body).map_err(|_| {
            tracing::warn!(url = %self.url, "unreadable /me answer; refusing with 503");
            Rejection::Unavailable
        })?;
        let companies: Arc<[Uuid]> = me.companies.iter().map(|c| c.id).collect();
        self.answers.insert(
            key,
            Answer {
                token_id: caller.token_id,
                companies: companies.clone(),
                checked_at: now,
            },
        );
        Ok(companies)
    }
}
