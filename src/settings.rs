//! Typed settings: compiled-in defaults < `config/$LATCHKEY_ENV.toml` < `LATCHKEY_*` env.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;

/// The documented defaults, compiled in so the binary runs from any directory.
pub const DEFAULTS_TOML: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub issuer: String,
    pub audience: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub tokens: TokenSettings,
    pub passwords: PasswordSettings,
    pub secrets: SecretSettings,
    pub revocation: RevocationSettings,
    pub api_keys: ApiKeySettings,
    pub throttle: ThrottleSettings,
    pub metrics: MetricsSettings,
    pub signing_keys: SigningKeySettings,
    pub plans: HashMap<String, PlanSettings>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub max_body_bytes: usize,
    /// Header lines one request may carry.
    pub max_headers: usize,
    /// Bytes of header lines (`name: value\r\n`) one request may carry.
    pub max_header_bytes: usize,
    /// How long a client has to send a request's head once connected.
    pub client_request_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_seconds: u64,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed.
    pub trusted_proxies: Vec<crate::domain::Cidr>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TokenSettings {
    pub access_ttl_seconds: u64,
    pub refresh_ttl_seconds: u64,
    pub session_max_lifetime_seconds: u64,
    pub leeway_seconds: u64,
    /// Longest token parsed at all; longer ones are refused unread.
    pub max_token_bytes: usize,
    pub verified_cache_capacity: u64,
    pub verified_cache_ttl_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PasswordSettings {
    pub max_concurrent_hashes: usize,
    pub max_queued_hashes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SecretSettings {
    pub master_key: SecretString,
    pub master_key_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RevocationSettings {
    pub poll_interval_ms: u64,
    pub max_staleness_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApiKeySettings {
    pub last_used_flush_seconds: u64,
    /// The scopes a key may be created with; a key with none has its
    /// creator's full rights.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SigningKeySettings {
    /// Rotate the signing key once it is this many days old; 0: never.
    pub rotate_every_days: u64,
    /// How long a new signing key is published in the JWKS before it signs;
    /// the key it replaces signs meanwhile. 0: it signs at once.
    pub publish_ahead_seconds: u64,
}

/// `GET /metrics`: whether it is served, and where.
#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// A port of its own (bound on `server.host`); None: the main port.
    #[serde(default)]
    pub port: Option<u16>,
}

/// Rate limits: per user, per client IP, and per account.
#[derive(Debug, Clone, Deserialize)]
pub struct ThrottleSettings {
    /// API keys a user may create per minute, on average.
    pub key_creations_per_minute: NonZeroU32,
    /// How many a user may create at once before the rate applies.
    pub key_creation_burst: NonZeroU32,
    /// Login attempts one client IP may make per minute (also the burst).
    pub logins_per_ip_per_minute: NonZeroU32,
    /// Refreshes one client IP may make per minute (also the burst).
    pub refreshes_per_ip_per_minute: NonZeroU32,
    /// RFC 7009 revocations one client IP may make per minute (also the burst).
    pub revocations_per_ip_per_minute: NonZeroU32,
    /// Failed logins one account may take in a window, from any replica.
    pub login_failures_per_account: NonZeroU32,
    /// That window, in seconds, counted from its first failure.
    pub login_failure_window_seconds: NonZeroU32,
}

impl ThrottleSettings {
    pub fn login_failure_window_ms(&self) -> i64 {
        i64::from(self.login_failure_window_seconds.get()) * 1000
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlanSettings {
    pub api_keys: bool,
    /// 0 means unlimited.
    pub max_active_keys: u64,
    pub max_lifetime_days: u64,
}

impl Settings {
    /// Loads the layered settings and checks them, naming any bad setting.
    pub fn load() -> anyhow::Result<Self> {
        let env = std::env::var("LATCHKEY_ENV").ok();
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULTS_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(env) = env.as_deref().filter(|e| !e.is_empty()) {
            builder = builder
                .add_source(config::File::with_name(&format!("config/{env}")).required(false));
        }
        let settings: Settings = builder
            .add_source(
                config::Environment::with_prefix("LATCHKEY")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies")
                    // LATCHKEY_API_KEYS__SCOPES="datasets:read,billing:read"
                    .with_list_parse_key("api_keys.scopes"),
            )
            .build()
            .context("could not read settings")?
            .try_deserialize()
            .context("invalid setting")?;
        settings.validate()?;
        Ok(settings)
    }

    /// The compiled-in defaults alone; tests start from these.
    pub fn defaults() -> Self {
        config::Config::builder()
            .add_source(config::File::from_str(
                DEFAULTS_TOML,
                config::FileFormat::Toml,
            ))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("the compiled-in default settings are valid")
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        use secrecy::ExposeSecret;
        let url = self.database.url.expose_secret();
        anyhow::ensure!(
            url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"),
            "invalid setting database.url: expected sqlite:… or postgres://…"
        );
        anyhow::ensure!(
            !self.issuer.trim().is_empty(),
            "invalid setting issuer: must not be empty"
        );
        anyhow::ensure!(
            !self.audience.trim().is_empty(),
            "invalid setting audience: must not be empty"
        );
        anyhow::ensure!(
            self.tokens.access_ttl_seconds > 0,
            "invalid setting tokens.access_ttl_seconds: must be at least 1"
        );
        anyhow::ensure!(
            self.passwords.max_concurrent_hashes <= crate::passwords::MAX_CONCURRENT_HASHES,
            "invalid setting passwords.max_concurrent_hashes: at most {} (each hash holds 19 MiB)",
            crate::passwords::MAX_CONCURRENT_HASHES
        );
        let server = &self.server;
        anyhow::ensure!(
            (1..=96).contains(&server.max_headers),
            "invalid setting server.max_headers: from 1 to 96 (actix-http's own ceiling)"
        );
        anyhow::ensure!(
            (1024..=32_768).contains(&server.max_header_bytes),
            "invalid setting server.max_header_bytes: from 1024 to 32768 (actix-http's own ceiling)"
        );
        anyhow::ensure!(
            (1..=600_000).contains(&server.client_request_timeout_ms),
            "invalid setting server.client_request_timeout_ms: from 1 to 600000"
        );
        anyhow::ensure!(
            server.keep_alive_seconds <= 3600,
            "invalid setting server.keep_alive_seconds: at most 3600 (0 turns keep-alive off)"
        );
        anyhow::ensure!(
            self.tokens.refresh_ttl_seconds > 0,
            "invalid setting tokens.refresh_ttl_seconds: must be at least 1"
        );
        anyhow::ensure!(
            (256..=16_384).contains(&self.tokens.max_token_bytes),
            "invalid setting tokens.max_token_bytes: from 256 to 16384"
        );
        anyhow::ensure!(
            (1..=366 * 86_400).contains(&self.tokens.session_max_lifetime_seconds),
            "invalid setting tokens.session_max_lifetime_seconds: from 1 second to a year"
        );
        anyhow::ensure!(
            self.database.max_connections > 0,
            "invalid setting database.max_connections: must be at least 1"
        );
        anyhow::ensure!(
            self.revocation.poll_interval_ms > 0,
            "invalid setting revocation.poll_interval_ms: must be at least 1"
        );
        anyhow::ensure!(
            self.revocation.max_staleness_seconds.saturating_mul(1000) > self.revocation.poll_interval_ms,
            "invalid setting revocation.max_staleness_seconds: must exceed revocation.poll_interval_ms"
        );
        anyhow::ensure!(
            self.api_keys.last_used_flush_seconds > 0,
            "invalid setting api_keys.last_used_flush_seconds: must be at least 1"
        );
        for (i, scope) in self.api_keys.scopes.iter().enumerate() {
            anyhow::ensure!(
                crate::domain::is_scope_token(scope),
                "invalid setting api_keys.scopes: {scope:?} is not a scope (1-64 printable ASCII characters, no space, quote or backslash)"
            );
            anyhow::ensure!(
                !self.api_keys.scopes[..i].contains(scope),
                "invalid setting api_keys.scopes: {scope:?} is listed twice"
            );
        }
        anyhow::ensure!(
            self.tokens.access_ttl_seconds <= 86_400,
            "invalid setting tokens.access_ttl_seconds: at most 86400 (a day); use API keys for long-lived access"
        );
        anyhow::ensure!(
            self.tokens.refresh_ttl_seconds <= 366 * 86_400,
            "invalid setting tokens.refresh_ttl_seconds: at most a year"
        );
        anyhow::ensure!(
            self.tokens.leeway_seconds <= 300,
            "invalid setting tokens.leeway_seconds: at most 300"
        );
        anyhow::ensure!(
            self.revocation.max_staleness_seconds <= 86_400,
            "invalid setting revocation.max_staleness_seconds: at most 86400"
        );
        anyhow::ensure!(
            self.signing_keys.rotate_every_days <= 3660,
            "invalid setting signing_keys.rotate_every_days: at most 3660 (ten years)"
        );
        anyhow::ensure!(
            self.signing_keys.publish_ahead_seconds <= 86_400,
            "invalid setting signing_keys.publish_ahead_seconds: at most 86400 (a day)"
        );
        for (name, plan) in &self.plans {
            anyhow::ensure!(
                plan.max_lifetime_days <= 3660,
                "invalid setting plans.{name}.max_lifetime_days: at most 3660 (ten years)"
            );
            anyhow::ensure!(
                !plan.api_keys || plan.max_lifetime_days > 0,
                "invalid setting plans.{name}.max_lifetime_days: must be at least 1 when api_keys = true"
            );
        }
        if !self.secrets.master_key.expose_secret().is_empty() {
            crate::tokens::MasterKey::from_base64(self.secrets.master_key.expose_secret())
                .context("invalid setting secrets.master_key")?;
        }
        Ok(())
    }

    pub fn plan(&self, name: &str) -> Option<&PlanSettings> {
        self.plans.get(name)
    }

    /// The longest lifetime any plan gives an API key.
    pub fn longest_key_lifetime(&self) -> chrono::Duration {
        let days = self
            .plans
            .values()
            .map(|p| p.max_lifetime_days)
            .max()
            .unwrap_or(0);
        seconds(days.saturating_mul(86_400))
    }

    /// How long revocation events are kept: the longest lifetime of any
    /// token (login, refresh or API key), plus leeway.
    pub fn revocation_log_retention(&self) -> chrono::Duration {
        let tokens = &self.tokens;
        let longest = tokens
            .access_ttl()
            .max(tokens.refresh_ttl())
            .max(self.longest_key_lifetime());
        longest + tokens.leeway()
    }

    /// A retired signing key verifies for as long as any token it signed may
    /// live: the longest of a login token and an API key, plus leeway, plus
    /// the time it may still sign after it is retired (`publish_ahead`).
    pub fn signing_key_verify_grace(&self) -> chrono::Duration {
        let tokens = &self.tokens;
        tokens.access_ttl().max(self.longest_key_lifetime())
            + tokens.leeway()
            + self.signing_keys.publish_ahead()
    }

    /// How long signing keys publish ahead and verify after.
    pub fn signing_key_timing(&self) -> crate::tokens::KeyTiming {
        crate::tokens::KeyTiming {
            verify_grace: self.signing_key_verify_grace(),
            publish_ahead: self.signing_keys.publish_ahead(),
        }
    }
}

/// The one conversion of a `u64` number of seconds from the settings into a
/// `chrono::Duration`, saturating where chrono's range ends (validated
/// settings never come near it).
pub fn seconds(seconds: u64) -> chrono::Duration {
    const MAX_SECONDS: i64 = i64::MAX / 1000;
    chrono::Duration::seconds(i64::try_from(seconds).map_or(MAX_SECONDS, |s| s.min(MAX_SECONDS)))
}

impl ServerSettings {
    pub fn client_request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.client_request_timeout_ms)
    }

    /// Keep-alive for idle connections; 0 closes each after its response.
    pub fn keep_alive(&self) -> actix_web::http::KeepAlive {
        match self.keep_alive_seconds {
            0 => actix_web::http::KeepAlive::Disabled,
            s => actix_web::http::KeepAlive::Timeout(std::time::Duration::from_secs(s)),
        }
    }
}

impl TokenSettings {
    pub fn access_ttl(&self) -> chrono::Duration {
        seconds(self.access_ttl_seconds)
    }

    pub fn refresh_ttl(&self) -> chrono::Duration {
        seconds(self.refresh_ttl_seconds)
    }

    pub fn session_lifetime(&self) -> chrono::Duration {
        seconds(self.session_max_lifetime_seconds)
    }

    pub fn leeway(&self) -> chrono::Duration {
        seconds(self.leeway_seconds)
    }

    pub fn verified_cache_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.verified_cache_ttl_seconds)
    }
}

impl RevocationSettings {
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.poll_interval_ms)
    }

    pub fn max_staleness(&self) -> chrono::Duration {
        seconds(self.max_staleness_seconds)
    }
}

impl ApiKeySettings {
    pub fn last_used_flush_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.last_used_flush_seconds)
    }
}

impl SigningKeySettings {
    /// None: automatic rotation is off.
    pub fn rotation_interval(&self) -> Option<chrono::Duration> {
        (self.rotate_every_days > 0).then(|| seconds(self.rotate_every_days.saturating_mul(86_400)))
    }

    pub fn publish_ahead(&self) -> chrono::Duration {
        seconds(self.publish_ahead_seconds)
    }
}

impl PlanSettings {
    pub fn max_lifetime(&self) -> chrono::Duration {
        seconds(self.max_lifetime_days.saturating_mul(86_400))
    }

    /// None: unlimited.
    pub fn active_key_limit(&self) -> Option<u64> {
        (self.max_active_keys > 0).then_some(self.max_active_keys)
    }
}

#[cfg(test)]
mod tests {
    use super::{seconds, Settings};

    #[test]
    fn durations_saturate_instead_of_panicking() {
        assert_eq!(seconds(90), chrono::Duration::seconds(90));
        assert_eq!(seconds(u64::MAX), seconds(i64::MAX as u64));
    }

    #[test]
    fn retention_and_grace_cover_the_longest_token_plus_leeway() {
        let settings = Settings::defaults();
        let leeway = settings.tokens.leeway();
        let year = settings.longest_key_lifetime();
        assert_eq!(settings.signing_key_verify_grace(), year + leeway);
        assert!(settings.revocation_log_retention() >= year + leeway);
    }
}
