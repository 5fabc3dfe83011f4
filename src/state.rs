//! `AppState`: what every request handler shares. A plain container of the
//! services and settings, built once at start.

use std::sync::Arc;

use crate::access::{AccessState, FollowerSettings, LogFollower};
use crate::clock::Clock;
use crate::domain::TrustedProxies;
use crate::monitoring::Metrics;
use crate::passwords::PasswordHasher;
use crate::services::sessions::SessionRules;
use crate::services::{
    Accounts, ApiKeyAdmin, ApiKeys, AuditLog, EventSink, ForwardAuth, Introspection, Monitoring,
    Operators, Readiness, ServiceClients, Sessions, TokenAuthenticator, TokenRevocation,
};
use crate::settings::Settings;
use crate::store::login_attempts::AccountLimit;
use crate::store::Store;
use crate::throttle::Throttle;
use crate::tokens::{
    crypto_provider, KeyRing, MasterKey, PageMac, TokenIssuer, TokenVerifier, VerifierSettings,
};
use crate::usage::KeyUsage;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub clock: Clock,
    pub store: Store,
    /// The signing keys; the JWKS is read from here.
    pub keys: Arc<KeyRing>,
    pub access: Arc<AccessState>,
    pub follower: Arc<LogFollower>,
    pub usage: Arc<KeyUsage>,
    pub throttle: Arc<Throttle>,
    pub issuer: Arc<TokenIssuer>,
    pub authenticator: TokenAuthenticator,
    pub sessions: Sessions,
    pub api_keys: ApiKeys,
    pub key_admin: ApiKeyAdmin,
    pub introspection: Introspection,
    pub forward_auth: ForwardAuth,
    pub revocation: TokenRevocation,
    pub accounts: Accounts,
    pub clients: ServiceClients,
    pub readiness: Readiness,
    /// Who may use the admin and provisioning API.
    pub operators: Operators,
    pub audit: AuditLog,
    /// Tags the browser pages' forms (CSRF tokens, reserved key ids).
    pub page_mac: PageMac,
    /// Whose forwarding headers name the client (`server.trusted_proxies`).
    pub trusted_proxies: TrustedProxies,
    pub metrics: Arc<Metrics>,
    pub monitoring: Monitoring,
}

impl AppState {
    /// Loads the keys and the access state from the database (migrated
    /// already), and wires every service. `store`'s clock is the clock of
    /// everything built here.
    pub async fn build(settings: Settings, store: Store) -> anyhow::Result<AppState> {
        crypto_provider::install();
        let clock = store.clock().clone();
        let master = MasterKey::load_or_create(&settings.secrets)?;
        let page_mac = PageMac::new(&master);
        let metrics = Arc::new(Metrics::new(settings.plans.keys().map(String::as_str)));
        let timing = settings.signing_key_timing();
        let keys = Arc::new(KeyRing::load(&store, master, timing).await?);
        let follower_settings = FollowerSettings {
            max_staleness: settings.revocation.max_staleness(),
            leeway: settings.tokens.leeway(),
            log_retention: settings.revocation_log_retention(),
        };
        let follower = LogFollower::load(
            store.clone(),
            keys.clone(),
            clock.clone(),
            follower_settings,
        );
        let follower = Arc::new(follower.await?);
        let access = follower.state();
        let events = EventSink::follower(follower.clone());
        let tokens = &settings.tokens;
        let issuer = Arc::new(TokenIssuer::new(
            keys.clone(),
            clock.clone(),
            settings.issuer.clone(),
            settings.audience.clone(),
            tokens.access_ttl(),
        ));
        let verifier = Arc::new(TokenVerifier::new(
            keys.clone(),
            clock.clone(),
            VerifierSettings {
                issuer: &settings.issuer,
                audience: &settings.audience,
                leeway: tokens.leeway(),
                access_ttl: tokens.access_ttl(),
                cache_capacity: tokens.verified_cache_capacity,
                cache_ttl: tokens.verified_cache_ttl(),
                cache_counters: metrics.verified_cache.clone(),
                max_token_bytes: tokens.max_token_bytes,
                path_counters: metrics.token_paths.clone(),
            },
        ));
        let usage = Arc::new(KeyUsage::new(clock.clone()));
        let authenticator = TokenAuthenticator::new(verifier, access.clone(), usage.clone());
        let passwords = Arc::new(PasswordHasher::new(&settings.passwords)?);
        let monitoring = Monitoring::new(
            metrics.clone(),
            access.clone(),
            follower.clone(),
            passwords.clone(),
            store.clone(),
            clock.clone(),
        );
        let throttle = Arc::new(Throttle::new(&settings.throttle));
        let key_admin =
            ApiKeyAdmin::new(store.clone(), events.clone(), usage.clone(), clock.clone());
        let settings = Arc::new(settings);
        let rules = SessionRules {
            refresh_ttl: settings.tokens.refresh_ttl(),
            session_lifetime: settings.tokens.session_lifetime(),
            per_client: throttle.clone(),
            per_account: AccountLimit {
                limit: settings.throttle.login_failures_per_account.get(),
                window_ms: settings.throttle.login_failure_window_ms(),
            },
        };
        let sessions = Sessions::new(
            store.clone(),
            rules,
            passwords,
            issuer.clone(),
            events.clone(),
            clock.clone(),
            metrics.clone(),
        );
        let revocation = TokenRevocation::new(
            authenticator.clone(),
            key_admin.clone(),
            store.clone(),
            events.clone(),
            throttle.clone(),
            issuer.access_ttl(),
        );
        let trusted_proxies = TrustedProxies::new(settings.server.trusted_proxies.clone());
        Ok(AppState {
            api_keys: ApiKeys::new(
                key_admin.clone(),
                issuer.clone(),
                throttle.clone(),
                settings.clone(),
            ),
            introspection: Introspection::new(
                access.clone(),
                authenticator.clone(),
                metrics.introspection.clone(),
            ),
            forward_auth: ForwardAuth::new(
                authenticator.clone(),
                access.clone(),
                metrics.forward_auth.clone(),
            ),
            accounts: Accounts::new(store.clone(), events.clone()),
            clients: ServiceClients::new(store.clone(), events),
            readiness: Readiness::new(store.clone(), access.clone()),
            operators: Operators::new(store.clone(), access.clone()),
            audit: AuditLog::new(store.clone()),
            settings,
            clock,
            store,
            keys,
            access,
            follower,
            usage,
            throttle,
            issuer,
            authenticator,
            sessions,
            key_admin,
            revocation,
            page_mac,
            trusted_proxies,
            metrics,
            monitoring,
        })
    }
}
