//! `LatchkeyBuilder`: the settings of a `Latchkey`, checked once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::client::{Inner, Latchkey, Policy};
use crate::clock::{Clock, SystemClock};
use crate::fetch::Http;
use crate::jwks::{Jwks, JwksSettings};
#[cfg(feature = "live")]
use crate::live::{Credentials, Introspector};
use crate::memberships::Memberships;
use crate::offline::{OfflineSettings, OfflineVerifier};
use crate::token::TokenKeys;
pub use crate::verified_cache::MAX_CAPACITY as MAX_VERIFIED_CACHE;

/// A setting `build` refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError(String);

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "latchkey-client: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

/// Settings for a [`Latchkey`]; every one has a sensible default.
pub struct LatchkeyBuilder {
    base_url: String,
    issuer: Option<String>,
    audience: String,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    http_client: Option<reqwest::Client>,
    timeout: Duration,
    jwks_max_age: Duration,
    jwks_min_interval: Duration,
    verified_cache_capacity: u64,
    verified_cache_ttl: Duration,
    default_policy: Policy,
    membership_ttl: Duration,
    #[cfg(feature = "live")]
    credentials: Option<Credentials>,
    #[cfg(feature = "live")]
    introspection_ttl: Duration,
    #[cfg(feature = "live")]
    refusal_ttl: Duration,
}

/// The longest an introspection answer may be reused by [`Policy::Live`].
#[cfg(feature = "live")]
pub const MAX_INTROSPECTION_TTL: Duration = Duration::from_secs(10);

impl LatchkeyBuilder {
    pub(crate) fn new(base_url: String) -> Self {
        LatchkeyBuilder {
            base_url: base_url.trim_end_matches('/').to_owned(),
            issuer: None,
            audience: "latchkey".to_owned(),
            leeway: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
            http_client: None,
            timeout: Duration::from_secs(2),
            jwks_max_age: Duration::from_secs(60),
            jwks_min_interval: Duration::from_secs(5),
            verified_cache_capacity: 10_000,
            verified_cache_ttl: Duration::from_secs(600),
            default_policy: Policy::Offline,
            membership_ttl: Duration::from_secs(10),
            #[cfg(feature = "live")]
            credentials: None,
            #[cfg(feature = "live")]
            introspection_ttl: Duration::from_secs(2),
            #[cfg(feature = "live")]
            refusal_ttl: Duration::from_secs(1),
        }
    }

    /// The `iss` latchkey signs (its `issuer` setting). Default: the base URL.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The `aud` latchkey signs (its `audience` setting). Default: `latchkey`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Clock skew tolerated on `exp` and `nbf`. Default: 30 s, as latchkey.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The clock every check reads. Default: [`SystemClock`].
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The HTTP client to reach latchkey with, e.g. one with your TLS set-up.
    /// Default: a plain `reqwest::Client`.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The longest any call to latchkey may take. Default: 2 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How old the cached JWKS may grow before it is fetched again, which is
    /// how a key rotated out of it stops verifying here. Default: 60 s.
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// The least time between two JWKS fetches, whatever `kid`s tokens name.
    /// Default: 5 s.
    pub fn jwks_min_interval(mut self, interval: Duration) -> Self {
        self.jwks_min_interval = interval;
        self
    }

    /// How many verified tokens are remembered (by a keyed hash of their
    /// signature, with their claims), and how long, so their signature is
    /// not checked again. Default: 10,000 for 10 minutes. The room is taken
    /// when the handle is built, about 36 bytes a token; more than
    /// [`MAX_VERIFIED_CACHE`] tokens is refused by `build`. A zero capacity or
    /// TTL caches nothing.
    pub fn verified_cache(mut self, capacity: u64, ttl: Duration) -> Self {
        self.verified_cache_capacity = capacity;
        self.verified_cache_ttl = ttl;
        self
    }

    /// The policy of the bare [`Caller`] extractor. Default: [`Policy::Offline`].
    pub fn default_policy(mut self, policy: Policy) -> Self {
        self.default_policy = policy;
        self
    }

    /// How long the companies of a login token's user, asked of latchkey on
    /// a company path, are reused. Default: 10 s.
    pub fn membership_ttl(mut self, ttl: Duration) -> Self {
        self.membership_ttl = ttl;
        self
    }

    /// A service client of latchkey (`latchkey client create`), needed by
    /// the live policies.
    #[cfg(feature = "live")]
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Credentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        });
        self
    }

    /// How long [`Policy::Live`] reuses an introspection answer (at most
    /// [`MAX_INTROSPECTION_TTL`]), and how long any policy reuses a refusal
    /// (at most `active`). Default: 2 s and 1 s.
    #[cfg(feature = "live")]
    pub fn introspection_ttl(mut self, active: Duration, refusal: Duration) -> Self {
        self.introspection_ttl = active;
        self.refusal_ttl = refusal;
        self
    }

    pub fn build(self) -> Result<Latchkey, BuildError> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(BuildError(format!(
                "the base URL must start with http:// or https://, not {:?}",
                self.base_url
            )));
        }
        if self.verified_cache_capacity > MAX_VERIFIED_CACHE {
            return Err(BuildError(format!(
                "the verified cache holds at most {MAX_VERIFIED_CACHE} tokens"
            )));
        }
        #[cfg(feature = "live")]
        {
            if self.introspection_ttl > MAX_INTROSPECTION_TTL {
                return Err(BuildError(
                    "introspection answers may be reused for 10 s at most".to_owned(),
                ));
            }
            if self.refusal_ttl > self.introspection_ttl {
                return Err(BuildError(
                    "refusals may not be reused longer than answers".to_owned(),
                ));
            }
        }
        self.assert_policy_supported()?;
        let client = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.timeout)
                .build()
                .map_err(|e| BuildError(format!("cannot build an HTTP client: {e}")))?,
        };
        let http = Http {
            client,
            timeout: self.timeout,
        };
        let jwks = Jwks::new(
            http.clone(),
            format!("{}/.well-known/jwks.json", self.base_url),
            self.clock.clone(),
            JwksSettings {
                max_age: self.jwks_max_age,
                min_interval: self.jwks_min_interval,
            },
        );
        let offline = OfflineVerifier::new(
            jwks,
            self.clock.clone(),
            OfflineSettings {
                issuer: self.issuer.unwrap_or_else(|| self.base_url.clone()),
                audience: self.audience,
                leeway: self.leeway,
                cache_capacity: self.verified_cache_capacity,
                cache_ttl: self.verified_cache_ttl,
            },
        );
        let memberships = Memberships::new(
            http.clone(),
            format!("{}/api/v1/auth/me", self.base_url),
            self.clock.clone(),
            self.membership_ttl,
            self.verified_cache_capacity,
        );
        Ok(Latchkey::new(Inner {
            token_keys: TokenKeys::new()
                .map_err(|_| BuildError("the system's random source failed".to_owned()))?,
            offline,
            memberships,
            #[cfg(feature = "live")]
            live: self.credentials.map(|credentials| {
                Introspector::new(
                    http,
                    format!("{}/api/v1/introspect", self.base_url),
                    credentials,
                    self.clock,
                    self.refusal_ttl,
                    self.verified_cache_capacity,
                )
            }),
            #[cfg(feature = "live")]
            introspection_ttl: self.introspection_ttl,
            default_policy: self.default_policy,
        }))
    }

    fn assert_policy_supported(&self) -> Result<(), BuildError> {
        #[cfg(feature = "live")]
        if self.default_policy != Policy::Offline && self.credentials.is_none() {
            return Err(BuildError(format!(
                "the default policy {:?} needs client_credentials",
                self.default_policy
            )));
        }
        Ok(())
    }
}

impl fmt::Debug for LatchkeyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the client secret.
        f.debug_struct("LatchkeyBuilder")
            .field("base_url", &self.base_url)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}
